"""The text-level IGF kind (`igf_text`): built from a labelling model, loaded and used with no or any base
model, the same kept set whichever tokenizer cut the texts, published and pulled without naming a base model;
and the token-level kinds' refusal pointing at it."""

from __future__ import annotations

import json

import pytest
import safetensors
import torch
from model_helpers import WORDS, make_tiny_gpt2, make_tiny_llama, metadata_for, synthetic_documents
from registry_helpers import isolated_learnerhub_home  # noqa: F401 (autouse fixture)

import registry
from learnerhub.cli.main import main
from learners.base_models import BaseModelRef
from learners.corpora.corpus import Corpus
from learners.errors import BaseModelMismatchError
from cards.format.errors import LearnerFormatError
from learners.igf.build import BuildConfig
from learners.igf.filter import InformationGainFilter
from learners.igf.thresholds import TopFraction
from learners.loading import load_learner
from learners.text_igf.build import build_text_learner
from learners.text_igf.learner import TextInformationGainLearner

TINY = ["--context-length", "16", "--objective-size", "4", "--test-size", "4"]
CODE_WORDS = [w[::-1] for w in WORDS]
#: Texts the filter sees, of the target's words or others, to be cut by two different tokenizers.
TEXTS = synthetic_documents(8, words=14, seed=11) + synthetic_documents(8, words=14, seed=12, vocabulary=CODE_WORDS)


def train_byte_level_tokenizer(texts: list[str], vocab_size: int):
    """A GPT-2-style byte-level BPE tokenizer trained here: decoding gives back exactly the text encoded."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.train_from_iterator(texts, trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=["<eos>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, eos_token="<eos>", pad_token="<eos>")


@pytest.fixture(scope="module")
def corpora(documents) -> tuple[Corpus, Corpus]:
    """(pool, target): the target's documents mixed with as many of other words."""
    target = Corpus("bible", tuple(documents), "test")
    other = synthetic_documents(40, seed=5, vocabulary=CODE_WORDS)
    return Corpus("bible+code", tuple(documents) + tuple(other), "test"), target


@pytest.fixture(scope="module")
def byte_tokenizers(corpora):
    """Two different tokenizers of the same texts (the users' base models) and a third (the labeller's)."""
    texts = list(corpora[0].documents)
    return tuple(train_byte_level_tokenizer(texts, size) for size in (300, 420, 360))


@pytest.fixture(scope="module")
def built(corpora, byte_tokenizers) -> TextInformationGainLearner:
    pool, target = corpora
    labeller_tokenizer = byte_tokenizers[2]
    config = BuildConfig(pairs=60, objective_size=5, test_size=5, context_length=16, calibration_contexts=128)
    return build_text_learner(make_tiny_gpt2(labeller_tokenizer), labeller_tokenizer, pool,
                              BaseModelRef("tiny/gpt2", "abc123", "tiny/gpt2"), config, target=target)


def test_the_build_records_its_labeller_and_works_with_any_base_model(built, tokenizer):
    metadata = built.metadata
    assert metadata.kind == "igf_text" and metadata.base_model.model_id == "any"
    assert metadata.labeller.model_id == "tiny/gpt2" and metadata.labeller.revision == "abc123"
    assert metadata.labeller.extra["tokenizer_fingerprint"].startswith("sha256:")
    assert metadata.corpus.name == "bible" and metadata.pool.name == "bible+code" and metadata.probe.name == "fast"
    metrics = metadata.metrics
    assert metrics["pairs"] == 60 and -1 <= metrics["test_spearman"] <= 1
    assert -1 <= metrics["labeller_bag_of_tokens_test_spearman"] <= 1   # the token head on the same pairs
    assert len(metrics["prediction_quantiles"]) == 101 and metrics["prediction_std"] > 0
    assert len(metrics["target_prediction_quantiles"]) == 101   # the default threshold, target:Q, is placed there
    assert metadata.hyperparameters["head"]["buckets"] == 2 ** 18 and metadata.hyperparameters["context_length"] == 16


def test_save_and_load_need_no_base_model(built, tmp_path):
    folder = built.save(tmp_path / "learner")
    config = json.loads((folder / "config.json").read_text())
    assert config["head"] == "hashed_text_ridge" and config["char_ngrams"] == [3, 5] and config["buckets"] == 2 ** 18
    with safetensors.safe_open(str(folder / "model.safetensors"), "pt") as weights:
        # the head, and the target affinity and word-order model beside it (built from a pool with a target)
        order = ("bigram_counts", "bigram_keys", "context_counts", "followers", "unigram_counts", "unigram_keys")
        assert sorted(weights.keys()) == ["affinity.coef", "affinity.intercept", "coef", "intercept",
                                          *(f"order.{name}" for name in order)]
    assert not [p for p in folder.rglob("*") if p.suffix in (".bin", ".pt", ".pkl", ".pickle")]
    loaded = load_learner(folder)
    assert isinstance(loaded, TextInformationGainLearner) and not loaded.attached
    assert loaded.score_texts(TEXTS).tolist() == built.score_texts(TEXTS).tolist()
    assert len(set(loaded.score_texts(TEXTS).round(6))) > 1
    assert loaded.metadata.to_dict() == built.metadata.to_dict()


def test_filtering_with_two_tokenizers_keeps_the_same_texts(built, byte_tokenizers):
    kept = []
    encodings = []
    for tokenizer, make in zip(byte_tokenizers, (make_tiny_gpt2, make_tiny_llama)):
        ids = tokenizer(TEXTS, padding=True, return_tensors="pt")["input_ids"]
        assert tokenizer.batch_decode(ids, skip_special_tokens=True) == TEXTS
        encodings.append(ids)
        learner = built.attach(make(tokenizer), tokenizer)
        kept.append([InformationGainFilter(learner, threshold).select_before_forward(ids, step=0)
                     for threshold in (TopFraction(0.5), None)])   # None: the default (affinity:Q: built with a target)
    assert encodings[0].shape != encodings[1].shape   # the two tokenizers really cut the texts differently
    for first, second in zip(*kept):
        assert torch.equal(first, second)
    assert 0 < int(kept[0][0].sum()) < len(TEXTS)
    assert torch.equal(built.score(encodings[1]), torch.from_numpy(built.score_texts(TEXTS)).float())


def test_a_token_level_learner_refuses_another_base_model_and_names_the_text_kind(tmp_path, tokenizer,
                                                                                   byte_tokenizers):
    from learners.igf.conv_head import InformationGainHead
    from learners.igf.learner import InformationGainLearner

    model = make_tiny_gpt2(tokenizer)
    InformationGainLearner(InformationGainHead(32, channels=8, hidden=4), metadata_for(model, tokenizer)).save(
        tmp_path / "igf")
    other = byte_tokenizers[0]
    for given_model, given_tokenizer in ((make_tiny_llama(other), other),
                                         (make_tiny_gpt2(tokenizer, seed=7), tokenizer)):
        with pytest.raises(BaseModelMismatchError, match=r"any base model \(`learnerhub build --kind igf_text`\)"):
            load_learner(tmp_path / "igf", given_model, given_tokenizer)


def test_a_damaged_text_learner_is_a_format_error(built, tmp_path):
    folder = built.save(tmp_path / "learner")
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "buckets": 1024}))
    with pytest.raises(LearnerFormatError, match="does not fit"):
        load_learner(folder)
    (folder / "config.json").write_text(json.dumps({**config, "head": "bag_of_tokens"}))
    with pytest.raises(LearnerFormatError, match="text-level head"):
        load_learner(folder)


def test_publish_then_pull_by_corpus_without_a_base_model(built, tmp_path, capsys, byte_tokenizers):
    folder = built.save(tmp_path / "learner")
    store = str(tmp_path / "store")
    assert main(["publish", str(folder), "--version", "1.0.0", "--store", store, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["repo_id"] == "local/igf-text-any-bible"
    assert main(["pull", "bible", "--kind", "igf_text", "--store", store, "--no-lock", "--json"]) == 0
    resolution = json.loads(capsys.readouterr().out)
    assert resolution["version"] == "1.0.0" and resolution["base_model"] == "any"
    assert load_learner(resolution["folder"]).score_texts(TEXTS).tolist() == built.score_texts(TEXTS).tolist()
    assert main(["pull", "local/igf-text-any-bible@1.0.0", "--store", store, "--no-lock", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["folder"] == resolution["folder"]
    assert main(["pull", "local/igf-text-any-bible@1.0.0", "--base-model", "smollm2", "--store", store,
                 "--no-lock", "--json"]) == 0   # a repository id with any base model named: still this learner
    assert json.loads(capsys.readouterr().out)["folder"] == resolution["folder"]
    other = byte_tokenizers[1]   # the learner serves whatever base model the user names, or none
    pulled, _ = registry.pull("bible", base_model="tiny/llama", kind="igf_text", store=store,
                              model=make_tiny_llama(other), tokenizer=other)
    assert pulled.attached and pulled.score_texts(TEXTS).tolist() == built.score_texts(TEXTS).tolist()


def _write_jsonl(path, texts):
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts))
    return path


def test_cli_build_then_finetune_and_eval_on_a_base_model_of_another_tokenizer(tmp_path, tiny_model_folder,
                                                                                documents, byte_tokenizers, capsys):
    target = _write_jsonl(tmp_path / "bible.jsonl", documents)
    off = _write_jsonl(tmp_path / "code.jsonl", synthetic_documents(40, seed=5, vocabulary=CODE_WORDS))
    other_model = tmp_path / "tiny-llama"
    make_tiny_llama(byte_tokenizers[0]).save_pretrained(other_model)
    byte_tokenizers[0].save_pretrained(other_model)
    folder = tmp_path / "learner"
    corpora = ["--corpus", str(target), str(off), "--target", str(target), *TINY]
    assert main(["build", "--kind", "igf_text", *corpora, "--base-model", str(tiny_model_folder), "--out",
                 str(folder), "--pairs", "40"]) == 0
    printed = capsys.readouterr().out
    assert "for any base model, labelled by" in printed and "bag-of-tokens head on the same pairs" in printed
    card, labeller = (folder / "README.md").read_text(), json.loads((folder / "learner.json").read_text())["labeller"]
    assert labeller["name_or_path"] == str(tiny_model_folder)
    assert "text-level information-gain learner" in card and f"| labelling model | `{labeller['model_id']}`" in card
    assert "Not measured yet on any base model" in card and "base_model:" not in card.split("---")[1]

    assert main(["finetune", *corpora, "--base-model", str(other_model), "--learner", str(folder), "--steps", "2",
                 "--batch-size", "4", "--eval-every", "1", "--json"]) == 0
    results = json.loads(capsys.readouterr().out)["results"]
    assert {"standard", "igf"} <= set(results) and 0 < results["igf"]["acceptance_rate"] < 1

    assert main(["eval", str(folder), *corpora, "--base-model", str(other_model), "--seeds", "1", "--steps", "2",
                 "--batch-size", "4", "--eval-every", "1", "--no-target-arm", "--json"]) == 0
    record = json.loads((folder / "learner.json").read_text())["evaluations"][-1]
    assert record["base_model"]["model_id"] == "tiny-llama"   # the base model's id, as the eval loaded it
    assert "Evaluated on base model(s): `tiny-llama`" in (folder / "README.md").read_text()


def test_a_head_flag_for_a_text_learner_is_one_line_and_exit_2(tmp_path, tiny_model_folder, jsonl_corpus, capsys):
    assert main(["build", "--kind", "igf_text", "--corpus", str(jsonl_corpus), "--base-model", str(tiny_model_folder),
                 "--out", str(tmp_path / "x"), "--head", "conv", *TINY]) == 2
    assert "reads text" in capsys.readouterr().err and not (tmp_path / "x").exists()


def test_learnerhub_score_reads_a_text_learner_without_a_base_model(built, tmp_path, capsys):
    import pyarrow.parquet as pq

    folder = built.save(tmp_path / "learner")
    shard = _write_jsonl(tmp_path / "shard.jsonl", TEXTS)
    assert main(["score", str(folder), "--corpus", str(shard), "--out", str(tmp_path / "scores")]) == 0
    scores = pq.read_table(tmp_path / "scores" / "shard.jsonl.scores.parquet").to_pydict()["score"]
    assert scores == pytest.approx(built.score_documents(TEXTS, score="default").mean.tolist())   # the default's score
    assert main(["score", str(folder), "--corpus", str(shard), "--out", str(tmp_path / "gain"), "--score", "gain"]) == 0
    gains = pq.read_table(tmp_path / "gain" / "shard.jsonl.scores.parquet").to_pydict()["score"]
    assert gains == pytest.approx(built.score_texts(TEXTS).tolist())
    assert built.has_affinity and scores != pytest.approx(gains)   # built from a pool: the default adds its affinity



def test_browse_by_works_with_base_model(built, tmp_path, tokenizer):
    """The browse API and the list page find, for a base model, the learners built on it and the text-level ones
    (marked measured where an evaluation fine-tuned that model)."""
    import copy

    import httpx
    from registry_helpers import evaluation_record, make_learner_folder

    from server import create_app
    from server.testing import running_server

    store = tmp_path / "store"
    measured = copy.copy(built)
    measured.metadata = copy.deepcopy(built.metadata)
    measured.metadata.evaluations = [{**evaluation_record(0.9, (0.85, 0.95)), "base_model": {"model_id": "tiny/llama"}}]
    registry.publish(measured.save(tmp_path / "text"), version="1.0.0", store=store)
    registry.publish(make_learner_folder(tmp_path / "gpt2", make_tiny_gpt2(tokenizer), tokenizer,
                                         model_id="tiny/gpt2"), version="1.0.0", store=store)
    with running_server(create_app(store)) as url, httpx.Client(base_url=url) as client:
        def works_with(model: str) -> dict:
            answer = client.get("/api/learners", params={"works_with": model}).json()
            return {item["repo_id"]: item["works_with"] for item in answer["items"]}

        assert works_with("tiny/llama") == {"local/igf-text-any-bible": "measured on it"}
        assert works_with("tiny/gpt2") == {"local/igf-gpt2-kjv": "built on it",
                                           "local/igf-text-any-bible": "any base model, not yet measured on it"}
        page = client.get("/", params={"works_with": "tiny/llama"}).text
        assert "measured on it" in page and "igf-gpt2-kjv" not in page
