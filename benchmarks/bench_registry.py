"""Registry latency: pull from a warm cache (goal < 50 ms) and list over 10,000 learners (goal < 100 ms).

Import time is measured separately, in fresh interpreters. The 10,000-learner store is made of real git
repositories: 100 learners published through `registry.publish` (100 corpora), each copied into 100
organisations (the copies are byte-identical repositories, as a mirror would hold).

    .venv/bin/python benchmarks/bench_registry.py [--learners 10000] [--repeats 30]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import torch  # noqa: E402

import registry  # noqa: E402
from registry import constants as store_constants  # noqa: E402
from model_helpers import make_tiny_gpt2, synthetic_documents, train_tokenizer  # noqa: E402
from registry_helpers import make_learner_folder  # noqa: E402

SEED = 0


def timed(function, repeats: int) -> dict:
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        samples.append((time.perf_counter() - started) * 1000)
    return {"median_ms": round(statistics.median(samples), 2), "min_ms": round(min(samples), 2),
            "max_ms": round(max(samples), 2), "repeats": repeats}


def import_time(statement: str, repeats: int = 3) -> dict:
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", statement], check=True, cwd=ROOT)
        samples.append((time.perf_counter() - started) * 1000)
    return {"statement": statement, "median_ms": round(statistics.median(samples), 1), "repeats": repeats,
            "note": "a fresh interpreter, start-up included"}


def bench_pull(work: Path, model, tokenizer, repeats: int) -> dict:
    store, cache = work / "pull-store", work / "pull-cache"
    for version in ("1.0.0", "1.1.0", "2.0.0"):
        registry.publish(make_learner_folder(work / f"learner-{version}", model, tokenizer, seed=SEED),
                         version=version, store=store)
    request = dict(base_model="tiny/gpt2", store=store, cache_dir=cache)
    started = time.perf_counter()
    registry.pull("kjv", **request, model=model, tokenizer=tokenizer)
    cold = (time.perf_counter() - started) * 1000
    return {"cold_pull_ms": round(cold, 2),
            "warm_pull_attached": timed(lambda: registry.pull("kjv", **request, model=model, tokenizer=tokenizer),
                                        repeats),
            "warm_pull_spec": timed(lambda: registry.pull("kjv", **request, version=">=1,<2"), repeats),
            "warm_download_only": timed(lambda: registry.download("kjv", **request), repeats)}


def build_large_store(work: Path, model, tokenizer, learners: int) -> Path:
    store = work / "large-store"
    templates = min(100, learners)
    for i in range(templates):
        folder = make_learner_folder(work / f"t{i}", model, tokenizer, corpus=f"corpus-{i:03d}", seed=i)
        registry.publish(folder, version="1.0.0", store=store, org="org-000")
    source = store / "models" / "org-000"
    for org in range(1, (learners + templates - 1) // templates):
        shutil.copytree(source, store / "models" / f"org-{org:03d}")
    shutil.rmtree(store / ".learnerhub")
    return store


def bench_list(work: Path, model, tokenizer, learners: int, repeats: int) -> dict:
    started = time.perf_counter()
    store = build_large_store(work, model, tokenizer, learners)
    built = time.perf_counter() - started
    started = time.perf_counter()
    everything = registry.list_learners(store=store)  # no index: rebuilt from the repositories
    rebuild = time.perf_counter() - started
    assert len(everything) == learners, len(everything)
    result = {"learners": len(everything), "store_build_s": round(built, 1), "index_rebuild_s": round(rebuild, 2),
              "list_all": timed(lambda: registry.list_learners(store=store), repeats),
              "list_corpus_filter": timed(lambda: registry.list_learners(store=store, corpus="corpus-042"), repeats),
              "list_wildcard_filter": timed(lambda: registry.list_learners(store=store, corpus="corpus-04*"), repeats),
              "list_refresh_all_refs": timed(lambda: registry.list_learners(store=store, refresh=True), 3)}
    folder = make_learner_folder(work / "extra", model, tokenizer, corpus="corpus-007", seed=7)
    registry.publish(folder, version="1.1.0", store=store, org="org-050")
    started = time.perf_counter()
    listed = registry.list_learners(store=store, corpus="corpus-007", org="org-050")
    result["list_after_a_publish_ms"] = round((time.perf_counter() - started) * 1000, 1)
    assert listed[0].latest == "1.1.0"
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--learners", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "registry.json"))
    args = parser.parse_args()
    tokenizer = train_tokenizer(synthetic_documents(seed=SEED))
    model = make_tiny_gpt2(tokenizer, seed=SEED)
    with tempfile.TemporaryDirectory(prefix="bench-registry-") as work:
        store_constants.LEARNERHUB_HOME = Path(work) / "home"  # nothing lands in the user's cache
        pull = bench_pull(Path(work), model, tokenizer, args.repeats)
        listing = bench_list(Path(work), model, tokenizer, args.learners, args.repeats)
    results = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cores": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "torch": torch.__version__, "git": subprocess.run(["git", "--version"], capture_output=True,
                                                                       text=True).stdout.strip()},
        "seed": SEED,
        "import": {"registry": import_time("import registry"),
                   "registry_and_learner_loading": import_time("import registry, learners.loading")},
        "pull": pull, "list": listing,
        "goals": {"warm_pull_ms": 50, "list_10k_ms": 100,
                  "warm_pull_met": pull["warm_pull_attached"]["median_ms"] < 50,
                  "list_met": listing["list_all"]["median_ms"] < 100},
        "notes": "Tiny learners (837 parameters).",
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
