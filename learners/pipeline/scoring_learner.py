"""Load a learner for scoring text, next to its own base model, and say which learner it is.

Why: a pipeline step names a learner by folder or registry id and must get it ready to score text
without the user loading the base model by hand (by default the one recorded in learner.json), and a
resumed run must know whether finished output came from the same learner (its identity: a hash of
what decides its scores).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from cards.format.errors import UsageError
from cards.format.kinds import learner_kind
from cards.format.constants import CONFIG_FILE, LEARNER_FILE, WEIGHTS_FILE
from cards.format.metadata import LearnerMetadata
from ..store_access import learner_store
from cards.format.naming import is_reference

from ..learner import Learner


def learner_folder(source: str | Path, *, store: str | Path | None = None, endpoint: str | None = None,
                   token: str | None = None) -> Path:
    """The local folder of `source`: a learner folder as it is, a published `ORG/NAME[@VERSION]` pulled first."""
    if is_reference(str(source)):
        return learner_store().fetch_folder(str(source), store=store, endpoint=endpoint, token=token)
    folder = Path(source).expanduser()
    if not folder.is_dir():
        raise UsageError(f"Learner {str(source)!r} is neither a learner folder nor a published learner "
                         "(ORG/NAME[@VERSION]).")
    return folder


def default_base_model(metadata: LearnerMetadata) -> str:
    """What the learner was built on, loadable by `load_base_model`: the folder or name typed at build time
    while it still exists as typed, else the Hub id."""
    info = metadata.base_model
    typed = info.name_or_path
    if typed and (not ("/" in typed or typed.startswith(".")) or Path(typed).expanduser().exists()):
        return typed
    if info.model_id:
        return info.model_id
    raise UsageError("The learner does not record its base model; pass --base-model.")


def load_scoring_learner(folder: str | Path, base_model: str | None = None) -> Learner:
    """The learner in `folder`, attached to `base_model` (default: its own) and ready for `score_texts`."""
    from ..base_models import load_base_model
    from ..loading import load_learner

    metadata = LearnerMetadata.load(folder)
    kind = learner_kind(metadata.kind)
    if not kind.load_class().can_score_text():
        raise UsageError(f"A {metadata.kind} learner cannot score text.")
    if getattr(kind, "any_base_model", False) and base_model is None:   # a text-level kind reads text alone
        return load_learner(folder)
    model, tokenizer, _ = load_base_model(base_model or default_base_model(metadata))
    return load_learner(folder, model, tokenizer)


def learner_identity(folder: str | Path) -> str:
    """sha256 of what decides a learner's scores: its weights, config and learner.json (evaluations left
    out: recording one does not change a score)."""
    folder = Path(folder)
    digest = hashlib.sha256()
    for name in (CONFIG_FILE, WEIGHTS_FILE):
        path = folder / name
        digest.update(name.encode() + b"\0")
        if path.exists():
            with path.open("rb") as handle:
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(chunk)
    learner_json = json.loads((folder / LEARNER_FILE).read_text())
    learner_json.pop("evaluations", None)
    digest.update(json.dumps(learner_json, sort_keys=True).encode())
    return "sha256:" + digest.hexdigest()
