"""Build a text-level IGF learner: a labelling model measures information gain, the head learns it from text.

The labels come from the IGF build's own machinery (`split_target_and_pool`, `collect_pairs`: the same
split, probe and sharding under `accelerate launch`) run on the labelling model; each probed context's
token ids are decoded back to text with the labeller's tokenizer, and the text head is fitted on
(text, gain). The bag-of-tokens head is fitted on the very same pairs and split too, and its held-out
Spearman recorded beside the text head's, so every build says what reading text costs or gains.
"""

from __future__ import annotations

import dataclasses
import json
import time

import torch
from accelerate import Accelerator
from torch import nn

from cards.format.constants import ANY_BASE_MODEL
from cards.format.metadata_sections import BaseModelInfo, CorpusInfo, ProbeInfo
from cards.format.metadata import LearnerMetadata

from ..base_models import BaseModelRef
from ..corpora.corpus import Corpus
from ..distributed import make_accelerator
from ..fingerprint import tokenizer_fingerprint
from ..igf.build import (
    BuildConfig,
    attach_target_affinity,
    calibrate_scores,
    collect_pairs,
    corpora_and_calibration,
    record_build_time,
    split_target_and_pool,
)
from ..igf.head_training import train_information_gain_head
from ..progress import stage
from .head import TextHeadConfig, fit_text_head
from .learner import TEXT_IGF_KIND, TextInformationGainLearner


def decode_contexts(tokenizer, contexts: torch.Tensor) -> list[str]:
    """The text of each row of token ids (special tokens dropped, spacing as the tokenizer wrote it)."""
    return tokenizer.batch_decode(contexts.tolist(), skip_special_tokens=True, clean_up_tokenization_spaces=False)


def build_text_learner(labeller: nn.Module, tokenizer, corpus: Corpus, labeller_ref: BaseModelRef,
                       config: BuildConfig | None = None, *, target: Corpus | None = None,
                       head: TextHeadConfig | None = None, accelerator: Accelerator | None = None,
                       progress: bool = False) -> TextInformationGainLearner:
    """Build and return a text-level learner (attached to the labeller's tokenizer; save it with `.save`).

    `labeller`/`tokenizer` measure the gains (`labeller_ref` names them in learner.json); `corpus` is the pool
    the contexts are drawn from, `target` (default: the pool) the corpus fine-tuning should get better at.

    Example:
        >>> model, tokenizer, ref = load_base_model("smollm2")
        >>> learner = build_text_learner(model, tokenizer, join_corpora([kjv, web]), ref, target=kjv)
        >>> learner.save("igf_text-kjv")            # then usable next to any base model
    """
    config = config or BuildConfig()
    accelerator = accelerator or make_accelerator()
    started = time.perf_counter()
    pool_tokens, target_tokens, split = split_target_and_pool(corpus, target, tokenizer, config,
                                                              progress=progress and accelerator.is_local_main_process)
    contexts, gains, probe = collect_pairs(labeller, split, config, accelerator=accelerator, progress=progress)
    probe_seconds = time.perf_counter() - started
    calibration = corpora_and_calibration(corpus, target, pool_tokens, target_tokens, split, config)
    learner = text_learner_from_pairs(
        labeller, tokenizer, labeller_ref, contexts, gains, config=config, head=head, probe=ProbeInfo.from_dict(probe),
        **calibration)
    if target is not None:
        stage("fitting the target affinity (target vs pool text)", enabled=progress)
        attach_target_affinity(learner, tokenizer, split, contexts, calibration["target_calibration"], config)
    record_build_time(learner, started=started, probe_seconds=probe_seconds, accelerator=accelerator)
    return learner


def text_learner_from_pairs(labeller: nn.Module, tokenizer, labeller_ref: BaseModelRef, contexts: torch.Tensor,
                            gains: torch.Tensor, *, config: BuildConfig, probe: ProbeInfo, target: CorpusInfo,
                            pool: CorpusInfo | None, calibration: torch.Tensor,
                            target_calibration: torch.Tensor | None = None,
                            head: TextHeadConfig | None = None) -> TextInformationGainLearner:
    """Fit the text head on probed (context, gain) pairs of the labeller (and, for comparison, the
    bag-of-tokens head on the same pairs and split), and wrap it, calibrated as an igf learner is: on
    `calibration` pool contexts and `target_calibration` held-out target contexts (default: the pool's)."""
    head = head or TextHeadConfig(split=config.head)
    text_head, metrics, held_out = fit_text_head(decode_contexts(tokenizer, contexts), gains, head)
    _, token_metrics = train_information_gain_head(
        labeller.get_input_embeddings(), contexts, gains, dataclasses.replace(head.split, head="bag_of_tokens"))
    metrics["labeller_bag_of_tokens_test_spearman"] = token_metrics["test_spearman"]
    metadata = LearnerMetadata(
        kind=TEXT_IGF_KIND, base_model=BaseModelInfo(model_id=ANY_BASE_MODEL), tokenizer_fingerprint="",
        embedding_fingerprint={}, corpus=target, pool=pool, probe=probe,
        labeller=labeller_record(labeller, tokenizer, labeller_ref),
        # tuples as JSON has them
        hyperparameters=json.loads(json.dumps({**config.to_dict(), "head": head.to_dict()})),
        metrics=metrics)
    learner = TextInformationGainLearner(text_head, metadata).attach(labeller, tokenizer)
    learner.held_out = held_out
    calibrate_scores(learner, calibration, calibration if target_calibration is None else target_calibration)
    return learner


def labeller_record(model: nn.Module, tokenizer, ref: BaseModelRef) -> BaseModelInfo:
    """learner.json's `labeller`: the labelling model as a base model is recorded, and its tokenizer's fingerprint."""
    info = ref.info(model)
    info.extra["tokenizer_fingerprint"] = tokenizer_fingerprint(tokenizer)
    return info
