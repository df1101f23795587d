"""The learner kinds learnerhub knows, each registered where it lives, with its behaviour.

The table is part of the file format (learner.json names its kind; the store's cards, listings and identities
ask the kind's facts), so it sits below the ML library, which fills it: `import learners` registers the
shipped kinds. A kind's package registers it in its own `__init__.py` (like peft's
`tuners/<method>/__init__.py`): its learner class, card and Hub facts, and the behaviour the rest of
learnerhub asks for instead of branching on its name: the builder and its command-line flags, the filter
factory, the typed learner.json section, card warnings, the usage snippet and a tiny example for tests (see
`LearnerKind`). Behaviour is a callable or a "module:attr" import path, so asking about kinds never imports
torch. Registering a name twice raises.

Example:
    >>> register_learner_kind(LearnerKind("mykind", "mypackage.learner:MyLearner", card_template="mykind.md",
    ...                                   method_tag="my-method", task=("my-task", "My task"),
    ...                                   builder="mypackage.plugin:build", make_filter="mypackage.plugin:make_filter"))
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from .errors import LearnerFormatError, UsageError

#: A behaviour: a callable, or "module:attr" naming one (imported on first use).
Hook = Callable[..., Any] | str | None

#: The snippet of a kind that registers none: pull it, attach it and filter with `learner.make_filter()`.
GENERIC_USAGE = ("from learners import FilteredDataset, load_base_model\nimport registry\n\n{load}"
                 "learner, _ = registry.pull(\"{corpus}\", base_model=\"{base}\", kind=\"{kind}\"{pinned},\n"
                 "                          model=model, tokenizer=tokenizer)\n"
                 "data = FilteredDataset(train_dataset, learner.make_filter())")


@dataclass(frozen=True)
class LearnerKind:
    """What the rest of learnerhub needs to know about a kind of learner, and what it asks the kind to do."""

    name: str
    learner_class: str | type                # "module:Class" (or the class), with `load(folder, model, tokenizer)`
    card_template: str                       # file name in the `cards` package, or an absolute path
    method_tag: str                          # the Hub tag naming the method
    task: tuple[str, str]                    # (task type, task name) of the learner's own quality in the model-index
    quality_metrics: tuple[str, ...] = field(default=())   # learner.json metrics shown in the model-index
    needs_evaluation: bool = False           # cards warn when no fine-tuning evaluation is recorded
    any_base_model: bool = False             # reads text, not token ids: one learner serves every base model
    description: str = ""                    # the card's words after the kind's name: " (information gain ...)"
    #: The typed learner.json section saying what the build saw ("probe", "run", or a new name), and its
    #: `cards.format.metadata_sections.Section` class; format 1 kept this section under `probe`.
    section: str | None = None
    section_type: Hook = None
    #: build(request: learners.build_request.BuildRequest) -> Learner, or None on a non-main process.
    builder: Hook = None
    #: check_options(options): refuse the command line's options that do not fit the kind, before anything loads.
    check_options: Hook = None
    #: build_summary(learner, request) -> str: what `learnerhub build` prints after writing the folder.
    build_summary: Hook = None
    #: cli_arguments(parser, command): the kind's own flags on `build`, `finetune` and `eval`.
    cli_arguments: Hook = None
    #: make_filter(learner, options) -> (arm name, ContextFilter); options has `threshold` and the kind's flags.
    make_filter: Hook = None
    #: extra_arms(options, model) -> {arm name: filter}: finetune arms the kind's own flags ask for.
    extra_arms: Hook = None
    #: card_warnings(metadata) -> list[str]: what the card and the page warn of for this kind, beyond the shared ones.
    card_warnings: Hook = None
    #: The Python usage snippet, formatted with {load}, {corpus}, {base}, {kind} and {pinned}.
    usage_python: str = GENERIC_USAGE
    #: example(model, tokenizer) -> Learner: a tiny untrained learner of this kind, for tests.
    example: Hook = None
    #: Whether `learnerhub eval` can measure it (its filter takes a threshold and scores every candidate).
    evaluable: bool = False

    def load_class(self) -> type:
        return self.learner_class if isinstance(self.learner_class, type) else _resolve(self.learner_class)

    def behaviour(self, name: str) -> Callable[..., Any]:
        """The kind's hook `name` as a callable; a kind without it is a one-line UsageError."""
        hook = getattr(self, name)
        if hook is None:
            raise UsageError(f"A {self.name} learner has no {name.replace('_', ' ')}: its kind does not provide one.")
        return _resolve(hook) if isinstance(hook, str) else hook

    def has(self, name: str) -> bool:
        return getattr(self, name) is not None


def _resolve(path: str) -> Any:
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


_KINDS: dict[str, LearnerKind] = {}


def register_learner_kind(kind: LearnerKind) -> LearnerKind:
    """Make `kind` known to the loader, the command line, the cards and the pages; a taken name raises."""
    if kind.name in _KINDS:
        raise ValueError(f"A learner kind named {kind.name!r} is already registered; choose another name.")
    _KINDS[kind.name] = kind
    return kind


def unregister_learner_kind(name: str) -> None:
    """Forget kind `name` (a plug-in unloaded, a test's throw-away kind)."""
    _KINDS.pop(name, None)


@contextmanager
def registered_kind(kind: LearnerKind) -> Iterator[LearnerKind]:
    """`kind` registered for the block, unregistered after it."""
    register_learner_kind(kind)
    try:
        yield kind
    finally:
        unregister_learner_kind(kind.name)


def learner_kind(name: str) -> LearnerKind:
    """The registered kind `name`; a learner of an unknown kind is a format error that says what is known."""
    if name not in _KINDS:
        raise LearnerFormatError(f"Unknown learner kind {name!r}; this learnerhub knows {learner_kinds()}. "
                                 "Upgrade learnerhub, or install and import the package that registers it "
                                 "(`import learners` registers the shipped kinds).")
    return _KINDS[name]


def find_learner_kind(name: object) -> LearnerKind | None:
    """The registered kind `name`, or None (readers of untrusted files that say so themselves)."""
    return _KINDS.get(name) if isinstance(name, str) else None


def learner_kinds() -> list[str]:
    return sorted(_KINDS)
