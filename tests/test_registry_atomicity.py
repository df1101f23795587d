"""Publishing is atomic and race-safe: killed publishers (SIGKILL) and racing publishers, as real processes.

Each publisher is a `python -c` subprocess. The kill tests use the documented hook
`LEARNERHUB_TEST_PAUSE_AT=<point>` (registry.local.store.pause_point), which makes publish announce the
point on stderr and sleep there until it is killed. Processes run side by side to keep the suite fast.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from registry_helpers import isolated_learnerhub_home, make_learner_folder  # noqa: F401 (autouse fixture)

import registry
from registry.constants import PAUSE_ENV
from registry.local.git import read_refs

REPO = "local/igf-gpt2-kjv"
PUBLISHER = """
import os, sys, time
import learners, registry   # learners registers the shipped kinds (the card of an igf learner needs its kind)
source, version, store, go = sys.argv[1:]
print("ready", file=sys.stderr, flush=True)
while go != "-" and not os.path.exists(go):
    time.sleep(0.005)
try:
    print(registry.publish(source, version=version, store=store).commit, flush=True)
except registry.VersionExistsError as error:
    print(error, file=sys.stderr, flush=True)
    sys.exit(3)
"""


def start_publisher(source: Path, version: str, store: Path, home: Path, *, pause_at: str | None = None,
                    go: Path | None = None) -> subprocess.Popen:
    env = {**os.environ, "LEARNERHUB_HOME": str(home), PAUSE_ENV: pause_at or ""}
    process = subprocess.Popen([sys.executable, "-c", PUBLISHER, str(source), version, str(store), str(go or "-")],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    watchdog = threading.Timer(180, lambda: process.poll() is None and process.kill())  # never hang the suite
    watchdog.daemon = True
    watchdog.start()
    return process


def wait_for(process: subprocess.Popen, announcement: str) -> None:
    for line in process.stderr:
        if announcement in line:
            return
    raise AssertionError(f"publisher exited (rc {process.wait()}) before announcing {announcement!r}")


def store_state(store: Path) -> dict:
    """Every repository and its refs, plus what `list` answers: what a user can see of the store."""
    models = store / "models"
    repositories = {f"{org.name}/{repo.name}": read_refs(repo)
                    for org in (models.iterdir() if models.is_dir() else []) if not org.name.startswith(".")
                    for repo in org.iterdir() if not repo.name.startswith(".")}
    return {"repositories": repositories, "list": registry.list_learners(store=store)}


@pytest.fixture()
def source(tmp_path, tiny_gpt2, tokenizer):
    return make_learner_folder(tmp_path / "learner", tiny_gpt2, tokenizer)


def test_a_publisher_killed_at_any_point_leaves_the_store_as_it_was(tmp_path, source):
    """New repository: killed while staging / before the rename; existing one: after objects / after commit."""
    existing = tmp_path / "existing"
    registry.publish(source, version="1.0.0", store=existing)
    cases = {"after-stage": ("1.0.0", None), "before-rename": ("1.0.0", None),
             "after-objects": ("1.1.0", existing), "after-commit": ("1.1.0", existing)}
    stores, before, processes = {}, {}, {}
    for point, (version, template) in cases.items():
        stores[point] = tmp_path / f"store-{point}"
        if template is not None:
            shutil.copytree(template, stores[point])
        before[point] = store_state(stores[point])
        processes[point] = start_publisher(source, version, stores[point], tmp_path / "home", pause_at=point)
    for point, process in processes.items():
        wait_for(process, f"paused at {point}")
        process.send_signal(signal.SIGKILL)
        assert process.wait() == -signal.SIGKILL
    for point, (version, _) in cases.items():
        assert store_state(stores[point]) == before[point], point
        published = registry.publish(source, version=version, store=stores[point])  # the next publish works
        assert read_refs(stores[point] / "models" / REPO)["refs/heads/main"] == published.commit
        assert registry.list_learners(store=stores[point])[0].latest == version


def test_a_publisher_killed_after_moving_refs_has_published(tmp_path, source):
    """Refs moved but the index generation not stamped: the pending marker still makes `list` see it."""
    store = tmp_path / "store"
    registry.publish(source, version="1.0.0", store=store)
    assert registry.list_learners(store=store)[0].versions == "1.0.0"  # the index exists and is fresh
    process = start_publisher(source, "1.1.0", store, tmp_path / "home", pause_at="after-refs")
    wait_for(process, "paused at after-refs")
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert registry.list_learners(store=store)[0].versions == "1.0.0 1.1.0"
    with pytest.raises(registry.VersionExistsError):
        registry.publish(source, version="1.1.0", store=store)
    assert registry.publish(source, version="1.2.0", store=store).is_latest


def test_two_publishers_racing_for_one_version_have_one_winner(tmp_path, source):
    """Twice: for the first version of a new repository (rename race), and for a new tag (ref race)."""
    existing = tmp_path / "existing"
    registry.publish(source, version="1.0.0", store=existing)
    races = {"new-repository": (tmp_path / "fresh", "1.0.0"), "new-version": (existing, "1.1.0")}
    go = tmp_path / "go"
    processes = {name: [start_publisher(source, version, store, tmp_path / "home", go=go) for _ in range(2)]
                 for name, (store, version) in races.items()}
    for pair in processes.values():
        for process in pair:
            wait_for(process, "ready")
    go.touch()
    for name, (store, version) in races.items():
        outcomes = [(process.wait(), *process.communicate()) for process in processes[name]]
        assert sorted(rc for rc, _, _ in outcomes) == [0, 3], outcomes
        winner = next(out.strip() for rc, out, _ in outcomes if rc == 0)
        loser_message = next(err for rc, _, err in outcomes if rc == 3)
        assert f"version {version} already exists" in loser_message
        refs = read_refs(store / "models" / REPO)
        assert refs[f"refs/tags/v{version}"] == refs["refs/heads/main"] == winner
        assert registry.list_learners(store=store)[0].latest == version


def test_a_hook_or_replace_object_in_a_store_repository_does_nothing(tmp_path, tiny_gpt2, tokenizer):
    """A store repository is data: a hook placed in it never runs and `git replace` cannot swap content."""
    import subprocess

    from registry_helpers import make_learner_folder

    import registry

    store = tmp_path / "store"
    published = registry.publish(make_learner_folder(tmp_path / "a", tiny_gpt2, tokenizer), version="1.0.0",
                                 store=store)
    repository = store / "models" / published.repo_id
    original = subprocess.run(["git", f"--git-dir={repository}", "rev-parse", "v1.0.0:learner.json"],
                              capture_output=True, text=True, check=True).stdout.strip()
    fake = subprocess.run(["git", f"--git-dir={repository}", "hash-object", "-w", "--stdin"], input="{}",
                          capture_output=True, text=True, check=True).stdout.strip()
    subprocess.run(["git", f"--git-dir={repository}", "replace", original, fake], check=True)
    witness = tmp_path / "hook-ran"
    for hook in ("reference-transaction", "post-update", "pre-receive", "update"):
        path = repository / "hooks" / hook
        path.parent.mkdir(exist_ok=True)
        path.write_text(f"#!/bin/sh\ntouch {witness}\n")
        path.chmod(0o755)
    registry.publish(make_learner_folder(tmp_path / "b", tiny_gpt2, tokenizer, seed=1), version="1.1.0", store=store)
    assert not witness.exists()
    learner, _ = registry.pull("kjv", base_model="tiny/gpt2", version="1.0.0", store=store, lock=tmp_path / "lock")
    assert learner.metadata.corpus.name == "kjv"      # the replaced blob ("{}") was not what came back
