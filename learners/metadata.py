"""`learner.json`: everything needed to trust, find and reproduce a learner, next to its weights."""

from __future__ import annotations

import dataclasses
import datetime as _dt
import importlib.metadata
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import LearnerFormatError

LEARNER_FILE = "learner.json"
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
#: What the build saw, drawn for the model card and the web page (published with the learner).
BUILD_PLOT = "assets/build_plot.png"
#: Fine-tuning with vs without the learner (the newest headline evaluation): the card's first picture.
EVAL_PLOT = "assets/eval_plot.png"
FORMAT_VERSION = 1


def learnerhub_version() -> str:
    try:
        return importlib.metadata.version("learnerhub")
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"


@dataclass
class LearnerMetadata:
    """The contents of `learner.json` (see the README for each field's meaning)."""

    kind: str
    base_model: dict[str, Any]
    tokenizer_fingerprint: str
    embedding_fingerprint: dict[str, Any]
    corpus: dict[str, Any]
    #: The corpus the training contexts were drawn from (and the filter screens); `corpus` is the target
    #: the learner helps fine-tune towards. Empty when they are the same corpus.
    pool: dict[str, Any] = field(default_factory=dict)
    probe: dict[str, Any] = field(default_factory=dict)
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    #: What fine-tuning with the learner measured (`learnerhub eval`), newest last; see learners/finetuning/evaluation.py.
    evaluations: list[dict[str, Any]] = field(default_factory=list)
    learnerhub_version: str = field(default_factory=learnerhub_version)
    created_at: str = field(default_factory=lambda: _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"))
    format_version: int = FORMAT_VERSION

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def save(self, folder: Path) -> None:
        """Write learner.json whole or not at all (a folder being evaluated in place keeps a valid one)."""
        path = Path(folder) / LEARNER_FILE
        staging = path.with_name(f".{LEARNER_FILE}.tmp")
        staging.write_text(json.dumps(self.to_dict(), indent=2, sort_keys=True, allow_nan=False) + "\n")
        staging.replace(path)

    @classmethod
    def load(cls, folder: str | Path, *, kind: str | None = None) -> "LearnerMetadata":
        """Read and check learner.json; with `kind`, refuse a learner of another kind."""
        metadata = cls._read(folder)
        if kind is not None and metadata.kind != kind:
            raise LearnerFormatError(f"{folder} holds a {metadata.kind!r} learner, not a {kind!r} one.")
        return metadata

    @classmethod
    def _read(cls, folder: str | Path) -> "LearnerMetadata":
        path = Path(folder) / LEARNER_FILE
        if not path.exists():
            raise LearnerFormatError(f"{folder} is not a learner folder: {LEARNER_FILE} is missing.")
        try:
            data = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise LearnerFormatError(f"{path} is not valid JSON ({error}); the learner is corrupted.") from None
        if not isinstance(data, dict):
            raise LearnerFormatError(f"{path} must hold a JSON object.")
        if data.get("format_version", FORMAT_VERSION) > FORMAT_VERSION:
            raise LearnerFormatError(f"{path} has format version {data['format_version']}; this learnerhub reads "
                                     f"up to {FORMAT_VERSION}. Upgrade learnerhub.")
        names = {f.name for f in dataclasses.fields(cls)}
        missing = {f.name for f in dataclasses.fields(cls) if f.default is dataclasses.MISSING
                   and f.default_factory is dataclasses.MISSING} - set(data)
        if missing:
            raise LearnerFormatError(f"{path} lacks the fields {sorted(missing)}; the learner is corrupted.")
        return cls(**{key: value for key, value in data.items() if key in names})


def checked_learner_json(data: Any, *, source: str = "learner.json") -> dict[str, Any]:
    """`data` (parsed learner.json) if its fields have the types every reader relies on, else
    LearnerFormatError naming what is wrong. Numbers that JSON can hold but a float cannot (10**400,
    NaN) are dropped from `metrics`, so a reader can sort and serialise what it gets back.

    Readers of many repositories (listings, the server) call this and skip or mark the one that fails:
    a malformed repository is its own problem, never the registry's.
    """
    if not isinstance(data, dict):
        raise LearnerFormatError(f"{source} must hold a JSON object, not a {type(data).__name__}.")
    problems = [f"{key} must be {kind.__name__}" for key, kind in
                (("kind", str), ("base_model", dict), ("corpus", dict), ("metrics", dict), ("probe", dict),
                 ("hyperparameters", dict), ("pool", dict), ("evaluations", list))
                if key in data and not isinstance(data[key], kind)]
    problems += [f"{key} is missing" for key in ("kind", "base_model", "corpus") if key not in data]
    if isinstance(data.get("corpus"), dict) and not isinstance(data["corpus"].get("name"), str):
        problems.append("corpus.name must be a string")
    if isinstance(data.get("base_model"), dict) and not isinstance(data["base_model"].get("model_id", ""), (str, type(None))):
        problems.append("base_model.model_id must be a string")
    if problems:
        raise LearnerFormatError(f"{source} is malformed: {'; '.join(problems)}.")
    metrics = {}
    for name, value in data.get("metrics", {}).items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            try:
                number = float(value)
            except OverflowError:
                continue
            if number == number and abs(number) != float("inf"):
                metrics[name] = value
        elif isinstance(value, (str, list)) or value is None:
            metrics[name] = value
    evaluations = [e for e in data.get("evaluations", []) if isinstance(e, dict)]
    return {**data, "metrics": metrics, "evaluations": evaluations}
