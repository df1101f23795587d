"""Publishing that recovers: a publisher killed between its tag and `main` has published, and the next
publish moves `main` forward; ref locks left by a killed git are cleared once stale; `main` never moves
back to an older version. Real git repositories and real killed processes (see test_registry_atomicity)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from registry_helpers import isolated_learnerhub_home, make_learner_folder  # noqa: F401 (autouse fixture)
from test_registry_atomicity import REPO, start_publisher, wait_for

import registry
from registry.errors import StoreError
from registry.local.git import git, read_refs


@pytest.fixture()
def source(tmp_path, tiny_gpt2, tokenizer):
    return make_learner_folder(tmp_path / "learner", tiny_gpt2, tokenizer)


def refs(store):
    return read_refs(store / "models" / REPO)


def test_a_kill_between_the_tag_and_main_then_recovery_and_republish(tmp_path, source):
    store = tmp_path / "store"
    first = registry.publish(source, version="1.0.0", store=store)
    process = start_publisher(source, "1.1.0", store, tmp_path / "home", pause_at="after-tag")
    wait_for(process, "paused at after-tag")
    process.send_signal(signal.SIGKILL)
    assert process.wait() == -signal.SIGKILL
    killed = refs(store)
    assert killed["refs/heads/main"] == first.commit and "refs/tags/v1.1.0" in killed   # published, main behind
    assert not list((store / "models" / REPO).rglob("*.lock"))
    pulled, _ = registry.pull("kjv", base_model="tiny/gpt2", store=store, lock=tmp_path / "lock")
    assert pulled.metadata.corpus.name == "kjv"
    with pytest.raises(registry.VersionExistsError):           # republishing says what is true, and repairs main
        registry.publish(source, version="1.1.0", store=store)
    assert refs(store)["refs/heads/main"] == killed["refs/tags/v1.1.0"]
    newer = registry.publish(source, version="1.2.0", store=store)
    assert refs(store)["refs/heads/main"] == newer.commit == refs(store)["refs/tags/v1.2.0"]
    assert registry.list_learners(store=store)[0].latest == "1.2.0"


def test_the_half_published_state_of_the_old_protocol_is_repaired(tmp_path, source):
    """main on an untagged commit plus stale HEAD.lock and tag locks (what a kill inside git's multi-ref
    transaction left): the next publish of that version succeeds instead of "main kept moving"."""
    store = tmp_path / "store"
    registry.publish(source, version="1.0.0", store=store)
    repository = store / "models" / REPO
    main = refs(store)["refs/heads/main"]
    untagged = git(repository, "commit-tree", f"{main}^{{tree}}", "-p", main, "-m", "half").decode().strip()
    git(repository, "update-ref", "refs/heads/main", untagged)
    locks = [repository / "HEAD.lock", repository / "refs" / "heads" / "main.lock",
             repository / "refs" / "tags" / "v1.1.0.lock"]
    for lock in locks:
        lock.write_text(untagged)
        os.utime(lock, (time.time() - 600, time.time() - 600))
    published = registry.publish(source, version="1.1.0", store=store)
    assert refs(store)["refs/heads/main"] == refs(store)["refs/tags/v1.1.0"] == published.commit
    assert not any(lock.exists() for lock in locks)
    assert git(repository, "rev-parse", f"{published.commit}^").decode().strip() == untagged   # a fast-forward


def test_a_fresh_lock_is_left_alone_and_named(tmp_path, source):
    store = tmp_path / "store"
    registry.publish(source, version="1.0.0", store=store)
    before = refs(store)
    lock = store / "models" / REPO / "refs" / "tags" / "v1.1.0.lock"
    lock.write_text("")
    with pytest.raises(StoreError, match="v1.1.0.lock"):
        registry.publish(source, version="1.1.0", store=store)
    assert lock.exists() and refs(store) == before


def test_main_only_moves_forward(tmp_path, source):
    store = tmp_path / "store"
    newest = registry.publish(source, version="2.0.0", store=store)
    older = registry.publish(source, version="1.5.0", store=store)
    assert not older.is_latest and refs(store)["refs/heads/main"] == newest.commit
    assert refs(store)["refs/tags/v1.5.0"] == older.commit


def test_the_cli_reports_a_lock_in_one_line(tmp_path, source):
    store = tmp_path / "store"
    registry.publish(source, version="1.0.0", store=store)
    (store / "models" / REPO / "refs" / "tags" / "v1.1.0.lock").write_text("")
    result = subprocess.run([sys.executable, "-m", "learnerhub.cli", "publish", str(source), "--version", "1.1.0",
                             "--store", str(store)], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "LEARNERHUB_HOME": str(tmp_path / "home")})
    assert result.returncode == 2 and "Traceback" not in result.stderr and "v1.1.0.lock" in result.stderr
