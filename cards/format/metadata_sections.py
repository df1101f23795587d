"""The typed sections of `learner.json` (base model, corpus, probe, run), each checked when read
(by cards.format.metadata_schema, which validates a section against its own fields).

A section knows its own fields and keeps every other key in `extra`, written back unchanged: a file
written by a newer learnerhub, with fields this one does not know, loses nothing when it is read and
saved again here. A known field whose value is null is the same as an absent one and is not written.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

SectionT = TypeVar("SectionT", bound="Section")
_KNOWN_FIELDS: dict[type, dict[str, Any]] = {}


def union_options(hint: Any) -> tuple:
    """`str | None` -> (str, NoneType); a plain hint -> (hint,)."""
    return typing.get_args(hint) if typing.get_origin(hint) in (typing.Union, types.UnionType) else (hint,)


def section_type(hint: Any) -> type[Section] | None:
    """The Section class a field holds (`CorpusInfo | None` -> CorpusInfo), None for a plain field."""
    return next((o for o in union_options(hint) if isinstance(o, type) and issubclass(o, Section)), None)


@dataclass(kw_only=True)
class Section:
    """A JSON object with typed known fields; unknown keys stay in `extra` (forward compatibility)."""

    extra: dict[str, Any] = field(default_factory=dict)
    #: Field name -> the type cards.format.metadata_schema validates it as, where that is richer than its hint.
    schema_types: ClassVar[dict[str, Any]] = {}

    @classmethod
    def known_fields(cls) -> dict[str, Any]:
        """Field name -> type hint, `extra` left out (worked out once per class: listings read thousands)."""
        if cls not in _KNOWN_FIELDS:
            hints = typing.get_type_hints(cls)
            _KNOWN_FIELDS[cls] = {f.name: hints[f.name] for f in dataclasses.fields(cls) if f.name != "extra"}
        return _KNOWN_FIELDS[cls]

    @classmethod
    def required_fields(cls) -> set[str]:
        """Fields without a default: a section lacking one is malformed."""
        return {f.name for f in dataclasses.fields(cls)
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING}

    @classmethod
    def _absent(cls, name: str, value: Any) -> bool:
        """Null, or an empty optional section (format 1 wrote `"pool": {}` for none), reads as absent."""
        return name not in cls.required_fields() and (value is None or (value == {} and
                                                                  section_type(cls.known_fields()[name]) is not None))

    @classmethod
    def from_dict(cls: type[SectionT], data: dict[str, Any]) -> SectionT:
        """The section of `data`, checked by cards.format.metadata_schema (nested sections built too)."""
        known, values = cls.known_fields(), {}
        for name, hint in known.items():
            if name in data and not cls._absent(name, data[name]):
                values[name] = section_type(hint).from_dict(data[name]) if section_type(hint) else data[name]
        return cls(**values, extra={key: value for key, value in data.items() if key not in known})

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
