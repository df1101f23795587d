"""The `affinity` threshold: where measured gain rates near-domain text like the target (R5), a target-vs-pool
classifier, fitted at build and saved beside the head, tells them apart; it survives save and load."""

import safetensors.torch
import pytest
import torch

from learners.corpora.contexts import ContextStream, CorpusSplit
from cards.format.errors import UsageError
from learners.igf.build import BuildConfig, attach_target_affinity, learner_from_pairs
from learners.igf.filter import InformationGainFilter
from learners.igf.head_training import HeadTrainingConfig
from learners.igf.learner import InformationGainLearner
from learners.igf.thresholds import AffinityQuantile, DefaultLevel, TargetQuantile, parse_threshold
from cards.format.metadata_sections import CorpusInfo, ProbeInfo
from learners.target_affinity import AFFINITY_PREFIX
from test_target_threshold import REF, contexts_of

TARGET = "lord said unto moses aaron children israel offering".split()
NEAR = "def class import return yield lambda print module".split()       # as informative as the target, per its labels
UNRELATED = "the of and to in is was for".split()


@pytest.fixture()
def pools(tokenizer):
    return {name: (lambda n, seed, words=words: contexts_of(tokenizer, words, n, seed))
            for name, words in (("target", TARGET), ("near", NEAR), ("unrelated", UNRELATED))}


@pytest.fixture()
def near_domain_learner(tiny_gpt2, tokenizer, pools):
    """Gain labels high for target and near-domain text alike, low for unrelated text; built with its pool."""
    noise = torch.Generator().manual_seed(3)
    contexts = torch.cat([pools["target"](60, 1), pools["near"](60, 2), pools["unrelated"](60, 3)])
    gains = torch.cat([1 + 0.3 * torch.randn(120, generator=noise), -1 + 0.3 * torch.randn(60, generator=noise)])
    config = BuildConfig(context_length=16, calibration_contexts=200, head=HeadTrainingConfig(head="bag_of_tokens"))
    learner = learner_from_pairs(tiny_gpt2, tokenizer, REF, contexts, gains, config=config,
                                 probe=ProbeInfo(name="fast"), target=CorpusInfo(name="target"),
                                 pool=CorpusInfo(name="pool"), calibration=contexts,
                                 target_calibration=pools["target"](200, 7))
    target_documents = list(pools["target"](40, 8))
    split = CorpusSplit(objective=pools["target"](4, 9), test=pools["target"](4, 10),
                        train=ContextStream(list(contexts), 16), target_train=ContextStream(target_documents, 16))
    attach_target_affinity(learner, tokenizer, split, contexts, pools["target"](200, 7), config)
    return learner


def kept(learner, threshold, contexts: torch.Tensor) -> float:
    return float(InformationGainFilter(learner, threshold).select_before_forward(contexts, 0).float().mean())


def test_affinity_drops_near_domain_text_that_gain_alone_keeps(near_domain_learner, pools):
    target, near, unrelated = pools["target"](300, 21), pools["near"](300, 22), pools["unrelated"](300, 23)
    assert kept(near_domain_learner, TargetQuantile(0.1), near) > 0.5       # the labels rate near like the target
    assert kept(near_domain_learner, AffinityQuantile(0.1), near) < 0.2     # the affinity can
    assert kept(near_domain_learner, AffinityQuantile(0.1), target) > 0.8   # and keeps the target's own text
    assert kept(near_domain_learner, AffinityQuantile(0.1), unrelated) < 0.1
    metrics = near_domain_learner.metadata.metrics
    assert len(metrics["affinity_target_quantiles"]) == 101 and metrics["affinity_target_std"] > 0


def test_affinity_is_saved_beside_the_head_and_loads_back(near_domain_learner, tiny_gpt2, tokenizer, pools, tmp_path):
    folder = near_domain_learner.save(tmp_path / "learner")
    names = set(safetensors.torch.load_file(str(folder / "model.safetensors")))
    assert {f"{AFFINITY_PREFIX}coef", f"{AFFINITY_PREFIX}intercept"} <= names
    loaded = InformationGainLearner.load(folder, tiny_gpt2, tokenizer)
    contexts = torch.cat([pools["target"](20, 31), pools["near"](20, 32)])
    assert torch.allclose(loaded.affinity_score(contexts), near_domain_learner.affinity_score(contexts), atol=1e-5)
    assert torch.equal(loaded.score(contexts), near_domain_learner.score(contexts))


def test_a_learner_without_affinity_says_how_to_get_one(near_domain_learner):
    near_domain_learner.affinity = None
    with pytest.raises(UsageError, match="--target"):
        InformationGainFilter(near_domain_learner, AffinityQuantile(0.1))


def test_affinity_threshold_is_spelled_on_the_command_line():
    assert parse_threshold("affinity") == AffinityQuantile()
    assert parse_threshold("affinity:0.2") == AffinityQuantile(0.2)
    with pytest.raises(ValueError, match="affinity:QUANTILE"):
        parse_threshold("affinity:1.5")


def test_the_default_uses_the_affinity_when_the_learner_has_one(near_domain_learner, pools):
    near = pools["near"](300, 41)
    default = DefaultLevel(0.1)
    assert parse_threshold("default") == DefaultLevel() and parse_threshold("default:0.2") == DefaultLevel(0.2)
    assert kept(near_domain_learner, default, near) == kept(near_domain_learner, AffinityQuantile(0.1), near) < 0.2
    described = InformationGainFilter(near_domain_learner, default).describe()["threshold"]
    assert described["kind"] == "default" and described["uses"] == "affinity"
    assert described["value"] == pytest.approx(near_domain_learner.affinity_quantile(0.1))
    near_domain_learner.affinity = None      # built without a pool: the default is the target level on gain alone
    assert kept(near_domain_learner, default, near) == kept(near_domain_learner, TargetQuantile(0.1), near) > 0.5
    assert InformationGainFilter(near_domain_learner, default).describe()["threshold"]["uses"] == "target"


def test_scoring_then_filtering_at_the_default_keeps_what_fine_tuning_keeps(near_domain_learner, tokenizer, pools,
                                                                             tiny_model_folder, tmp_path):
    """`learnerhub score` scores with the default's score (gain plus affinity) and records its cut, so
    `filter --threshold default` keeps the documents the in-loop default keeps (issue 20: offline = online)."""
    import json

    import pyarrow.parquet as pq

    from learners.pipeline.filter_shards import filter_shards
    from learners.pipeline.score_shards import score_shards

    near_domain_learner.metadata.base_model.name_or_path = str(tiny_model_folder)
    folder = near_domain_learner.save(tmp_path / "learner")
    contexts = torch.cat([pools["target"](30, 51), pools["near"](30, 52), pools["unrelated"](30, 53)])
    texts = tokenizer.batch_decode(contexts.tolist(), skip_special_tokens=True, clean_up_tokenization_spaces=False)
    shard = tmp_path / "pool.jsonl"
    shard.write_text("".join(json.dumps({"id": f"d{i}", "text": t}) + "\n" for i, t in enumerate(texts)))
    ids = torch.tensor([tokenizer(t, add_special_tokens=False)["input_ids"] for t in texts])
    assert ids.shape == contexts.shape      # one context per document: its score is the context's

    score_shards(folder, [shard], tmp_path / "scores", workers=1, progress=False)
    manifest = json.loads((tmp_path / "scores" / "pool.jsonl.scores.json").read_text())
    assert manifest["score"] == "default"
    assert manifest["default_threshold"] == pytest.approx(near_domain_learner.affinity_quantile(0.1))
    scores = pq.read_table(tmp_path / "scores" / "pool.jsonl.scores.parquet")["score"].to_numpy()
    assert scores == pytest.approx(near_domain_learner.affinity_score(ids).numpy(), abs=1e-5)

    cut, (result,) = filter_shards([shard], tmp_path / "scores", tmp_path / "kept", threshold="default")
    kept_ids = [json.loads(line)["id"] for line in (tmp_path / "kept" / "pool.jsonl").read_text().splitlines()]
    in_loop = InformationGainFilter(near_domain_learner, DefaultLevel()).select_before_forward(ids, 0)
    assert kept_ids == [f"d{i}" for i in range(len(texts)) if in_loop[i]]
    assert 0 < result.kept < 40       # the target's 30 and little else: near-domain text is dropped

    score_shards(folder, [shard], tmp_path / "gain", workers=1, score="gain", progress=False)
    with pytest.raises(UsageError, match="--score default"):
        filter_shards([shard], tmp_path / "gain", tmp_path / "kept2", threshold="default")
