"""The browse API over httpx against a live server: search, filters, sorting, pages, ETags, leaderboards."""

from __future__ import annotations

import httpx
import pytest
from model_helpers import make_tiny_gpt2
from registry_helpers import isolated_learnerhub_home, make_learner_folder  # noqa: F401 (autouse fixture)

import registry
from server import create_app
from server.testing import running_server

#: (org, corpus, model id, version, IGF test perplexity): standard perplexity is 40 for every learner.
LEARNERS = [("local", "kjv", "tiny/gpt2", "1.0.0", 38.0), ("local", "kjv", "tiny/gpt2", "1.1.0", 30.0),
            ("team", "kjv", "tiny/gpt2", "1.0.0", 34.0), ("local", "pydocs", "tiny/gpt2", "1.0.0", 44.0),
            ("local", "kjv", "other/llama", "1.0.0", 36.0)]


def metrics(igf: float, seed: int) -> dict:
    return {"test_perplexity_standard": 40.0, "test_perplexity_igf": igf, "test_spearman": 0.1 * seed}


@pytest.fixture(scope="module")
def browse(tmp_path_factory, tokenizer):
    root = tmp_path_factory.mktemp("browse")
    model = make_tiny_gpt2(tokenizer)
    for seed, (org, corpus, model_id, version, igf) in enumerate(LEARNERS):
        folder = make_learner_folder(root / f"l{seed}", model, tokenizer, corpus=corpus, model_id=model_id,
                                     seed=seed, metrics=metrics(igf, seed), plot=True)
        registry.publish(folder, version=version, org=org, store=root / "store")
    with running_server(create_app(root / "store", tokens=["t"])) as url, httpx.Client(base_url=url) as client:
        yield {"client": client, "root": root, "model": model}


def ids(answer: dict) -> list[str]:
    return [item["repo_id"] for item in answer["items"]]


def test_list_search_filters_sorting_and_pages(browse):
    client = browse["client"]
    everything = client.get("/api/learners", params={"sort": "name"}).json()
    assert everything["total"] == 4 and ids(everything) == sorted(ids(everything))
    assert ids(client.get("/api/learners", params={"search": "pydocs"}).json()) == ["local/igf-gpt2-pydocs"]
    assert ids(client.get("/api/learners", params={"search": "kjv llama"}).json()) == ["local/igf-llama-kjv"]
    by_filters = client.get("/api/learners", params={"corpus": "kjv", "base_model": "tiny/gpt2", "kind": "igf"}).json()
    assert ids(by_filters) == ["local/igf-gpt2-kjv", "team/igf-gpt2-kjv"]
    assert ids(client.get("/api/learners", params={"corpus": "py*"}).json()) == ["local/igf-gpt2-pydocs"]
    best = client.get("/api/learners", params={"sort": "perplexity_ratio"}).json()
    assert ids(best) == ["local/igf-gpt2-kjv", "team/igf-gpt2-kjv", "local/igf-llama-kjv", "local/igf-gpt2-pydocs"]
    assert best["items"][0]["metrics"]["perplexity_ratio"] == pytest.approx(0.75)
    assert best["items"][0]["latest"] == "1.1.0" and best["items"][0]["versions"] == ["1.0.0", "1.1.0"]
    assert ids(client.get("/api/learners").json()) == ids(best)     # by default, ranked by the measured effect
    newest = client.get("/api/learners", params={"sort": "date", "order": "desc"}).json()
    dates = [item["created_at"] for item in newest["items"]]
    assert dates == sorted(dates, reverse=True)
    first, second = (client.get("/api/learners", params={"per_page": 3, "page": page}).json() for page in (1, 2))
    assert first["pages"] == 2 and len(first["items"]) == 3 and len(second["items"]) == 1
    assert set(ids(first)) | set(ids(second)) == set(ids(everything))


def test_one_learner_its_versions_card_and_files(browse):
    client = browse["client"]
    learner = client.get("/api/learners/local/igf-gpt2-kjv").json()
    assert learner["version"] == "1.1.0" and learner["metrics"]["test_perplexity_igf"] == 30.0
    assert [v["version"] for v in learner["versions"]] == ["1.1.0", "1.0.0"]
    assert learner["learner"]["corpus"]["name"] == "kjv"
    files = {f["path"]: f for f in learner["files"]}
    assert "assets/perplexity.png" in files and len(files["model.safetensors"]["sha256"]) == 64
    older = client.get("/api/learners/local/igf-gpt2-kjv", params={"version": "1.0.0"}).json()
    assert older["metrics"]["test_perplexity_igf"] == 38.0 and older["commit"] != learner["commit"]
    card = client.get("/api/learners/local/igf-gpt2-kjv/card")
    assert card.headers["content-type"].startswith("text/markdown") and "# local/igf-gpt2-kjv" in card.text
    plot = client.get(f"/local/igf-gpt2-kjv/resolve/{learner['commit']}/assets/perplexity.png")
    assert plot.content.startswith(b"\x89PNG")
    assert client.get("/api/learners/local/nothing-here").status_code == 404
    assert client.get("/api/learners/local/igf-gpt2-kjv", params={"version": "9.9.9"}).status_code == 404


def test_corpora_base_models_and_leaderboard(browse):
    client = browse["client"]
    assert client.get("/api/corpora").json() == [{"name": "kjv", "learners": 3}, {"name": "pydocs", "learners": 1}]
    assert {b["name"] for b in client.get("/api/base-models").json()} == {"tiny/gpt2", "other/llama"}
    board = client.get("/api/leaderboard", params={"corpus": "kjv", "base_model": "tiny/gpt2"}).json()
    assert board["metric"] == "perplexity_ratio" and board["lower_is_better"] is True
    assert [(r["repo_id"], r["version"]) for r in board["rows"]] == [
        ("local/igf-gpt2-kjv", "1.1.0"), ("team/igf-gpt2-kjv", "1.0.0"), ("local/igf-gpt2-kjv", "1.0.0")]
    by_spearman = client.get("/api/leaderboard", params={"corpus": "kjv", "base_model": "tiny/gpt2",
                                                         "metric": "test_spearman"}).json()
    assert [r["metrics"]["test_spearman"] for r in by_spearman["rows"]] == pytest.approx([0.2, 0.1, 0.0])


def test_etags_answer_304_until_the_store_changes(browse, tokenizer):
    client = browse["client"]
    for path, params in (("/api/learners", {"corpus": "kjv"}), ("/api/learners/team/igf-gpt2-kjv", {}),
                         ("/api/leaderboard", {"corpus": "kjv", "base_model": "tiny/gpt2"})):
        first = client.get(path, params=params)
        etag = first.headers["etag"]
        again = client.get(path, params=params, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""
    listing = client.get("/api/learners", params={"corpus": "kjv"})
    folder = make_learner_folder(browse["root"] / "new", browse["model"], tokenizer, corpus="kjv", seed=9,
                                 metrics=metrics(20.0, 9))
    registry.publish(folder, version="1.2.0", store=browse["root"] / "store")
    changed = client.get("/api/learners", params={"corpus": "kjv"}, headers={"If-None-Match": listing.headers["etag"]})
    assert changed.status_code == 200 and changed.json()["items"][0]["latest"] == "1.2.0"


def test_the_api_is_documented(browse):
    client = browse["client"]
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/learners", "/api/learners/{org}/{name}", "/api/leaderboard", "/api/corpora",
            "/api/models"} <= set(paths)
    assert client.get("/docs").status_code == 200


def test_a_restarted_server_sorts_by_metric_without_reading_learners_again(browse, tmp_path, tokenizer):
    from registry.local.store import LocalStore
    from registry.local.repository_reader import RepositoryReader
    from server.browse.catalog import FACTS_CACHE_FILE, Catalog, ListQuery

    live = browse["client"].get("/api/learners", params={"sort": "perplexity_ratio"}).json()
    store = LocalStore(browse["root"] / "store")
    assert (store.index.state / FACTS_CACHE_FILE).is_file()   # the live server kept what it read

    class CountingReader(RepositoryReader):
        """The real reader, counting the files it reads through git."""
        reads = 0

        def read_text(self, *args, **kwargs):
            CountingReader.reads += 1
            return super().read_text(*args, **kwargs)

    def restarted(root) -> tuple[list[str], int]:
        CountingReader.reads = 0
        store = LocalStore(root)
        store.reader = CountingReader(store.layout)
        catalog = Catalog(store, facts_cache=store.index.state / FACTS_CACHE_FILE)
        answer = catalog.query(ListQuery(sort="metric:perplexity_ratio"))
        return [(item["repo_id"], item["metrics"].get("perplexity_ratio")) for item in answer["items"]], \
            CountingReader.reads

    warm, reads = restarted(browse["root"] / "store")
    assert reads == 0 and warm == [(item["repo_id"], item["metrics"]["perplexity_ratio"]) for item in live["items"]]

    # A repository deleted and published anew under the same version: its tag moved, so it is read again.
    import shutil
    root = tmp_path / "store"
    model = browse["model"]
    for igf in (38.0, 20.0):
        if (root / "models").exists():
            shutil.rmtree(root / "models" / "local" / "igf-gpt2-kjv")
        folder = make_learner_folder(tmp_path / f"l{igf}", model, tokenizer, metrics=metrics(igf, 1))
        registry.publish(folder, version="1.0.0", org="local", store=root)
        listed, reads = restarted(root)
        assert listed == [("local/igf-gpt2-kjv", pytest.approx(igf / 40))] and reads == 1
    assert restarted(root) == (listed, 0)
