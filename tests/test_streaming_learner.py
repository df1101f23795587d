"""The `streaming` learner kind: built from a run, saved safely, published, pulled, and started warm."""

import json

import pytest
import safetensors.torch
import torch
from model_helpers import make_tiny_gpt2, make_tiny_llama
from registry_helpers import isolated_learnerhub_home  # noqa: F401 (autouse fixture)

import registry
from learners.base_models import BaseModelRef
from learners.corpora.contexts import TokenizedCorpus
from learners.corpora.corpus import load_corpus
from learners.corpora.examples import Examples
from learners.errors import BaseModelMismatchError
from cards.format.errors import LearnerFormatError
from learners.finetuning.training.loop import FinetuneConfig, finetune
from learners.loading import load_learner
from learners.streaming.filter import LOSS_THRESHOLD, PREDICTOR, StreamingConfig
from learners.streaming.learner import StreamingBuildConfig, StreamingLearner, build_streaming_learner

REF = BaseModelRef(model_id="tiny/gpt2", revision=None, name_or_path="tiny/gpt2")
FILTER = StreamingConfig(warmup_steps=3, threshold_window=16, cutoff_window=16, min_predictor_examples=32)


@pytest.fixture()
def split(tokenizer, jsonl_corpus):
    tokenized = TokenizedCorpus.from_corpus(load_corpus(jsonl_corpus), tokenizer, context_length=16)
    return tokenized.split(objective_size=4, test_size=6, seed=0)


@pytest.fixture()
def built(tiny_gpt2, tokenizer, split):
    examples = Examples(split.train.sample(96, torch.Generator().manual_seed(5)))
    config = StreamingBuildConfig(predictor="bernoulli_nb", examples=96, batch_size=4, lr=1e-3, filter=FILTER)
    return build_streaming_learner(tiny_gpt2, tokenizer, examples, base_model=REF, corpus={"name": "tiny"},
                                   config=config)


def test_building_keeps_the_threshold_and_restores_the_model(tiny_gpt2, tokenizer, split):
    before = {k: v.clone() for k, v in tiny_gpt2.state_dict().items()}
    examples = Examples(split.train.sample(96, torch.Generator().manual_seed(5)))
    config = StreamingBuildConfig(predictor="bernoulli_nb", batch_size=4, lr=1e-3, filter=FILTER)
    learner = build_streaming_learner(tiny_gpt2, tokenizer, examples, base_model=REF, corpus={"name": "tiny"},
                                      config=config)
    assert all(torch.equal(before[k], v) for k, v in tiny_gpt2.state_dict().items())
    metadata = learner.metadata
    assert metadata.kind == "streaming" and metadata.metrics["threshold"] == learner.threshold > 0
    assert metadata.run.examples == 96 and metadata.run.transitions[0]["to"] == LOSS_THRESHOLD
    assert learner.predictor.class_counts.sum() >= 12 and learner.start_stage == LOSS_THRESHOLD


def test_save_load_round_trip_is_exact(tmp_path, built, tiny_gpt2, tokenizer):
    folder = built.save(tmp_path / "learner")
    assert sorted(p.name for p in folder.iterdir()) == [
        "README.md", "assets", "config.json", "learner.json", "model.safetensors"]
    assert (folder / "assets" / "build_plot.png").read_bytes()[:4] == b"\x89PNG"   # the build's loss and threshold
    loaded = load_learner(folder, tiny_gpt2, tokenizer)
    assert isinstance(loaded, StreamingLearner)
    assert loaded.threshold == built.threshold and loaded.start_stage == built.start_stage
    assert loaded.metadata.to_dict() == built.metadata.to_dict()
    assert loaded.filter_config == built.filter_config
    ids = torch.randint(0, len(tokenizer), (6, 16))
    assert torch.equal(loaded.predictor.predict_proba(ids), built.predictor.predict_proba(ids))
    tensors = safetensors.torch.load_file(folder / "model.safetensors")
    assert set(tensors) == {"class_counts", "feature_counts"}
    assert json.loads((folder / "config.json").read_text())["predictor"]["predictor"] == "bernoulli_nb"


def test_wrong_base_model_is_refused(tmp_path, built, tokenizer):
    folder = built.save(tmp_path / "learner")
    with pytest.raises(BaseModelMismatchError, match="built for base model 'tiny/gpt2'.*other input embeddings"):
        load_learner(folder, make_tiny_gpt2(tokenizer, seed=1), tokenizer)
    with pytest.raises(BaseModelMismatchError, match="tiny/gpt2"):
        StreamingLearner.load(folder, make_tiny_llama(tokenizer), tokenizer)


def test_corrupted_or_mismatched_files_are_refused(tmp_path, built, tiny_gpt2, tokenizer):
    folder = built.save(tmp_path / "learner")
    config = json.loads((folder / "config.json").read_text())
    config["predictor"]["vocab_size"] += 1   # the saved counts no longer fit
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(LearnerFormatError, match="corrupted or does not fit"):
        load_learner(folder, tiny_gpt2, tokenizer)
    config["predictor"]["predictor"] = "svm"
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(LearnerFormatError, match="names meta predictor 'svm'"):
        load_learner(folder, tiny_gpt2, tokenizer)
    (folder / "model.safetensors").unlink()
    torch.save({}, folder / "pytorch_model.bin")
    with pytest.raises(LearnerFormatError):
        load_learner(folder, tiny_gpt2, tokenizer)


@pytest.mark.parametrize("start_stage", [PREDICTOR, LOSS_THRESHOLD])
def test_a_pulled_learner_starts_the_run_in_its_stage(tmp_path, built, tiny_gpt2, tokenizer, split, start_stage):
    built.start_stage = start_stage
    store = tmp_path / "store"
    registry.publish(built.save(tmp_path / "learner"), version="1.0.0", store=store)
    assert [s.kind for s in registry.list_learners(corpus="tiny", store=store)] == ["streaming"]
    learner, resolution = registry.pull("tiny", base_model="tiny/gpt2", kind="streaming", store=store,
                                        model=tiny_gpt2, tokenizer=tokenizer)
    assert resolution.repo_id == "local/streaming-gpt2-tiny"
    card = (resolution.folder / "README.md").read_text()
    assert "streaming learner" in card and "multistage-data-filtering" in card
    streaming = learner.make_filter()
    assert streaming.stage == start_stage and streaming.threshold == built.threshold
    assert streaming.wants_losses(0)
    examples = Examples(split.train.sample(64, torch.Generator().manual_seed(8)))
    config = FinetuneConfig(steps=None, batch_size=4, lr=1e-3, eval_every=10 ** 6, candidates_per_draw=16)
    result = finetune(tiny_gpt2, examples, split.test, streaming, config)
    stats = result.filter_stats
    assert stats["start_stage"] == start_stage and stats["warmup_trained"] == 0
    assert all(t["from"] != 0 for t in stats["transitions"])
    assert result.scoring_forward_contexts == 64 - result.skipped_before_forward   # no warm-up: all scored
    if start_stage == PREDICTOR:
        assert stats["transitions"] == []
    # the learner itself is not changed by the run (the filter learns on a copy)
    assert torch.equal(learner.predictor.class_counts, built.predictor.class_counts)


def test_cli_builds_a_streaming_learner_and_finetunes_with_it(tmp_path, tiny_model_folder, jsonl_corpus, capsys):
    from learnerhub.cli.main import main

    tiny = ["--corpus", str(jsonl_corpus), "--base-model", str(tiny_model_folder), "--context-length", "16",
            "--objective-size", "4", "--test-size", "4"]
    out = tmp_path / "streaming"
    assert main(["build", "--kind", "streaming", "--out", str(out), "--examples", "96", "--warmup-steps", "2",
                 "--predictor", "bernoulli_nb", *tiny]) == 0
    assert json.loads((out / "learner.json").read_text())["kind"] == "streaming"
    card = (out / "README.md").read_text()   # the real card, marked unpublished, not the mixin's generic one
    assert card.startswith("---") and "\n# streaming-" in card and "not yet published" in card
    assert "learnerhub publish" in card
    assert "--version 1.0.0" in card and 'version="' not in card and "threshold" in card
    capsys.readouterr()
    assert main(["finetune", "--learner", str(out), "--streaming", "--contexts", "48", "--batch-size", "4",
                 "--warmup-steps", "2", "--eval-every", "100", "--json", *tiny]) == 0
    report = json.loads(capsys.readouterr().out)["results"]
    assert set(report) == {"standard", "streaming", "streaming-pulled-s1"}   # pulled learners start in stage 1
    assert report["standard"]["lm_backward_contexts"] == report["standard"]["contexts_seen"] == 48
    assert report["streaming"]["filter_stats"]["transitions"][0]["to"] == LOSS_THRESHOLD
    assert report["streaming-pulled-s1"]["filter_stats"]["start_stage"] == LOSS_THRESHOLD
