"""One identity type (kind, corpus and pool, base model or none): what a pull asks for, what a repository holds,
what a lock file pins; `pull` needs --base-model only when the kind is built for one."""

from __future__ import annotations

import pytest
from model_helpers import make_tiny_gpt2
from registry_helpers import isolated_learnerhub_home, make_learner_folder  # noqa: F401 (autouse fixture)

import registry
from learnerhub.cli.main import main
from cards.format.errors import UsageError
from cards.format.identity import LearnerIdentity
from cards.format.kinds import learner_kind
from cards.format.metadata import LearnerMetadata
from registry.lockfile import find_locked
from cards.format.naming import learner_repository_name


def test_a_kind_for_any_base_model_needs_none_and_ignores_one():
    assert LearnerIdentity.requested("igf_text", "kjv", None).base_model is None
    assert LearnerIdentity.requested("igf_text", "kjv", "tiny/gpt2") == LearnerIdentity("igf_text", "kjv", None)
    assert LearnerIdentity.requested("igf_text", "kjv", None).key() == ("igf_text", "kjv", "any")
    with pytest.raises(UsageError, match="built for one base model: give --base-model"):
        LearnerIdentity.requested("igf", "kjv", None)


def test_a_learner_knows_its_identity_and_the_pool_does_not_split_it(tmp_path, tokenizer):
    model = make_tiny_gpt2(tokenizer)
    metadata = LearnerMetadata.load(make_learner_folder(tmp_path / "l", model, tokenizer, corpus="kjv"))
    identity = metadata.identity
    assert identity == LearnerIdentity("igf", "kjv", "tiny/gpt2") and identity.pool is None
    assert LearnerIdentity("igf", "kjv", "tiny/gpt2", pool="kjv+pydocs") == identity
    assert learner_repository_name(metadata) == "igf-gpt2-kjv"
    text = learner_kind("igf_text").behaviour("example")(model, tokenizer)
    assert text.identity.base_model is None and learner_repository_name(text.metadata).startswith("igf-text-any-")


def test_pull_by_corpus_needs_base_model_only_when_the_kind_does(tmp_path, tokenizer, capsys):
    model = make_tiny_gpt2(tokenizer)
    store = tmp_path / "store"
    text = learner_kind("igf_text").behaviour("example")(model, tokenizer)
    registry.publish(text.save(tmp_path / "text"), version="1.0.0", store=store)
    registry.publish(make_learner_folder(tmp_path / "igf", model, tokenizer, corpus="tiny"), version="1.0.0",
                     store=store)
    lock = tmp_path / "learnerhub.lock"
    assert main(["pull", "tiny", "--kind", "igf_text", "--store", str(store), "--lock", str(lock)]) == 0
    assert find_locked(lock, LearnerIdentity("igf_text", "tiny", None)).version == "1.0.0"
    assert main(["pull", "tiny", "--store", str(store), "--no-lock"]) == 2
    assert "a igf learner is built for one base model: give --base-model" in capsys.readouterr().err
    assert main(["pull", "tiny", "--base-model", "tiny/gpt2", "--store", str(store), "--no-lock"]) == 0
