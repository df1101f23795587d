"""R5's corpora, made from public text already on this machine (nothing from the network).

R5 is the realistic regime of issue 18: a target with a minority sub-domain, a pool holding the
target's other documents, *near-domain* off-target text and unrelated text.
- target, majority: the Python 3.11 documentation sources, reStructuredText (../shared, pydocs);
- target, minority sub-domain (~10% of the target's characters): the same project in another format,
  the Python standard library's own modules (source code with docstrings), from this interpreter's
  stdlib folder (PSF licence);
- near-domain off-target: another project's reStructuredText documentation, CMake's manual
  (`/usr/share/cmake-*/Help`, Debian package cmake-data, BSD-3-Clause);
- unrelated: the King James Bible (../shared, kjv).
The Linux kernel documentation is reserved for outside checks and is not used.

Writes one JSONL.gz file per part and a manifest (files, documents, characters, sources, licences).

    python benchmarks/realistic_corpora.py --out .runs/r5
"""

from __future__ import annotations

import argparse
import glob
import gzip
import json
import random
import sys
import sysconfig
from pathlib import Path

MIN_CHARACTERS = 200        # the shared corpora's rule: shorter documents were dropped
MAX_CODE_CHARACTERS = 30000  # one module a document, cut so a few huge modules do not make the sub-domain


def stdlib_modules(target_characters: int, seed: int) -> list[dict]:
    """Top-level stdlib modules in a seeded order until `target_characters` are reached."""
    folder = Path(sysconfig.get_paths()["stdlib"])
    paths = sorted(p for p in folder.glob("*.py") if not p.name.startswith(("test", "_")))
    random.Random(seed).shuffle(paths)
    records, total = [], 0
    for path in paths:
        text = path.read_text(encoding="utf-8", errors="replace")[:MAX_CODE_CHARACTERS]
        if len(text) < MIN_CHARACTERS:
            continue
        records.append({"id": f"stdlib/{path.name}", "text": text})
        total += len(text)
        if total >= target_characters:
            break
    return records


def cmake_manual() -> list[dict]:
    """Every page of the CMake manual's reStructuredText sources on this machine."""
    paths = sorted(glob.glob("/usr/share/cmake-*/Help/**/*.rst", recursive=True))
    records = []
    for path in paths:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
        if len(text) >= MIN_CHARACTERS:
            records.append({"id": "cmake/" + path.split("/Help/", 1)[1], "text": text})
    return records


def write(records: list[dict], path: Path) -> dict:
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return {"file": path.name, "documents": len(records), "characters": sum(len(r["text"]) for r in records)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=".runs/r5")
    parser.add_argument("--pydocs", default="../shared/corpora/pydocs.jsonl.gz")
    parser.add_argument("--minority-share", type=float, default=0.1, help="Sub-domain share of target characters.")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with gzip.open(args.pydocs, "rt", encoding="utf-8") as handle:
        majority = sum(len(json.loads(line)["text"]) for line in handle)
    minority_characters = round(majority * args.minority_share / (1 - args.minority_share))
    code = stdlib_modules(minority_characters, args.seed)
    near = cmake_manual()
    if not code or not near:
        print("error: the stdlib folder or /usr/share/cmake-*/Help (Debian package cmake-data) is missing; "
              "R5 needs both", file=sys.stderr)
        return 2
    manifest = {
        "command": " ".join(["python", *sys.argv]),
        "parts": {
            "target_majority": {"file": str(Path(args.pydocs).resolve()), "characters": majority,
                                "source": "Python 3.11 documentation sources (Debian python3.11-doc)",
                                "licence": "PSF-2.0"},
            "target_minority": {**write(code, out / "stdlib_code.jsonl.gz"),
                                "source": f"Python {sys.version.split()[0]} standard library modules "
                                          f"({sysconfig.get_paths()['stdlib']})", "licence": "PSF-2.0"},
            "near_domain": {**write(near, out / "cmake_docs.jsonl.gz"),
                            "source": "CMake manual, reStructuredText (Debian cmake-data)",
                            "licence": "BSD-3-Clause"},
            "unrelated": {"file": str((Path(args.pydocs).parent / "kjv.jsonl.gz").resolve()),
                          "source": "King James Bible (Debian bible-kjv-text)", "licence": "public domain"}}}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    print(json.dumps(manifest, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
