"""`learner.json`: everything needed to trust, find and reproduce a learner, next to its weights.

Format 2 (this one) holds typed sections (cards/format/metadata_sections.py, validated by
cards/format/metadata_schema.py): `base_model`, `corpus`,
`pool` (when the contexts came from another corpus), `probe` (IGF: how gains were measured) and `run`
(streaming: what its build run saw; format 1 kept this under `probe`). Format-1 files are migrated
when read, so learners published before still load, list and render their cards. Keys this version
does not know are kept (`extra`) and written back, so a file from a newer learnerhub loses nothing.
"""

from __future__ import annotations

import datetime as _dt
import importlib.metadata
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from .constants import LEARNER_FILE
from .errors import LearnerFormatError
from .identity import LearnerIdentity
from .kinds import find_learner_kind
from .evaluation_records import EvaluationRecord
from .metadata_schema import validated
from .metadata_sections import BaseModelInfo, CorpusInfo, ProbeInfo, RunInfo, Section

__all__ = ["LearnerMetadata", "checked_learner", "checked_learner_json", "FORMAT_VERSION"]

FORMAT_VERSION = 2


def learnerhub_version() -> str:
    try:
        return importlib.metadata.version("learnerhub")
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


@dataclass(kw_only=True)
class LearnerMetadata(Section):
    """The contents of `learner.json` (see the README for each field's meaning)."""

    kind: str
    base_model: BaseModelInfo
    tokenizer_fingerprint: str
    #: learners/fingerprint.py's `{"sha256", "shape", "sketch"}` of the input embeddings.
    embedding_fingerprint: dict[str, Any]
    #: The target the learner helps fine-tune towards (its objective and test sets come from it).
    corpus: CorpusInfo
    #: The corpus the training contexts were drawn from (and the filter screens); None when it is `corpus`.
    pool: CorpusInfo | None = None
    #: IGF: how the information gains it was trained on were measured.
    probe: ProbeInfo | None = None
    #: Streaming: what the build run saw.
    run: RunInfo | None = None
    #: Text-level kinds (base model `any`): the model whose probe measured the gains the learner was trained on.
    labeller: BaseModelInfo | None = None
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    #: What fine-tuning with the learner measured (`learnerhub eval`), newest last;
    #: see learners/finetuning/evaluation/arms.py.
    evaluations: list[dict[str, Any]] = field(default_factory=list)
    #: Each evaluation record is an object, read typed as cards.format.evaluation_records.EvaluationRecord.
    schema_types: ClassVar[dict[str, Any]] = {"evaluations": list[EvaluationRecord]}
    learnerhub_version: str = field(default_factory=learnerhub_version)
    created_at: str = field(default_factory=_now)
    format_version: int = FORMAT_VERSION

    def to_dict(self) -> dict[str, Any]:
        """learner.json's object, always in the current format."""
        return {**super().to_dict(), "format_version": FORMAT_VERSION}

    @classmethod
    def from_json(cls, data: Any, *, source: str = LEARNER_FILE) -> LearnerMetadata:
        """The metadata of parsed learner.json `data` (format 1 migrated), or LearnerFormatError saying
        everything that is wrong with it. A newer format is read as far as this version knows it."""
        if not isinstance(data, dict):
            raise LearnerFormatError(f"{source} must hold a JSON object, not a {type(data).__name__}.")
        metadata = validated(cls, {**migrate(data, source=source), "format_version": FORMAT_VERSION}, source=source)
        metadata.kind_section(source=source)   # a plug-in kind's own section is checked when read, too
        return metadata

    @property
    def identity(self) -> LearnerIdentity:
        """Which learner this is: kind, corpus (and pool), base model or none (`cards.format.identity`)."""
        return LearnerIdentity.of(self)

    def kind_section(self, *, source: str = LEARNER_FILE) -> Section | None:
        """The kind's own typed section (`LearnerKind.section`: `probe`, `run`, or one a plug-in kind names and
        keeps in `extra`), None when the kind has none or the file lacks it."""
        kind = find_learner_kind(self.kind)
        if kind is None or kind.section is None:
            return None
        if kind.section in self.known_fields():
            return getattr(self, kind.section)
        raw = self.extra.get(kind.section)
        return None if raw is None else validated(kind.behaviour("section_type"), raw, source=source,
                                                  where=kind.section)

    def save(self, folder: Path) -> None:
        """Write learner.json whole or not at all (a folder being evaluated in place keeps a valid one)."""
        path = Path(folder) / LEARNER_FILE
        staging = path.with_name(f".{LEARNER_FILE}.tmp")
        staging.write_text(json.dumps(self.to_dict(), indent=2, sort_keys=True, allow_nan=False) + "\n")
        staging.replace(path)

    @classmethod
    def load(cls, folder: str | Path, *, kind: str | None = None) -> LearnerMetadata:
        """Read and check learner.json; with `kind`, refuse a learner of another kind."""
        metadata = cls._read(folder)
        if kind is not None and metadata.kind != kind:
            raise LearnerFormatError(f"{folder} holds a {metadata.kind!r} learner, not a {kind!r} one.")
        return metadata

    @classmethod
    def _read(cls, folder: str | Path) -> LearnerMetadata:
        path = Path(folder) / LEARNER_FILE
        if not path.exists():
            raise LearnerFormatError(f"{folder} is not a learner folder: {LEARNER_FILE} is missing.")
        try:
            data = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as error:
            raise LearnerFormatError(f"{path} is not valid JSON ({error}); the learner is corrupted.") from None
        version = format_version_of(data, source=str(path))
        if version > FORMAT_VERSION:
            raise LearnerFormatError(f"{path} has format version {version}; this learnerhub reads "
                                     f"up to {FORMAT_VERSION}. Upgrade learnerhub.")
        return cls.from_json(data, source=str(path))


def format_version_of(data: Any, *, source: str) -> int:
    """The format `data` says it is in (a file from before format versions is format 1)."""
    if not isinstance(data, dict):
        raise LearnerFormatError(f"{source} must hold a JSON object, not a {type(data).__name__}.")
    version = data.get("format_version", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise LearnerFormatError(f"{source} is malformed: format_version must be a positive integer, not {version!r}.")
    return version


def migrate(data: dict[str, Any], *, source: str = LEARNER_FILE) -> dict[str, Any]:
    """`data` in the current layout. Format 1 -> 2: a kind whose section is not `probe` (`LearnerKind.section`;
    streaming's `run`) finds it moved there from `probe`, where format 1 kept every kind's (an empty `pool` or
    `probe`, format 1's "none", reads as absent in any format)."""
    if format_version_of(data, source=source) >= 2:
        return data
    data = dict(data)
    kind = find_learner_kind(data.get("kind"))
    if kind is not None and kind.section not in (None, "probe") and kind.section not in data:
        data[kind.section] = data.pop("probe", None)
    return data


#: A learner listed from a repository needs no fingerprints (loading it still checks them).
_LISTING_DEFAULTS = {"tokenizer_fingerprint": "", "embedding_fingerprint": {}}


def checked_learner(data: Any, *, source: str = LEARNER_FILE) -> LearnerMetadata:
    """The metadata of untrusted parsed learner.json `data`, for a listing, else LearnerFormatError
    naming what is wrong. Numbers that JSON can hold but a float cannot (10**400, NaN) are dropped from
    `metrics`, and evaluation records that are not objects from `evaluations`, so a reader can sort and
    serialise what it gets back.

    Readers of many repositories (listings, the server) call this and skip or mark the one that fails:
    a malformed repository is its own problem, never the registry's.
    """
    return LearnerMetadata.from_json({**_LISTING_DEFAULTS, **_sanitised(data, source=source)}, source=source)


def checked_learner_json(data: Any, *, source: str = LEARNER_FILE) -> dict[str, Any]:
    """`data` as it is (either format), checked like `checked_learner` and sanitised the same way; for
    readers that pass learner.json on (the server's pages and API)."""
    sanitised = _sanitised(data, source=source)
    checked_learner(sanitised, source=source)
    return sanitised


def _sanitised(data: Any, *, source: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise LearnerFormatError(f"{source} must hold a JSON object, not a {type(data).__name__}.")
    metrics, evaluations = data.get("metrics", {}), data.get("evaluations", [])
    if isinstance(metrics, dict):
        metrics = {name: value for name, value in metrics.items() if _listable(value)}
    if isinstance(evaluations, list):
        evaluations = [e for e in evaluations if isinstance(e, dict)]
    return {**data, "metrics": metrics, "evaluations": evaluations}


def _listable(value: Any) -> bool:
    """A metric a listing keeps: a finite number, a string, a list or null."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:
            return False
        return number == number and abs(number) != float("inf")
    return isinstance(value, (str, list)) or value is None
