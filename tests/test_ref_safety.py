"""Refs stay unambiguous and unblocked: no tag named main, lifecycle or HEAD (nor a branch HEAD, nor a tag and
a branch sharing a name), and a lock file a killed git left blocks a publish only with an error that says how
to clear it, and never once it is stale with no git running. Real git, real server, unmodified huggingface_hub."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from huggingface_hub import HfApi, constants
from huggingface_hub.errors import HfHubHTTPError
from model_helpers import make_tiny_gpt2
from registry_helpers import isolated_learnerhub_home, make_learner_folder  # noqa: F401 (autouse fixture)
from test_cli_inputs import one_error_line

import registry
from learnerhub.cli.main import main
from registry.errors import InvalidChangeError
from registry.local.store import LocalStore
from server import create_app
from server.testing import running_server

TOKEN = "refs-token"
KJV = "local/igf-gpt2-kjv"


@pytest.fixture()
def store(tmp_path, tokenizer):
    model = make_tiny_gpt2(tokenizer)
    registry.publish(make_learner_folder(tmp_path / "kjv-0", model, tokenizer), version="1.0.0",
                     store=tmp_path / "store")
    return {"root": tmp_path / "store", "repository": tmp_path / "store" / "models" / KJV, "model": model}


def test_ambiguous_ref_names_are_refused(store, monkeypatch):
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
    with running_server(create_app(store["root"], tokens=[TOKEN])) as url:
        api = HfApi(endpoint=url, token=TOKEN)
        api.create_branch(KJV, branch="review")
        for make in (lambda: api.create_tag(KJV, tag="main"), lambda: api.create_tag(KJV, tag="lifecycle"),
                     lambda: api.create_tag(KJV, tag="HEAD"), lambda: api.create_tag(KJV, tag="review"),
                     lambda: api.create_branch(KJV, branch="HEAD")):
            with pytest.raises(HfHubHTTPError) as refused:
                make()
            assert refused.value.response.status_code == 422 and "ambiguous" in str(refused.value)
        refs = api.list_repo_refs(KJV)
        assert {t.name for t in refs.tags} == {"v1.0.0"} and "HEAD" not in {b.name for b in refs.branches}
        api.create_tag(KJV, tag="reviewed")   # an unambiguous name still works
    with pytest.raises(InvalidChangeError, match="ambiguous"):   # the store's writer refuses it too, not only HTTP
        LocalStore(store["root"]).writer.create_tag(KJV, "main", git_head(store["repository"]))


def git_head(repository) -> str:
    return subprocess.run(["git", f"--git-dir={repository}", "rev-parse", "main"], capture_output=True, text=True,
                          check=True).stdout.strip()


def test_a_lock_left_by_a_killed_git_says_how_to_clear_it(store, tmp_path, tokenizer, capsys):
    lock = store["repository"] / "refs" / "tags" / "v1.1.0.lock"
    lock.write_text("")
    folder = make_learner_folder(tmp_path / "kjv-1", store["model"], tokenizer, seed=1)
    line = one_error_line(capsys, "publish", str(folder), "--version", "1.1.0", "--store", str(store["root"]))
    assert f"rm '{lock}'" in line and "v1.1.0.lock" in line
    lock.unlink()   # what the message says to do
    assert main(["publish", str(folder), "--version", "1.1.0", "--store", str(store["root"])]) == 0


def test_a_stale_lock_is_cleared_only_when_no_git_runs_on_the_repository(store, tmp_path, tokenizer, capsys):
    lock = store["repository"] / "refs" / "tags" / "v1.1.0.lock"
    lock.write_text("")
    os.utime(lock, (time.time() - 600, time.time() - 600))
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", f"--git-dir={store['repository']}"])
    try:
        folder = make_learner_folder(tmp_path / "kjv-1", store["model"], tokenizer, seed=1)
        one_error_line(capsys, "publish", str(folder), "--version", "1.1.0", "--store", str(store["root"]))
        assert lock.exists()   # a git working on the repository may hold it: not taken from under it
    finally:
        live.kill()
        live.wait()
    assert main(["publish", str(folder), "--version", "1.1.0", "--store", str(store["root"])]) == 0
    assert not lock.exists()
