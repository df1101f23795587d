"""Read a corpus from the formats users have (JSONL, text, a folder of text, a `datasets` dataset).

A corpus is a named list of documents plus a fingerprint of their text, so that a learner can say
exactly which data it was built from.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import zlib
from dataclasses import dataclass
from pathlib import Path

from cards.suggestions import did_you_mean_path

from ..errors import CorpusError

TEXT_SUFFIXES = (".txt", ".md", ".rst", ".text")
JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".json", ".json.gz", ".ndjson")
DATASET_FILE_FORMATS = {".parquet": "parquet", ".csv": "csv", ".arrow": "arrow"}


@dataclass(frozen=True)
class Corpus:
    """Documents of one corpus, in a stable order, with the name learners are published under."""

    name: str
    documents: tuple[str, ...]
    source: str

    @property
    def fingerprint(self) -> str:
        """sha256 over the documents: two corpora with the same text have the same fingerprint."""
        digest = hashlib.sha256()
        for document in self.documents:
            digest.update(hashlib.sha256(document.encode("utf-8")).digest())
        return "sha256:" + digest.hexdigest()

    def __len__(self) -> int:
        return len(self.documents)


def corpus_name_from_path(path: Path) -> str:
    """`../corpora/kjv.jsonl.gz` -> `kjv`: the file name without its suffixes, lower-cased."""
    name = path.name
    for suffix in sorted(JSONL_SUFFIXES + TEXT_SUFFIXES + tuple(DATASET_FILE_FORMATS), key=len, reverse=True):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
            break
    return name.lower().replace("_", "-").replace(" ", "-") or "corpus"


def load_corpus(path: str | Path, *, name: str | None = None, text_field: str = "text") -> Corpus:
    """Load documents from a JSONL file, a text file, a folder of text files or a `datasets` dataset.

    Example:
        >>> corpus = load_corpus("kjv.jsonl.gz")          # one JSON object a line, `text` field
        >>> corpus = load_corpus("notes/")                # every .txt/.md file is a document
        >>> corpus = load_corpus("saved_dataset/")        # a `datasets` folder from save_to_disk
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise CorpusError(f"Corpus {str(path)!r} does not exist.{did_you_mean_path(path)} Pass a JSONL file, a "
                          "text file, a folder of text files, or a folder written by `datasets.Dataset.save_to_disk`.")
    if path.is_dir():
        documents = _read_directory(path, text_field)
    elif path.name.lower().endswith(JSONL_SUFFIXES):
        documents = _read_jsonl(path, text_field)
    elif path.suffix.lower() in DATASET_FILE_FORMATS:
        documents = _read_dataset_file(path, text_field)
    else:
        documents = _read_text_file(path)
    documents = tuple(doc for doc in (d.strip() for d in documents) if doc)
    if not documents:
        raise CorpusError(f"Corpus {str(path)!r} holds no non-empty document.")
    return Corpus(name=name or corpus_name_from_path(path), documents=documents, source=str(path))


def _open_text(path: Path):
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8")
    return path.open("r", encoding="utf-8")


def _read_jsonl(path: Path, text_field: str) -> list[str]:
    documents = []
    try:
        with _open_text(path) as handle:
            for line_number, line in enumerate(handle, start=1):
                if line.strip():
                    documents.append(jsonl_record(line, path=path, line_number=line_number,
                                                  text_field=text_field)[text_field])
    except (UnicodeDecodeError, gzip.BadGzipFile, EOFError, zlib.error) as error:
        raise CorpusError(f"Cannot read {path} as UTF-8 JSONL: {error}.") from None
    return documents


def jsonl_record(line: str, *, path: Path, line_number: int, text_field: str) -> dict:
    """One JSONL line as a record with a text field, or a CorpusError naming `path:line_number` and the fix
    (not JSON, nested too deeply to parse, no string `text_field`, a lone surrogate that is not text)."""
    example = f"Each line of a JSONL corpus must be an object like {{\"{text_field}\": \"...\"}}."
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        raise CorpusError(f"{path}:{line_number} is not valid JSON ({error.msg}). {example}") from None
    except RecursionError:
        raise CorpusError(f"{path}:{line_number} is nested too deeply to read as JSON. {example}") from None
    if not isinstance(record, dict) or not isinstance(record.get(text_field), str):
        raise CorpusError(f"{path}:{line_number} has no string field {text_field!r}. {example} Pass --text-field to "
                          "name another field.")
    if not _is_unicode(record[text_field]):
        raise CorpusError(f"{path}:{line_number}: field {text_field!r} holds a lone surrogate escape "
                          "(such as \\ud800), which is not text; fix or drop that line.")
    return record


def _is_unicode(text: str) -> bool:
    """False for strings JSON can carry but UTF-8 cannot (lone surrogates): tokenizers and hashing fail on them."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _read_text_file(path: Path) -> list[str]:
    """A plain text file: documents are separated by blank lines (one document if there are none)."""
    try:
        with _open_text(path) as handle:
            text = handle.read()
    except (UnicodeDecodeError, gzip.BadGzipFile, EOFError, zlib.error):
        raise CorpusError(f"{path} is not UTF-8 text (or a damaged .gz). learnerhub reads JSONL, text files, "
                          "folders of text files and datasets (.parquet, .csv, .arrow, or a save_to_disk "
                          "folder).") from None
    return _split_paragraph_blocks(text)


def _split_paragraph_blocks(text: str) -> list[str]:
    blocks, current = [], []
    for line in text.splitlines():
        if line.strip():
            current.append(line)
        elif current:
            blocks.append("\n".join(current))
            current = []
    if current:
        blocks.append("\n".join(current))
    return blocks


def _read_directory(path: Path, text_field: str) -> list[str]:
    if (path / "dataset_info.json").exists() or (path / "state.json").exists():
        return _read_saved_dataset(path, text_field)
    files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in TEXT_SUFFIXES)
    if not files:
        raise CorpusError(f"Folder {path} holds no text file ({', '.join(TEXT_SUFFIXES)}) and is not a "
                          "`datasets` folder written by save_to_disk.")
    documents = []
    for file in files:
        try:
            documents.append(file.read_text(encoding="utf-8"))
        except UnicodeDecodeError:
            raise CorpusError(f"{file} is not UTF-8 text.") from None
    return documents


def _read_saved_dataset(path: Path, text_field: str) -> list[str]:
    import datasets

    try:
        loaded = datasets.load_from_disk(str(path))
    except Exception as error:   # datasets and pyarrow raise many types for a damaged folder
        raise CorpusError(f"Cannot read the `datasets` folder {path}: {type(error).__name__}: "
                          f"{str(error).splitlines()[0] if str(error) else 'unreadable'}. Re-save it with "
                          "save_to_disk.") from None
    if isinstance(loaded, datasets.DatasetDict):
        split = "train" if "train" in loaded else next(iter(loaded))
        loaded = loaded[split]
    return _column(loaded, text_field, path)


def _read_dataset_file(path: Path, text_field: str) -> list[str]:
    import datasets

    try:
        loaded = datasets.load_dataset(DATASET_FILE_FORMATS[path.suffix.lower()], data_files=str(path), split="train")
    except Exception as error:   # pyarrow, pandas and datasets each raise their own types for a damaged file
        raise CorpusError(f"Cannot read {path} as a {path.suffix.lstrip('.')} dataset: {type(error).__name__}: "
                          f"{str(error).splitlines()[0].rstrip('.') if str(error) else 'unreadable'}.") from None
    return _column(loaded, text_field, path)


def _column(dataset, text_field: str, path: Path) -> list[str]:
    if text_field not in dataset.column_names:
        raise CorpusError(f"Dataset {path} has no column {text_field!r} (columns: {', '.join(dataset.column_names)}). "
                          "Pass --text-field to name the text column.")
    return [text for text in dataset[text_field] if isinstance(text, str)]

def join_corpora(corpora: list[Corpus], *, name: str | None = None) -> Corpus:
    """One pool from several corpora (their documents in order), named `a+b` unless `name` is given."""
    if len(corpora) == 1:
        return corpora[0] if name is None else Corpus(name, corpora[0].documents, corpora[0].source)
    return Corpus(name or "+".join(c.name for c in corpora), tuple(d for c in corpora for d in c.documents),
                  " + ".join(c.source for c in corpora))
