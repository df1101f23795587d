"""What a kind's builder is given: the loaded corpora and base model, the split, and the command's options.

The command line and `--learner auto` fill one in and call `learner_kind(name).behaviour("builder")(request)`,
so neither knows how any kind is built.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any


@dataclass
class BuildRequest:
    """The inputs of one build (`corpus` is the pool when `target` is given)."""

    corpus: Any                 # learners.corpora.corpus.Corpus
    model: Any
    tokenizer: Any
    ref: Any                    # learners.base_models.BaseModelRef
    config: Any = None          # learners.igf.build.BuildConfig: the split and the shared build settings
    target: Any = None          # the corpus fine-tuning should get better at (None: `corpus` itself)
    #: The command's parsed arguments (the kind reads its own flags with `option`); None outside the CLI.
    options: Any = None
    progress: bool = False
    #: Shard the build over `accelerate launch` processes where the kind can (the command line does).
    distributed: bool = False

    def option(self, name: str, default: Any = None) -> Any:
        """The command-line option `name`, or `default` when absent or unset."""
        value = getattr(self.options or SimpleNamespace(), name, None)
        return default if value is None else value
