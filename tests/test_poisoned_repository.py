"""One malformed repository stays its own problem: every listing answers 200 and other pulls work."""

from __future__ import annotations

import json
import subprocess
import sys

import httpx
import pytest
from model_helpers import make_tiny_gpt2
from registry_helpers import isolated_learnerhub_home, make_learner_folder  # noqa: F401 (autouse fixture)

import registry
from server import create_app
from server.testing import running_server

POISONS = {
    "metrics-list": lambda learner: {**learner, "metrics": [1, 2]},
    "huge-int": lambda learner: {**learner, "metrics": {"test_spearman": 10 ** 400}},
    "base-model-string": lambda learner: {**learner, "base_model": "gpt2"},
    "corpus-null": lambda learner: {**learner, "corpus": None},
    "json-list": lambda learner: [learner],
    "evaluations-junk": lambda learner: {**learner, "evaluations": [{"effect": "no"}, 5]},
}


def commit_on_main(repository, path: str, content: bytes, work) -> None:
    """Replace one file on main with plain git (as a write-token holder pushing with `hf` could)."""
    env = {"GIT_DIR": str(repository), "GIT_WORK_TREE": str(work), "GIT_AUTHOR_NAME": "x", "GIT_AUTHOR_EMAIL": "x@x",
           "GIT_COMMITTER_NAME": "x", "GIT_COMMITTER_EMAIL": "x@x", "PATH": "/usr/bin:/bin"}
    work.mkdir()
    subprocess.run(["git", "read-tree", "main"], env=env, check=True)
    (work / path).write_bytes(content)
    subprocess.run(["git", "add", path], env=env, check=True, cwd=work)
    subprocess.run(["git", "commit", "-q", "-m", "poison"], env=env, check=True, cwd=work)


@pytest.fixture(scope="module")
def poisoned_store(tmp_path_factory, tokenizer):
    root = tmp_path_factory.mktemp("poison")
    model = make_tiny_gpt2(tokenizer)
    store = root / "store"
    registry.publish(make_learner_folder(root / "healthy", model, tokenizer, corpus="kjv"), version="1.0.0",
                     store=store)
    for seed, (name, poison) in enumerate(POISONS.items(), start=1):
        published = registry.publish(make_learner_folder(root / name, model, tokenizer, corpus=name, seed=seed),
                                     version="1.0.0", store=store)
        repository = store / "models" / published.repo_id
        learner = json.loads(subprocess.run(["git", f"--git-dir={repository}", "show", "main:learner.json"],
                                            capture_output=True, check=True).stdout)
        commit_on_main(repository, "learner.json", json.dumps(poison(learner)).encode(), root / f"work-{name}")
    repository = store / "models" / registry.publish(make_learner_folder(root / "dated", model, tokenizer,
                                                                          corpus="dated", seed=99),
                                                     version="1.0.0", store=store).repo_id
    card = subprocess.run(["git", f"--git-dir={repository}", "show", "main:README.md"], capture_output=True,
                          check=True).stdout
    dated = card.replace(b"---\n", b"---\ncreated: 2024-01-01\nblob: !!binary aGk=\n", 1)
    commit_on_main(repository, "README.md", dated, root / "work-dated")
    return {"store": store, "model": model}


def test_every_listing_answers_200_with_poisoned_repositories_among_healthy_ones(poisoned_store):
    with running_server(create_app(poisoned_store["store"])) as url:
        for path, params in (("/api/learners", {}), ("/api/learners", {"sort": "test_spearman"}), ("/", {}),
                             ("/api/corpora", {}), ("/api/base-models", {}),
                             ("/api/leaderboard", {"corpus": "*", "base_model": "tiny/gpt2"}),
                             ("/api/models", {"full": "true"}),
                             ("/leaderboard", {"corpus": "kjv", "base_model": "tiny/gpt2"}),
                             ("/learners/local/igf-gpt2-kjv", {})):
            answer = httpx.get(url + path, params=params, timeout=60)
            assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])
        names = [item["repo_id"] for item in httpx.get(url + "/api/learners", params={"per_page": 50}).json()["items"]]
        assert "local/igf-gpt2-kjv" in names


def test_list_and_other_pulls_work_beside_poisoned_repositories(poisoned_store, tmp_path):
    store = str(poisoned_store["store"])
    listing = subprocess.run([sys.executable, "-m", "learnerhub.cli", "list", "--store", store, "--json"],
                             capture_output=True, text=True, timeout=120)
    assert listing.returncode == 0 and "Traceback" not in listing.stderr, listing.stderr
    assert any(json.loads(line)["repo_id"] == "local/igf-gpt2-kjv" for line in listing.stdout.splitlines())
    _, resolution = registry.pull("kjv", base_model="tiny/gpt2", store=store, lock=tmp_path / "lock")
    assert resolution.version == "1.0.0"
    pulled = subprocess.run([sys.executable, "-m", "learnerhub.cli", "pull", "corpus-null", "--base-model",
                             "tiny/gpt2", "--store", store, "--no-lock"], capture_output=True, text=True, timeout=120)
    assert pulled.returncode == 2 and "Traceback" not in pulled.stderr and pulled.stderr.count("\n") == 1, pulled.stderr
