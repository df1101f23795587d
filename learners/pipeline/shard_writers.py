"""Write the documents of a shard that a filter kept, in the shard's own format.

Why: a filtered corpus should be a drop-in for the original: JSONL lines are written back byte for
byte (every field kept), text blocks as blank-line-separated text, the files of a folder copied. The
output appears only once complete (written beside it, then renamed). `datasets` files are refused
up front with one line, since rewriting them would change their schema handling.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from cards.format.errors import UsageError

from ..corpora.shard_reader import DATASET, JSONL, TEXT, TEXT_FOLDER, ShardBatch, open_text, shard_format

WRITABLE_FORMATS = (JSONL, TEXT, TEXT_FOLDER)


def check_writable(shard: str | Path) -> None:
    """Raise `UsageError` before any work when the kept documents of `shard` could not be written."""
    if shard_format(Path(shard)) == DATASET:
        raise UsageError(f"learnerhub filter cannot write {Path(shard).name} back as a dataset; it writes JSONL "
                         "(.gz), text files and folders of text files. Export the dataset to JSONL first "
                         "(Dataset.to_json), or filter it with Dataset.filter on the scores.")


class KeptWriter:
    """Context manager: `write(batch, keep)` for each batch of the shard; the output is in place on exit."""

    def __init__(self, shard: str | Path, out_dir: str | Path) -> None:
        self.shard = Path(shard)
        self.format = shard_format(self.shard)
        check_writable(self.shard)
        self.target = Path(out_dir) / self.shard.name
        if self.target.resolve() == self.shard.resolve():
            raise UsageError(f"--out {out_dir} would overwrite the input shard {self.shard}; write elsewhere.")
        self.kept = 0

    def __enter__(self) -> KeptWriter:
        self.target.parent.mkdir(parents=True, exist_ok=True)
        if self.format == TEXT_FOLDER:
            self.staging = Path(tempfile.mkdtemp(prefix=f".{self.target.name}-", dir=self.target.parent))
        else:
            self.staging = self.target.with_name(f".{self.target.name}.partial")
            self.handle = open_text(self.staging, "wt", compressed=self.target.name.lower().endswith(".gz"))
        return self

    def write(self, batch: ShardBatch, keep) -> None:
        for raw, kept in zip(batch.raw, keep):
            if not kept:
                continue
            if self.format == JSONL:
                self.handle.write(raw + "\n")
            elif self.format == TEXT:
                self.handle.write(("\n" if self.kept else "") + raw + "\n")
            else:
                destination = self.staging / raw
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(self.shard / raw, destination)
            self.kept += 1

    def __exit__(self, error_type, error, traceback) -> None:
        if self.format != TEXT_FOLDER:
            self.handle.close()
        if error_type is not None:
            shutil.rmtree(self.staging, ignore_errors=True) if self.staging.is_dir() else self.staging.unlink(
                missing_ok=True)
            return
        if self.format == TEXT_FOLDER and self.target.exists():
            shutil.rmtree(self.target)
        os.replace(self.staging, self.target)
