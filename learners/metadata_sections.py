"""The typed sections of `learner.json` (base model, corpus, probe, run), each checked when read.

A section knows its own fields and keeps every other key in `extra`, written back unchanged: a file
written by a newer learnerhub, with fields this one does not know, loses nothing when it is read and
saved again here. A known field whose value is null is the same as an absent one and is not written.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from typing import Any, TypeVar

from .errors import LearnerFormatError

Section_ = TypeVar("Section_", bound="Section")
_KNOWN_FIELDS: dict[type, dict[str, Any]] = {}


def _options(hint: Any) -> tuple:
    """`str | None` -> (str, NoneType); a plain hint -> (hint,)."""
    return typing.get_args(hint) if typing.get_origin(hint) in (typing.Union, types.UnionType) else (hint,)


def accepts(hint: Any, value: Any) -> bool:
    """Whether `value` (parsed JSON) fits the type hint `hint` (bool is not a number; an int is a float)."""
    if hint is Any:
        return True
    if len(_options(hint)) > 1:
        return any(accepts(option, value) for option in _options(hint))
    if hint is type(None):
        return value is None
    if isinstance(value, bool):
        return hint is bool
    if hint is float:
        return isinstance(value, (int, float))
    if typing.get_origin(hint) is list and isinstance(value, list):
        return all(accepts(typing.get_args(hint)[0], item) for item in value)
    return isinstance(value, typing.get_origin(hint) or hint)


def describe_type(hint: Any) -> str:
    """`str | None` -> "a string or null", as a problem message names it."""
    names = {str: "a string", int: "an integer", float: "a number", bool: "true or false", dict: "an object",
             list: "a list", type(None): "null"}
    described = []
    for option in _options(hint):
        item = typing.get_args(option)[0] if typing.get_origin(option) is list and typing.get_args(option) else Any
        described.append(f"a list of {describe_type(item).split(' ', 1)[1]}s" if item is not Any
                         else names.get(typing.get_origin(option) or option, str(option)))
    return " or ".join(described)


def json_type(value: Any) -> str:
    """What a parsed JSON value is, in JSON's words."""
    return {type(None): "null", bool: "a boolean", int: "a number", float: "a number", str: "a string",
            dict: "an object", list: "a list"}.get(type(value), type(value).__name__)


def section_type(hint: Any) -> type[Section] | None:
    """The Section class a field holds (`CorpusInfo | None` -> CorpusInfo), None for a plain field."""
    return next((o for o in _options(hint) if isinstance(o, type) and issubclass(o, Section)), None)


@dataclass(kw_only=True)
class Section:
    """A JSON object with typed known fields; unknown keys stay in `extra` (forward compatibility)."""

    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def known_fields(cls) -> dict[str, Any]:
        """Field name -> type hint, `extra` left out (worked out once per class: listings read thousands)."""
        if cls not in _KNOWN_FIELDS:
            hints = typing.get_type_hints(cls)
            _KNOWN_FIELDS[cls] = {f.name: hints[f.name] for f in dataclasses.fields(cls) if f.name != "extra"}
        return _KNOWN_FIELDS[cls]

    @classmethod
    def _required(cls) -> set[str]:
        """Fields without a default: a section lacking one is malformed."""
        return {f.name for f in dataclasses.fields(cls)
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING}

    @classmethod
    def _absent(cls, name: str, value: Any) -> bool:
        """Null, or an empty optional section (format 1 wrote `"pool": {}` for none), reads as absent."""
        return name not in cls._required() and (value is None or (value == {} and
                                                                  section_type(cls.known_fields()[name]) is not None))

    @classmethod
    def problems(cls, data: Any, where: str = "") -> list[str]:
        """What keeps `data` from being this section (empty: it is one); `where` prefixes the field names."""
        if not isinstance(data, dict):
            return [f"{where or 'the file'} must be an object, not {json_type(data)}"]
        found = []
        for name, hint in cls.known_fields().items():
            value, path = data.get(name), f"{where}.{name}" if where else name
            if name not in data:
                found += [f"{path} is missing"] if name in cls._required() else []
            elif cls._absent(name, value):
                continue
            elif section_type(hint) is not None:
                found += section_type(hint).problems(value, path)
            elif not accepts(hint, value):
                odd = [item for item in value if not accepts(typing.get_args(hint)[0], item)] \
                    if isinstance(value, list) and typing.get_origin(hint) is list else []
                found.append(f"{path} must be {describe_type(hint)}, not "
                             + (f"a list holding {json_type(odd[0])}" if odd else json_type(value)))
        return found

    @classmethod
    def from_dict(cls: type[Section_], data: dict[str, Any]) -> Section_:
        """The section of `data`, in which `problems` found nothing wrong (nested sections built too)."""
        known, values = cls.known_fields(), {}
        for name, hint in known.items():
            if name in data and not cls._absent(name, data[name]):
                values[name] = section_type(hint).from_dict(data[name]) if section_type(hint) else data[name]
        return cls(**values, extra={key: value for key, value in data.items() if key not in known})

    @classmethod
    def parse(cls: type[Section_], data: Any, where: str) -> Section_:
        """`from_dict` of data not yet checked: LearnerFormatError naming every problem, if any."""
        problems = cls.problems(data, where)
        if problems:
            raise LearnerFormatError(f"{where} is malformed: {'; '.join(problems)}.")
        return cls.from_dict(data)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object: every key kept in `extra`, and the known fields that are set."""
        data = dict(self.extra)
        for name in self.known_fields():
            value = getattr(self, name)
            if value is not None:
                data[name] = value.to_dict() if isinstance(value, Section) else value
        return data


@dataclass(kw_only=True)
class BaseModelInfo(Section):
    """The base model a learner was built on: what attaching checks and the card names."""

    model_id: str | None = None
    #: The Hub commit, or for the bundled SmolLM2 the package and file it came from (None: unknown).
    revision: str | None = None
    #: What the user typed (`smollm2`, a folder, a Hub id).
    name_or_path: str | None = None
    architecture: str | None = None
    vocab_size: int | None = None
    embedding_dim: int | None = None


@dataclass(kw_only=True)
class CorpusInfo(Section):
    """A corpus as learner.json names it: the target (`corpus`) or the pool the contexts came from (`pool`)."""

    name: str
    #: Content fingerprint (`sha256:...`), so a learner built on another text of the same name is noticed.
    fingerprint: str | None = None
    documents: int | None = None
    #: Documents long enough for one context at the build's context length.
    usable_documents: int | None = None
    #: The Hub dataset the corpus is, when it is one (the card's `datasets`).
    dataset_id: str | None = None


@dataclass(kw_only=True)
class ProbeInfo(Section):
    """How an IGF learner's training gains were measured (`describe()` of learners/igf/information_gain.py)."""

    name: str | None = None
    lr: float | None = None
    objective_size: int | None = None
    #: Fast probe only: the estimate it computes, the layers and share of rows it probes.
    estimate: str | None = None
    layers: int | None = None
    row_fraction: float | None = None
    #: Exact probe only: its AdamW step.
    eps: float | None = None
    max_grad_norm: float | None = None


@dataclass(kw_only=True)
class RunInfo(Section):
    """What a streaming learner's build run saw (format 1 kept this under `probe`)."""

    #: The selection rule that ran (`loss-threshold`).
    name: str | None = None
    #: The task the base model was fine-tuned on (`CausalLMTask`).
    task: str | None = None
    examples: int | None = None
    trained_examples: int | None = None
    skipped_forward: int | None = None
    skipped_backward: int | None = None
    #: The stage the filter ended in (0 warm-up, 1 loss threshold, 2 meta predictor).
    final_stage: int | None = None
    #: The filter's stage changes, as `{"from", "to", "step", ...}` records.
    transitions: list[Any] | None = None
