"""Learner folders for registry tests, made without training: a random head and honest fingerprints."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import torch

from learners.fingerprint import embedding_fingerprint, tokenizer_fingerprint
from learners.igf.conv_head import InformationGainHead
from learners.igf.learner import InformationGainLearner
from cards.format.metadata_sections import BaseModelInfo, CorpusInfo, ProbeInfo
from cards.format.metadata import LearnerMetadata


def make_learner_folder(folder: Path, model, tokenizer, *, corpus: str = "kjv", model_id: str = "tiny/gpt2",
                        seed: int = 0, metrics: dict | None = None, dataset_id: str | None = None,
                        plot: bool = False, evaluations: list[dict] | None = None) -> Path:
    """Save an InformationGainLearner for `model` (as if built on `corpus`) into `folder`."""
    torch.manual_seed(seed)
    head = InformationGainHead(embedding_dim=model.get_input_embeddings().weight.shape[1], channels=8, hidden=4)
    metadata = LearnerMetadata(
        kind="igf", base_model=BaseModelInfo(model_id=model_id, name_or_path=model_id),
        tokenizer_fingerprint=tokenizer_fingerprint(tokenizer),
        embedding_fingerprint=embedding_fingerprint(model.get_input_embeddings().weight),
        corpus=CorpusInfo(name=corpus, fingerprint=f"sha256:{corpus}-{seed}", dataset_id=dataset_id),
        probe=ProbeInfo.from_dict({"probe": "fast", "pairs": 64}), hyperparameters={"seed": seed, "context_length": 32},
        metrics=metrics if metrics is not None else {"test_spearman": 0.41, "test_mse": 0.83,
                                                     "test_perplexity_standard": 32.5,
                                                     "test_perplexity_igf": 30.1},
        evaluations=evaluations or [])
    InformationGainLearner(head, metadata).save(folder)
    if plot:
        (folder / "assets").mkdir()
        (folder / "assets" / "perplexity.png").write_bytes(b"\x89PNG\r\n\x1a\n fake plot bytes")
    return Path(folder)


def evaluation_record(ratio: float, ci: tuple[float, float] | None, *, target: str = "kjv", pool: str = "kjv+pydocs",
                      vs_random: float = 0.97, seeds: int = 5) -> dict:
    """An evaluation record as `learnerhub eval` writes it, with the fields cards and listings read."""
    def effect(value, interval):
        return {"seeds": seeds, "median_ratio": value, "ci_low": interval[0] if interval else None,
                "ci_high": interval[1] if interval else None, "p_value": 0.01 if interval else None, "wins": seeds}

    return {"id": f"eval-{ratio}", "date": "2026-11-23T00:00:00+00:00",
            "regime": {"target": {"name": target, "fingerprint": "sha256:t"},
                       "pool": {"name": pool, "fingerprint": "sha256:p"}, "target_is_pool": target == pool},
            "protocol": {"steps": 30, "batch_size": 8}, "seeds": list(range(seeds)),
            "effect": {"final": effect(ratio, ci), "best": effect(ratio, ci), "vs_random_final": effect(vs_random, ci)},
            "acceptance_rate": 0.5, "arms": {}}


@pytest.fixture(autouse=True)
def isolated_learnerhub_home(tmp_path, monkeypatch):
    """Keep the default store and cache of every registry test inside its temporary folder."""
    import cards.format.constants
    import registry.constants

    monkeypatch.setattr(registry.constants, "LEARNERHUB_HOME", tmp_path / "home")
    monkeypatch.setattr(cards.format.constants, "LEARNERHUB_HOME", tmp_path / "home")
    monkeypatch.delenv("LEARNERHUB_STORE", raising=False)
    return tmp_path / "home"


@contextmanager
def served_hub(root: Path, tokenizer, *, tokens=None, plot: bool = False,
               other_corpora: tuple[str, ...] = ()) -> Iterator[dict]:
    """A store under `root` with the kjv learner published as 1.0.0 (seed 0) and 1.1.0 (seed 1), and one
    1.0.0 learner per corpus in `other_corpora`, served by `learnerhub serve` on an ephemeral port.

    Yields {"url", "store", "root", "model"}; the Hub API tests drive it with unmodified huggingface_hub.
    """
    import registry
    from model_helpers import make_tiny_gpt2
    from server import create_app
    from server.testing import running_server

    model = make_tiny_gpt2(tokenizer)
    for version, seed in (("1.0.0", 0), ("1.1.0", 1)):
        registry.publish(make_learner_folder(root / f"kjv-{seed}", model, tokenizer, seed=seed, plot=plot),
                         version=version, store=root / "store")
    for seed, corpus in enumerate(other_corpora, start=2):
        registry.publish(make_learner_folder(root / corpus, model, tokenizer, corpus=corpus, seed=seed),
                         version="1.0.0", store=root / "store")
    with running_server(create_app(root / "store", tokens=tokens)) as url:
        yield {"url": url, "store": root / "store", "root": root, "model": model}


@pytest.fixture()
def no_xet(monkeypatch, tmp_path):
    """huggingface_hub uploads as plain HTTP (the server has no Xet storage) and caches in the test's folder."""
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
    monkeypatch.setenv("HF_HUB_DISABLE_XET", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.delenv("HF_TOKEN", raising=False)
