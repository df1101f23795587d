"""The version lifecycle in the local store: yank, un-yank, delete, aliases, and what every reader then agrees on."""

from __future__ import annotations

import json
import warnings

import pytest
from model_helpers import make_tiny_gpt2
from registry_helpers import isolated_learnerhub_home, make_learner_folder  # noqa: F401 (autouse fixture)

import registry
from learnerhub.cli.main import main
from registry.local.git import git
from registry.lifecycle import Lifecycle, LifecycleEvent
from registry.versions import VersionSpec

REPO = "local/igf-gpt2-kjv"


@pytest.fixture()
def store(tmp_path, tokenizer):
    """A store holding 1.0.0, 1.1.0 and 1.2.0 of one learner."""
    model = make_tiny_gpt2(tokenizer)
    for seed, version in enumerate(("1.0.0", "1.1.0", "1.2.0")):
        registry.publish(make_learner_folder(tmp_path / f"v{seed}", model, tokenizer, seed=seed), version=version,
                         store=tmp_path / "store")
    return tmp_path / "store"


def main_commit(store) -> str:
    return git(store / "models" / REPO, "rev-parse", "main").decode().strip()


def tag_commit(store, version: str) -> str:
    return git(store / "models" / REPO, "rev-parse", f"v{version}").decode().strip()


def test_a_yanked_version_is_chosen_only_by_an_exact_pin(store, tmp_path):
    lock = tmp_path / "learnerhub.lock"
    registry.download("kjv", base_model="tiny/gpt2", version="1.2.0", store=store, lock=lock)
    registry.yank(f"{REPO}@1.2.0", reason="trained on the test split", store=store)

    assert registry.list_learners(store=store)[0].latest == "1.1.0"
    assert main_commit(store) == tag_commit(store, "1.1.0")          # main left the yanked version
    assert registry.download("kjv", base_model="tiny/gpt2", store=store).version == "1.1.0"
    assert registry.download("kjv", base_model="tiny/gpt2", version=">=1.0", store=store).version == "1.1.0"
    with pytest.warns(registry.RegistryWarning, match="yanked .trained on the test split"):
        assert registry.download("kjv", base_model="tiny/gpt2", version="1.2.0", store=store).version == "1.2.0"
    with pytest.warns(registry.RegistryWarning):
        assert registry.download("kjv", base_model="tiny/gpt2", store=store, lock=lock, locked=True).version == "1.2.0"
    described = registry.info(f"{REPO}@1.2.0", store=store)
    assert described.yanked == "trained on the test split" and registry.info(REPO, store=store).version == "1.1.0"

    registry.unyank(f"{REPO}@1.2.0", store=store)
    assert registry.list_learners(store=store)[0].latest == "1.2.0"
    assert main_commit(store) == tag_commit(store, "1.2.0")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert registry.download("kjv", base_model="tiny/gpt2", store=store).version == "1.2.0"


def test_aliases_move_with_an_audit_line(store):
    registry.set_alias(REPO, "production", "1.0.0", reason="passed review", store=store)
    assert registry.download("kjv", base_model="tiny/gpt2", version="production", store=store).version == "1.0.0"
    registry.set_alias(REPO, "production", "1.1.0", store=store)
    state = registry.lifecycle(REPO, store=store)
    assert state.aliases == {"production": "1.1.0"}
    assert [line.split(" ", 1)[1].split(" by ")[0] for line in state.history()] == [
        "alias production -> 1.0.0", "alias production -> 1.1.0"]
    assert registry.info(f"{REPO}@production", store=store).version == "1.1.0"
    registry.remove_alias(REPO, "production", store=store)
    with pytest.raises(registry.VersionNotFoundError, match="no alias 'production'"):
        registry.download("kjv", base_model="tiny/gpt2", version="production", store=store)
    registry.yank(f"{REPO}@1.0.0", reason="bad", store=store)
    with pytest.raises(registry.LifecycleError, match="yanked"):
        registry.set_alias(REPO, "staging", "1.0.0", store=store)
    with pytest.raises(registry.InvalidVersionError):
        registry.set_alias(REPO, "deadbeef", "1.1.0", store=store)   # a commit id, not a name


def test_a_deleted_version_is_gone_and_its_number_never_reused(store, tmp_path, tokenizer):
    registry.set_alias(REPO, "production", "1.2.0", store=store)
    registry.delete_version(f"{REPO}@1.2.0", reason="licence problem", store=store)
    assert "refs/tags/v1.2.0" not in git(store / "models" / REPO, "show-ref").decode()
    assert main_commit(store) == tag_commit(store, "1.1.0")
    assert registry.list_learners(store=store)[0].versions == "1.0.0 1.1.0"
    assert registry.lifecycle(REPO, store=store).aliases == {}     # an alias of a deleted version goes with it
    with pytest.raises(registry.VersionNotFoundError):
        registry.download("kjv", base_model="tiny/gpt2", version="1.2.0", store=store)
    with pytest.raises(registry.VersionExistsError, match="never reused"):
        registry.publish(make_learner_folder(tmp_path / "again", make_tiny_gpt2(tokenizer), tokenizer, seed=9),
                         version="1.2.0", store=store)
    with pytest.raises(registry.VersionNotFoundError):
        registry.yank(f"{REPO}@1.2.0", reason="again", store=store)


def test_the_log_is_append_only_and_replays_to_the_same_state(store):
    registry.yank(f"{REPO}@1.1.0", reason="r1", store=store)
    registry.set_alias(REPO, "staging", "1.2.0", store=store)
    text = git(store / "models" / REPO, "cat-file", "blob", "lifecycle:lifecycle.json")
    replayed = Lifecycle.from_json(text, source="test")
    assert replayed.yanked == {"1.1.0": "r1"} and replayed.aliases == {"staging": "1.2.0"}
    history = git(store / "models" / REPO, "log", "--format=%s", "lifecycle").decode().split("\n")
    assert history[:2] == ["alias staging -> 1.2.0", "yank 1.1.0"]
    assert json.loads(text)["events"][0]["commit"] == tag_commit(store, "1.1.0")


def test_a_malformed_log_is_that_repositorys_problem(store):
    repository = store / "models" / REPO
    blob = git(repository, "hash-object", "-w", "--stdin", input=b"{not json").decode().strip()
    tree = git(repository, "mktree", input=f"100644 blob {blob}\tlifecycle.json\n".encode()).decode().strip()
    commit = git(repository, "commit-tree", tree, "-m", "broken").decode().strip()
    git(repository, "update-ref", "refs/heads/lifecycle", commit)
    with pytest.raises(registry.LifecycleError, match="not a valid learnerhub lifecycle log"):
        registry.download("kjv", base_model="tiny/gpt2", store=store)
    listed = registry.list_learners(store=store, refresh=True)   # the listing itself works
    assert [(s.repo_id, s.latest) for s in listed] == [(REPO, None)]


def test_version_specs_with_a_lifecycle():
    published = {"1.0.0": "a" * 40, "1.1.0": "b" * 40, "2.0.0rc1": "c" * 40}
    state = Lifecycle.replay([LifecycleEvent("yank", "1.1.0", "x"), LifecycleEvent("alias", "1.0.0", alias="prod")])
    assert VersionSpec.parse(None).pick(published, state)[0] == "1.0.0"
    assert VersionSpec.parse("~=1.0").pick(published, state)[0] == "1.0.0"
    assert VersionSpec.parse("==1.1.0").pick(published, state)[0] == "1.1.0"
    assert VersionSpec.parse("bbbbbbb").pick(published, state)[0] == "1.1.0"
    assert VersionSpec.parse("prod").pick(published, state)[0] == "1.0.0"
    with pytest.raises(registry.VersionNotFoundError, match=r"1.1.0 \(yanked\)"):
        VersionSpec.parse(">=1.1,<2").pick(published, state)


def test_the_command_line(store, capsys):
    assert main(["yank", f"{REPO}@1.1.0", "--reason", "leaked", "--store", str(store)]) == 0
    assert main(["yank", f"{REPO}@1.1.0", "--reason", "again", "--store", str(store)]) == 2
    assert "already yanked" in capsys.readouterr().err
    assert main(["yank", REPO, "--reason", "x", "--store", str(store)]) == 2
    assert "one exact version" in capsys.readouterr().err
    assert main(["alias", REPO, "production", "1.0.0", "--store", str(store)]) == 0
    assert main(["alias", REPO, "--store", str(store)]) == 0
    assert "production -> 1.0.0" in capsys.readouterr().out
    assert main(["info", f"{REPO}@1.1.0", "--store", str(store)]) == 0
    out = capsys.readouterr().out
    assert "YANKED: leaked" in out and "1.1.0 (yanked)" in out and "alias production -> 1.0.0" in out
    assert main(["pull", f"{REPO}@1.1.0", "--store", str(store), "--no-lock"]) == 0
    assert "learnerhub: warning:" in capsys.readouterr().err
    assert main(["delete", f"{REPO}@1.2.0", "--reason", "gone", "--store", str(store), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["deleted"] == ["1.2.0"]
    assert main(["alias", REPO, "nope", "--remove", "--store", str(store)]) == 2


def test_the_last_choosable_version_and_unprintable_reasons_are_refused(store):
    registry.yank(f"{REPO}@1.2.0", reason="a", store=store)
    registry.delete_version(f"{REPO}@1.1.0", reason="b", store=store)
    with pytest.raises(registry.LifecycleError, match="last version that can be chosen"):
        registry.yank(f"{REPO}@1.0.0", reason="c", store=store)
    with pytest.raises(registry.LifecycleError, match="control characters"):
        registry.unyank(f"{REPO}@1.2.0", reason="ok\x1b[2Jred\nsecond", store=store)
    with pytest.raises(registry.LifecycleError, match="keep it under"):
        registry.set_alias(REPO, "staging", "1.0.0", reason="x" * 501, store=store)
    assert registry.info(f"{REPO}@v1", store=store).version == "1.0.0"   # `v1` is the spec ==1, not an alias


def test_a_version_an_alias_names_is_not_yanked_until_the_alias_moves(store, capsys):
    registry.set_alias(REPO, "production", "1.1.0", store=store)
    assert main(["yank", f"{REPO}@1.1.0", "--reason", "leaked", "--store", str(store)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "named by the alias(es) production: move them first" in err
    assert registry.lifecycle(REPO, store=store).yanked == {}   # nothing recorded
    registry.set_alias(REPO, "production", "1.0.0", reason="1.1.0 leaked", store=store)
    registry.yank(f"{REPO}@1.1.0", reason="leaked", store=store)
    state = registry.lifecycle(REPO, store=store)
    assert state.yanked == {"1.1.0": "leaked"} and state.aliases == {"production": "1.0.0"}
    assert registry.download("kjv", base_model="tiny/gpt2", version="production", store=store).version == "1.0.0"
