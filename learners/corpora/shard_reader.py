"""Stream the documents of one corpus file (a shard) in batches, in constant memory.

Why: `load_corpus` reads a whole corpus into a tuple, which is right for building a learner on a
sample and wrong for scoring a web-sized corpus. This reads the same formats (JSONL incl. .gz, text
files, folders of text files, `datasets` files and folders) a batch at a time, and keeps with each
document what is needed to write it back unchanged (its JSON line, its text block, its file), so a
filter can keep documents in the input's own format.

Every record is a document here, an empty one included (unlike `load_corpus`, which drops empty
documents), so that scores line up with records by position. A damaged shard (a truncated .gz, a line
that is not JSON, a record without its text) raises `CorpusError` naming the shard and the line.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import CorpusError
from .corpus import DATASET_FILE_FORMATS, JSONL_SUFFIXES, TEXT_SUFFIXES, jsonl_record

#: The field (or column) read as a document's id when the record has one; otherwise its position.
ID_FIELD = "id"
JSONL, TEXT, TEXT_FOLDER, DATASET = "jsonl", "text", "text-folder", "dataset"


@dataclass
class ShardBatch:
    """Consecutive documents of a shard: positions, ids, texts, and what writes each back (`raw`)."""

    indices: list[int] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    raw: list = field(default_factory=list)   # JSONL: the line; text: the block; folder: the file's path

    def add(self, index: int, doc_id, text: str, raw) -> None:
        self.indices.append(index)
        self.ids.append(str(index) if doc_id is None else str(doc_id))
        self.texts.append(text)
        self.raw.append(raw)

    def __len__(self) -> int:
        return len(self.texts)


def shard_format(path: Path) -> str:
    """jsonl, text, text-folder or dataset: how `path` is read (as `load_corpus` would)."""
    if path.is_dir():
        is_dataset = any((path / name).exists() for name in ("dataset_info.json", "state.json", "dataset_dict.json"))
        return DATASET if is_dataset else TEXT_FOLDER
    if path.name.lower().endswith(JSONL_SUFFIXES):
        return JSONL
    if path.suffix.lower() in DATASET_FILE_FORMATS:
        return DATASET
    return TEXT


def iter_shard(path: str | Path, *, text_field: str = "text", batch_size: int = 512) -> Iterator[ShardBatch]:
    """Batches of at most `batch_size` documents of the shard at `path`, in order."""
    path = Path(path).expanduser()
    if not path.exists():
        raise CorpusError(f"Corpus {str(path)!r} does not exist. Pass a JSONL file, a text file, a folder of text "
                          "files, or a `datasets` file or folder.")
    readers = {JSONL: _jsonl_records, TEXT: _text_records, TEXT_FOLDER: _folder_records, DATASET: _dataset_records}
    batch = ShardBatch()
    try:
        for index, (doc_id, text, raw) in enumerate(readers[shard_format(path)](path, text_field)):
            batch.add(index, doc_id, text, raw)
            if len(batch) == batch_size:
                yield batch
                batch = ShardBatch()
    except (UnicodeDecodeError, gzip.BadGzipFile, EOFError, zlib.error, OSError) as error:
        raise CorpusError(f"Cannot read {path}: {type(error).__name__}: {error or 'unexpected end of data'} "
                          "(a damaged or truncated file?).") from None
    if batch:
        yield batch


def open_text(path: Path, mode: str = "rt", *, compressed: bool | None = None):
    """A text handle on `path`, gzip-compressed when its name ends in .gz (or when `compressed`)."""
    if path.name.lower().endswith(".gz") if compressed is None else compressed:
        return gzip.open(path, mode, encoding="utf-8")
    return path.open(mode[0], encoding="utf-8")


def _jsonl_records(path: Path, text_field: str):
    with open_text(path) as handle:
        for line_number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            record = jsonl_record(line, path=path, line_number=line_number, text_field=text_field)
            yield record.get(ID_FIELD), record[text_field], line.rstrip("\n")


def _text_records(path: Path, text_field: str):
    """Blocks of non-blank lines, as `load_corpus` splits a text file."""
    with open_text(path) as handle:
        block: list[str] = []
        for line in handle:
            line = line.rstrip("\r\n")
            if line.strip():
                block.append(line)
            elif block:
                yield None, "\n".join(block), "\n".join(block)
                block = []
        if block:
            yield None, "\n".join(block), "\n".join(block)


def _folder_records(path: Path, text_field: str):
    files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in TEXT_SUFFIXES)
    if not files:
        raise CorpusError(f"Folder {path} holds no text file ({', '.join(TEXT_SUFFIXES)}) and is not a `datasets` "
                          "folder written by save_to_disk.")
    for file in files:
        relative = file.relative_to(path).as_posix()
        yield relative, file.read_text(encoding="utf-8"), relative


def _dataset_records(path: Path, text_field: str):
    """A `datasets` file read as a stream, or a save_to_disk folder (memory-mapped): neither is loaded whole."""
    import datasets

    try:
        if path.is_dir():
            loaded = datasets.load_from_disk(str(path))
            if isinstance(loaded, datasets.DatasetDict):
                loaded = loaded["train" if "train" in loaded else next(iter(loaded))]
        else:
            loaded = datasets.load_dataset(DATASET_FILE_FORMATS[path.suffix.lower()], data_files=str(path),
                                           split="train", streaming=True)
        for row in loaded:
            if text_field not in row:   # a streamed dataset may know its columns only from its first row
                raise CorpusError(f"Dataset {path} has no column {text_field!r} (columns: {', '.join(row)}). "
                                  "Pass --text-field to name the text column.")
            text = row.get(text_field)
            yield row.get(ID_FIELD), text if isinstance(text, str) else "", None
    except CorpusError:
        raise
    except Exception as error:   # datasets, pyarrow and pandas each raise their own types for a damaged file
        first = str(error).splitlines()[0] if str(error) else "unreadable"
        raise CorpusError(f"Cannot read {path} as a dataset: {type(error).__name__}: {first}.") from None
