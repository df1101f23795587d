"""learner.json's format: format-1 files (published before format 2) still load, list and render;
format 2 round-trips losslessly, keys from a newer learnerhub included; a malformed file is a
LearnerFormatError that says what is wrong, never a KeyError or TypeError."""

from __future__ import annotations

import json

import pytest
from registry_helpers import isolated_learnerhub_home, make_learner_folder  # noqa: F401 (autouse fixture)

import registry
from cards.format.errors import LearnerFormatError
from learners.loading import load_learner
from cards.format.metadata import FORMAT_VERSION, LearnerMetadata, checked_learner, checked_learner_json
from cards.model_card.render import render_card


def format_1(fingerprints: dict, **changes) -> dict:
    """An IGF learner.json as learnerhub wrote it in format 1 (spelled out, not produced by today's code)."""
    return {
        "kind": "igf", "format_version": 1, "learnerhub_version": "0.1.0", "created_at": "2026-01-02T03:04:05+00:00",
        "base_model": {"model_id": "tiny/gpt2", "revision": None, "name_or_path": "tiny/gpt2",
                       "architecture": "GPT2LMHeadModel", "vocab_size": 512, "embedding_dim": 32},
        **fingerprints,
        "corpus": {"name": "kjv", "fingerprint": "sha256:kjv", "documents": 40, "usable_documents": 38},
        "pool": {},
        "probe": {"name": "fast", "estimate": "ppl * lr * <g_objective, sign(g_context)>", "lr": 5e-05,
                  "layers": None, "row_fraction": 1.0, "objective_size": 100},
        "hyperparameters": {"probe": "fast", "pairs": 480, "seed": 0, "context_length": 32},
        "metrics": {"test_spearman": 0.41, "pairs": 480},
        "evaluations": [], **changes}


STREAMING_RUN = {"name": "loss-threshold", "task": "CausalLMTask", "examples": 96, "trained_examples": 40,
                 "skipped_forward": 20, "skipped_backward": 36, "final_stage": 2,
                 "transitions": [{"from": 0, "to": 1, "step": 4}]}


@pytest.fixture()
def format_1_folder(tmp_path, tiny_gpt2, tokenizer):
    """A learner folder whose learner.json is in format 1 (weights and config as today's)."""
    folder = make_learner_folder(tmp_path / "old", tiny_gpt2, tokenizer, corpus="kjv")
    saved = json.loads((folder / "learner.json").read_text())
    fingerprints = {key: saved[key] for key in ("tokenizer_fingerprint", "embedding_fingerprint")}
    (folder / "learner.json").write_text(json.dumps(format_1(fingerprints)))
    return folder


def test_a_format_1_learner_loads_attaches_publishes_lists_and_renders_its_card(format_1_folder, tmp_path,
                                                                                tiny_gpt2, tokenizer):
    learner = load_learner(format_1_folder, tiny_gpt2, tokenizer)
    metadata = learner.metadata
    assert metadata.format_version == FORMAT_VERSION and metadata.pool is None and metadata.run is None
    assert (metadata.probe.name, metadata.probe.objective_size, metadata.corpus.usable_documents) == ("fast", 100, 38)
    assert metadata.base_model.architecture == "GPT2LMHeadModel" and metadata.created_at.startswith("2026-01-02")
    published = registry.publish(format_1_folder, version="1.0.0", store=tmp_path / "store")   # stored as it is
    [listed] = registry.list_learners(store=tmp_path / "store")
    assert (listed.repo_id, listed.kind, listed.corpus, listed.base_model) == (published.repo_id, "igf", "kjv",
                                                                               "tiny/gpt2")
    card = render_card(metadata, repo_id=published.repo_id, version="1.0.0").text
    assert "**kjv**" in card and "| pairs | `480` |" in card and "| test_spearman | 0.41 |" in card
    pulled, _ = registry.pull("kjv", base_model="tiny/gpt2", store=tmp_path / "store", model=tiny_gpt2,
                              tokenizer=tokenizer)
    assert pulled.metadata.probe == metadata.probe


def test_a_format_1_streaming_learner_has_its_run_statistics_under_run(tmp_path):
    old = format_1({"tokenizer_fingerprint": "t", "embedding_fingerprint": {"sha256": "e", "shape": [512, 32]}},
                   kind="streaming", probe=STREAMING_RUN)
    (tmp_path / "learner.json").write_text(json.dumps(old))
    metadata = LearnerMetadata.load(tmp_path, kind="streaming")
    assert metadata.probe is None and metadata.run.trained_examples == 40 and metadata.run.final_stage == 2
    card = render_card(metadata, repo_id="local/streaming-gpt2-kjv", version="1.0.0").text
    assert "| trained_examples | `40` |" in card and "| name | `loss-threshold` |" in card
    metadata.save(tmp_path)
    migrated = json.loads((tmp_path / "learner.json").read_text())
    assert migrated["format_version"] == 2 and "probe" not in migrated and migrated["run"] == STREAMING_RUN
    assert checked_learner_json(old)["probe"] == STREAMING_RUN      # the server passes the file on as it is
    assert checked_learner(old).run.examples == 96


def test_format_2_round_trips_losslessly_with_keys_a_newer_learnerhub_wrote(format_1_folder):
    LearnerMetadata.load(format_1_folder).save(format_1_folder)
    data = json.loads((format_1_folder / "learner.json").read_text())
    data.update(licence_note="from a newer learnerhub", signatures=[{"by": "x"}])
    data["corpus"]["language"] = "en"
    data["base_model"]["quantisation"] = {"bits": 4}
    data["pool"] = {"name": "mixed", "fingerprint": "sha256:m", "share_of_target": 0.2}
    data["probe"]["objective_parts"] = 2
    data["evaluations"] = [{"id": "e1", "effect": {"final": {"median_ratio": 0.9}}, "future": True}]
    (format_1_folder / "learner.json").write_text(json.dumps(data))
    metadata = LearnerMetadata.load(format_1_folder)
    assert metadata.extra == {"licence_note": "from a newer learnerhub", "signatures": [{"by": "x"}]}
    assert metadata.corpus.extra == {"language": "en"} and metadata.pool.extra == {"share_of_target": 0.2}
    metadata.save(format_1_folder)
    first = (format_1_folder / "learner.json").read_text()
    assert json.loads(first) == data
    LearnerMetadata.load(format_1_folder).save(format_1_folder)
    assert (format_1_folder / "learner.json").read_text() == first
    assert LearnerMetadata.load(format_1_folder) == metadata


@pytest.mark.parametrize("change, message", [
    ({"corpus": {"fingerprint": "sha256:x"}}, "corpus.name is missing"),
    ({"corpus": {"name": 7}}, "corpus.name must be a string, not a number"),
    ({"base_model": "gpt2"}, "base_model must be an object, not a string"),
    ({"base_model": {"model_id": ["gpt2"]}}, "base_model.model_id must be a string or null, not a list"),
    ({"pool": {"name": None}}, "pool.name must be a string, not null"),
    ({"probe": {"objective_size": "100"}}, "probe.objective_size must be an integer or null, not a string"),
    ({"kind": "streaming", "probe": {"transitions": {"to": 1}}}, "run.transitions must be a list or null"),
    ({"format_version": 2, "run": {"final_stage": True}}, "run.final_stage must be an integer or null, not a boolean"),
    ({"metrics": [1, 2]}, "metrics must be an object, not a list"),
    ({"evaluations": [{"id": "a"}, 5]}, "evaluations must be a list of objects, not a list holding a number"),
    ({"tokenizer_fingerprint": None}, "tokenizer_fingerprint must be a string, not null"),
    ({"format_version": "2"}, "format_version must be a positive integer"),
])
def test_a_malformed_section_is_a_learner_format_error_naming_it(tmp_path, change, message):
    data = format_1({"tokenizer_fingerprint": "t", "embedding_fingerprint": {"sha256": "e"}}, **change)
    (tmp_path / "learner.json").write_text(json.dumps(data))
    with pytest.raises(LearnerFormatError, match="is malformed: .*" + message.replace("(", r"\(")):
        LearnerMetadata.load(tmp_path)
    if "fingerprint" not in message and "evaluations" not in message:   # listings drop junk evaluations
        with pytest.raises(LearnerFormatError, match=message.replace("(", r"\(")):
            checked_learner_json(data, source="org/x@main learner.json")


def test_a_missing_field_and_a_newer_format_say_what_to_do(tmp_path):
    data = format_1({"tokenizer_fingerprint": "t", "embedding_fingerprint": {"sha256": "e"}})
    (tmp_path / "learner.json").write_text(json.dumps({k: v for k, v in data.items() if k != "kind"}))
    with pytest.raises(LearnerFormatError, match="kind is missing"):
        LearnerMetadata.load(tmp_path)
    (tmp_path / "learner.json").write_text(json.dumps({**data, "format_version": 3, "shiny": {}}))
    with pytest.raises(LearnerFormatError, match="format version 3.*Upgrade learnerhub"):
        LearnerMetadata.load(tmp_path)
    # A listing still shows a newer learner by what this version knows of it.
    assert checked_learner({**data, "format_version": 3, "shiny": {}}).extra == {"shiny": {}}


def test_a_listing_needs_no_fingerprints_and_drops_numbers_it_cannot_sort():
    data = {"kind": "igf", "base_model": {"model_id": "m"}, "corpus": {"name": "kjv"},
            "metrics": {"big": 10 ** 400, "nan": float("nan"), "ok": 1.5, "flag": True},
            "evaluations": [5, {"id": "a"}]}
    checked = checked_learner_json(data)
    assert checked["metrics"] == {"ok": 1.5} and checked["evaluations"] == [{"id": "a"}]
    assert "tokenizer_fingerprint" not in checked and checked_learner(data).corpus.name == "kjv"
