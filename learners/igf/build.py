"""Build an IGF learner for a (corpus, base model): sample contexts, probe their gain, train the head.

Probing is embarrassingly parallel: under `accelerate launch` every process probes its own shard of
the contexts (all processes draw the same contexts from the same seed), and the pairs are gathered
and put back in context order, so the result does not depend on the number of processes.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from accelerate import Accelerator
from accelerate.utils import gather_object
from torch import nn

from cards.format.metadata_sections import CorpusInfo, ProbeInfo
from cards.format.metadata import LearnerMetadata

from ..base_models import BaseModelRef
from ..constants import DEFAULT_CONTEXT_LENGTH, DEFAULT_OBJECTIVE_SIZE
from ..corpora.contexts import ContextStream, CorpusSplit, TokenizedCorpus
from ..corpora.corpus import Corpus
from ..distributed import make_accelerator
from ..errors import CorpusError
from ..fingerprint import embedding_fingerprint, tokenizer_fingerprint
from ..progress import stage
from ..embedding_affinity import EmbeddingAffinity
from ..target_affinity import TargetAffinity
from ..word_order import ORDER_FIT_TOKENS, ORDER_GATE_QUANTILE, WordOrderModel
from .document_cut import calibrate_document_cut
from .head_training import HeadTrainingConfig, held_out_predictions, train_information_gain_head
from .information_gain import make_probe
from .learner import IGF_KIND, InformationGainLearner, combined_target_score


@dataclass
class BuildConfig:
    """What `learnerhub build` does; recorded in learner.json so the build can be reproduced."""

    probe: str = "fast"
    pairs: int = 480
    objective_size: int = DEFAULT_OBJECTIVE_SIZE
    test_size: int = DEFAULT_OBJECTIVE_SIZE
    context_length: int = DEFAULT_CONTEXT_LENGTH
    seed: int = 0
    probe_batch_size: int = 16
    probe_layers: int | None = None
    calibration_contexts: int = 1024
    head: HeadTrainingConfig = field(default_factory=HeadTrainingConfig)

    def to_dict(self) -> dict:
        return asdict(self)


def split_corpus(corpus: Corpus, tokenizer, config: BuildConfig) -> tuple[TokenizedCorpus, CorpusSplit]:
    """The split a learner is built on; `finetune` uses the same one so its test set stays unseen."""
    tokenized = TokenizedCorpus.from_corpus(corpus, tokenizer, context_length=config.context_length)
    return tokenized, tokenized.split(objective_size=config.objective_size, test_size=config.test_size,
                                      seed=config.seed)


def split_target_and_pool(pool: Corpus, target: Corpus | None, tokenizer, config: BuildConfig, *,
                          progress: bool = False) -> tuple[TokenizedCorpus, TokenizedCorpus, CorpusSplit]:
    """Objective and test sets from the target's documents, training contexts from the pool's.

    Without a target, the pool is split as `split_corpus` does (the paper's set-up). With one, pool
    documents identical to a held-out target document are dropped, so no objective or test text is
    ever trained on or probed, even when the pool contains the target corpus. `progress` says so on stderr.
    """
    named = f"corpus {pool.name!r} ({len(pool)} documents)"
    if target is not None:
        named = f"pool {pool.name!r} ({len(pool)} documents) and target {target.name!r} ({len(target)} documents)"
    stage(f"tokenizing {named} into contexts of {config.context_length} tokens", enabled=progress)
    if target is None:
        pool_tokens, split = split_corpus(pool, tokenizer, config)
        return pool_tokens, pool_tokens, split
    pool_tokens = TokenizedCorpus.from_corpus(pool, tokenizer, context_length=config.context_length)
    target_tokens, target_split = split_corpus(target, tokenizer, config)
    held_out = {document_key(d) for d in target_tokens.documents} - {document_key(d)
                                                                    for d in target_split.train.documents}
    train = [d for d in pool_tokens.documents if document_key(d) not in held_out]
    if not train:
        raise CorpusError(f"Every usable document of pool {pool.name!r} is held out of target {target.name!r} for "
                          "its objective or test set; use a pool with other documents.")
    return pool_tokens, target_tokens, CorpusSplit(objective=target_split.objective, test=target_split.test,
                                                   train=ContextStream(train, config.context_length),
                                                   target_train=target_split.train)


def document_key(document: torch.Tensor) -> bytes:
    """A tokenized document's identity: its token ids' bytes."""
    return document.to(torch.int64).numpy().tobytes()


def collect_pairs(model: nn.Module, split: CorpusSplit, config: BuildConfig, *,
                  accelerator: Accelerator | None = None,
                  progress: bool = False) -> tuple[torch.Tensor, torch.Tensor, dict]:
    """(contexts, information gains, probe description) for `config.pairs` contexts, probed in shards."""
    accelerator = accelerator or make_accelerator()
    contexts = split.train.sample(config.pairs, torch.Generator().manual_seed(config.seed + 1))
    shard = list(range(accelerator.process_index, len(contexts), accelerator.num_processes))
    options = {"batch_size": config.probe_batch_size}
    if config.probe == "fast":
        options["layers"] = config.probe_layers
    model.to(accelerator.device)
    stage(f"preparing the {config.probe} probe on {len(split.objective)} objective contexts, then probing "
          f"{len(contexts)} pairs", enabled=progress and accelerator.is_local_main_process)
    probe = make_probe(config.probe, model, split.objective.to(accelerator.device), **options)
    gains = probe(contexts[shard], progress=progress and accelerator.is_local_main_process) if shard else []
    pairs = gather_object([(index, float(gain)) for index, gain in zip(shard, gains)])
    ordered = torch.tensor([gain for _, gain in sorted(pairs)], dtype=torch.float32)
    return contexts, ordered, probe.describe()


def corpus_record(corpus: Corpus, tokenized: TokenizedCorpus) -> CorpusInfo:
    """How learner.json names a corpus: name, content fingerprint, documents (usable at this context length)."""
    return CorpusInfo(name=corpus.name, fingerprint=corpus.fingerprint, documents=len(corpus),
                      usable_documents=len(tokenized.documents))


def build_information_gain_learner(model: nn.Module, tokenizer, corpus: Corpus, base_model: BaseModelRef,
                                   config: BuildConfig | None = None, *, target: Corpus | None = None,
                                   accelerator: Accelerator | None = None,
                                   progress: bool = False) -> InformationGainLearner:
    """Build and return an attached IGF learner (save it with `learner.save(folder)`).

    `corpus` is the pool the contexts are drawn from; `target` (default: the pool itself) is the
    corpus fine-tuning should get better at: the objective set comes from its documents.

    Example:
        >>> model, tokenizer, ref = load_base_model("smollm2")
        >>> learner = build_information_gain_learner(model, tokenizer, load_corpus("mixed.jsonl.gz"), ref,
        ...                                          target=load_corpus("kjv.jsonl.gz"))
    """
    config = config or BuildConfig()
    accelerator = accelerator or make_accelerator()
    started = time.perf_counter()
    pool_tokens, target_tokens, split = split_target_and_pool(corpus, target, tokenizer, config,
                                                              progress=progress and accelerator.is_local_main_process)
    contexts, gains, probe_description = collect_pairs(model, split, config, accelerator=accelerator, progress=progress)
    probe_seconds = time.perf_counter() - started
    calibration = corpora_and_calibration(corpus, target, pool_tokens, target_tokens, split, config)
    learner = learner_from_pairs(
        model, tokenizer, base_model, contexts, gains, config=config, probe=ProbeInfo.from_dict(probe_description),
        **calibration, progress=progress)
    if target is not None:
        stage("fitting the target affinity (target vs pool text)", enabled=progress)
        attach_target_affinity(learner, tokenizer, split, contexts, calibration["target_calibration"], config)
    record_build_time(learner, started=started, probe_seconds=probe_seconds, accelerator=accelerator)
    return learner


def corpora_and_calibration(corpus: Corpus, target: Corpus | None, pool_tokens: TokenizedCorpus,
                            target_tokens: TokenizedCorpus, split: CorpusSplit, config: BuildConfig) -> dict:
    """What a built learner records of its corpora and is calibrated on (keywords of `learner_from_pairs`):
    fresh pool contexts, and held-out target contexts where the default threshold is placed."""
    return {"target": corpus_record(target or corpus, target_tokens),
            "pool": corpus_record(corpus, pool_tokens) if target is not None else None,
            "calibration": split.train.sample(config.calibration_contexts,
                                              torch.Generator().manual_seed(config.seed + 2)),
            "target_calibration": split.target_contexts.sample(config.calibration_contexts,
                                                               torch.Generator().manual_seed(config.seed + 3))}


def attach_target_affinity(learner: InformationGainLearner, tokenizer, split: CorpusSplit, pool_contexts: torch.Tensor,
                           target_calibration: torch.Tensor, config: BuildConfig) -> None:
    """Fit the learner's target-vs-pool classifier (target training text against the probed pool contexts) and
    the target's word-order model, and record where they and the gain place held-out target text: their means
    and spreads there, the word-order gate, and the quantiles of the combined score (the `affinity` threshold).

    The classifier is calibrated on `target_calibration` (contexts it never saw); the word-order model, which
    would rate its own training text too well, is fitted on four fifths of the target's training documents and
    calibrated on windows of the other fifth, whose whole documents also calibrate the default's cut for documents
    (`document_cut.py`)."""
    def texts(contexts: torch.Tensor | list[torch.Tensor]) -> list[str]:
        return tokenizer.batch_decode([c.tolist() for c in contexts], skip_special_tokens=True,
                                      clean_up_tokenization_spaces=False)

    target_examples = split.target_contexts.sample(config.calibration_contexts,
                                                   torch.Generator().manual_seed(config.seed + 4))
    learner.affinity = TargetAffinity.fit(texts(target_examples), texts(pool_contexts), seed=config.seed)
    target_vectors = learner.input_embedding_means(target_examples)   # None for a kind that reads text
    if target_vectors is not None:
        learner.embedding_affinity = EmbeddingAffinity.fit(target_vectors, learner.input_embedding_means(pool_contexts),
                                                           seed=config.seed)
    fitted, held_out = word_order_documents(split.target_contexts.documents, seed=config.seed + 5)
    learner.word_order = WordOrderModel.fit(texts(fitted))
    order_windows = ContextStream(held_out, split.target_contexts.context_length).sample(
        config.calibration_contexts, torch.Generator().manual_seed(config.seed + 6))
    order = learner.word_order.log_ratio(texts(order_windows))
    calibration_texts = texts(target_calibration)
    gain = score_in_batches(learner, target_calibration)
    odds = torch.from_numpy(learner.affinity.log_odds(calibration_texts)).float()
    stats = {"gain_target_mean": float(gain.mean()), "gain_target_std": float(gain.std()) or 1.0,
             "affinity_target_mean": float(odds.mean()), "affinity_target_std": float(odds.std()) or 1.0,
             "order_gate": float(np.quantile(order, ORDER_GATE_QUANTILE)),
             "order_target_std": float(order.std()) or 1.0}
    embedding_odds = learner.embedding_log_odds(target_calibration)
    if embedding_odds is not None:
        stats.update(embedding_target_mean=float(embedding_odds.mean()),
                     embedding_target_std=float(embedding_odds.std()) or 1.0)
    gain_odds = (gain.numpy().astype(np.float64), odds.numpy().astype(np.float64))
    if embedding_odds is not None:   # three terms spread wider than two: scale the word-order shortfall to match
        stats["order_weight"] = float(combined_target_score(stats, *gain_odds, None, embedding_odds).std()) or 1.0
    combined = combined_target_score(stats, *gain_odds, learner.word_order.log_ratio(calibration_texts), embedding_odds)
    learner.metadata.metrics.update(**stats, affinity_target_quantiles=quantile_list(torch.from_numpy(combined)))
    calibrate_document_cut(learner, texts(held_out))


def word_order_documents(documents: list[torch.Tensor], *, seed: int, max_tokens: int = ORDER_FIT_TOKENS
                         ) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """(documents to fit the word-order model on, documents to calibrate it on): at most `max_tokens` of the
    target's documents in a seeded order, the last fifth of them held out (all of them both ways when there is
    a single document)."""
    order = torch.randperm(len(documents), generator=torch.Generator().manual_seed(seed)).tolist()
    chosen, tokens = [], 0
    for index in order:
        if chosen and tokens + len(documents[index]) > max_tokens:
            break
        chosen.append(documents[index])
        tokens += len(documents[index])
    held = max(1, len(chosen) // 5)
    return (chosen[:-held] or chosen), chosen[-held:]


def record_build_time(learner, *, started: float, probe_seconds: float, accelerator: Accelerator) -> None:
    learner.metadata.metrics.update(probe_seconds=round(probe_seconds, 2), probe_processes=accelerator.num_processes,
                                    build_seconds=round(time.perf_counter() - started, 2))


def learner_from_pairs(model: nn.Module, tokenizer, base_model: BaseModelRef, contexts: torch.Tensor,
                       gains: torch.Tensor, *, config: BuildConfig, probe: ProbeInfo, target: CorpusInfo,
                       pool: CorpusInfo | None, calibration: torch.Tensor,
                       target_calibration: torch.Tensor | None = None,
                       progress: bool = False) -> InformationGainLearner:
    """Train the head on probed (context, gain) pairs and wrap it, calibrated on `calibration` contexts
    drawn from the pool it will screen (`pool` None: the pool is `target`) and on `target_calibration`,
    held-out target contexts (default: `calibration`), where the default threshold is placed."""
    stage(f"training the {config.head.head} head on {len(gains)} pairs", enabled=progress)
    head, metrics = train_information_gain_head(model.get_input_embeddings(), contexts, gains, config.head,
                                                progress=progress)
    embeddings = model.get_input_embeddings().weight
    metadata = LearnerMetadata(
        kind=IGF_KIND,
        base_model=base_model.info(model),
        tokenizer_fingerprint=tokenizer_fingerprint(tokenizer),
        embedding_fingerprint=embedding_fingerprint(embeddings),
        corpus=target, pool=pool, probe=probe, hyperparameters=config.to_dict(), metrics=metrics,
    )
    learner = InformationGainLearner(head, metadata).attach(model, tokenizer, check=False)
    learner.held_out = held_out_predictions(head, model.get_input_embeddings(), contexts, gains, config.head)
    stage(f"calibrating the threshold on {len(calibration)} pool contexts", enabled=progress)
    calibrate_scores(learner, calibration, calibration if target_calibration is None else target_calibration)
    return learner


def calibrate_scores(learner: InformationGainLearner, contexts: torch.Tensor,
                     target_contexts: torch.Tensor | None = None) -> None:
    """Record the mean, spread and quantiles of the head's predictions on fresh pool contexts, and the
    quantiles of its scores on held-out target contexts (default: the pool's).

    A regressor's predictions shrink towards the mean, the more so the weaker it is; thresholds are
    read in standard deviations of what the learner actually predicts on the corpus, so +1 keeps
    about the top sixth of contexts whatever the learner's accuracy. The target's quantiles place the
    default threshold (`TargetQuantile`): where typical target text scores.
    """
    learner.metadata.metrics.update(prediction_mean=0.0, prediction_std=1.0)
    raw = score_in_batches(learner, contexts)
    mean, std = float(raw.mean()), float(raw.std()) or 1.0
    learner.metadata.metrics.update(prediction_mean=mean, prediction_std=std, calibration_contexts=len(contexts),
                                    prediction_quantiles=quantile_list((raw - mean) / std))
    target = (raw - mean) / std if target_contexts is None else score_in_batches(learner, target_contexts)
    learner.metadata.metrics.update(target_calibration_contexts=len(target),
                                    target_prediction_quantiles=quantile_list(target))


def score_in_batches(learner: InformationGainLearner, contexts: torch.Tensor, batch: int = 256) -> torch.Tensor:
    return torch.cat([learner.score(contexts[i:i + batch]) for i in range(0, len(contexts), batch)])


def quantile_list(scores: torch.Tensor) -> list[float]:
    """The 0th, 1st, ..., 100th percentiles, rounded for learner.json."""
    return [round(q, 5) for q in torch.quantile(scores.float(), torch.linspace(0, 1, 101)).tolist()]
