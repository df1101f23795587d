"""The default's score term by term, so each term can be placed without fine-tuning.

Why: the default (`affinity:0.1`) adds the predicted gain, the n-gram target affinity, the embedding affinity's
veto and the word-order gate. Which of them tells a regime's target from the rest of its pool is a question
for ranking, not for fine-tuning runs: the AUC of each term, target contexts against the others, answers it in
seconds (affinity_separation.py on R5, bench_regimes.py on R1 and R3). The same terms re-weighted
(`veto_weight_sweep`) say, without fine-tuning, what a heavier veto would keep.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

from learners.constants import DEFAULT_TARGET_QUANTILE
from learners.igf.build import quantile_list
from learners.igf.learner import combined_target_score


def decode(tokenizer, contexts: torch.Tensor) -> list[str]:
    """Contexts as the learner's text-reading terms see them (as `attach_target_affinity` decodes them)."""
    return tokenizer.batch_decode([c.tolist() for c in contexts], skip_special_tokens=True,
                                  clean_up_tokenization_spaces=False)


def score_terms(learner, tokenizer, contexts: torch.Tensor) -> dict[str, np.ndarray]:
    """Each context's default score and its terms (float64): `default`, `gain`, `ngram_affinity`,
    `word_order` and, for a learner that reads the base model's embeddings, `embedding_affinity`."""
    texts = decode(tokenizer, contexts)
    terms = {"default": learner.affinity_score(contexts).numpy().astype(np.float64),
             "gain": learner.score(contexts).numpy().astype(np.float64),
             "ngram_affinity": np.asarray(learner.affinity.log_odds(texts), dtype=np.float64),
             "word_order": np.asarray(learner.word_order.log_ratio(texts), dtype=np.float64)}
    embedding = learner.embedding_log_odds(contexts)
    if embedding is not None:
        terms["embedding_affinity"] = np.asarray(embedding, dtype=np.float64)
    return terms


def separation(terms: dict[str, np.ndarray], is_target: np.ndarray) -> dict[str, float] | None:
    """AUC of each term, target (True) against the rest; None for a pool of one kind (R0)."""
    is_target = np.asarray(is_target, dtype=bool)
    if is_target.all() or not is_target.any():
        return None
    return {name: round(float(roc_auc_score(is_target, values)), 4) for name, values in terms.items()}


def with_veto_weight(metrics: dict, weight: float) -> dict:
    """A learner's metrics under which `combined_target_score` weighs both vetoes (the embedding affinity's and
    the word order's shortfall) `weight` times as much as built: the embedding veto's divisor shrinks by it and
    the word-order weight grows by it. weight 1 is the default as built."""
    scaled = {**metrics, "order_weight": metrics.get("order_weight", 1.0) * weight}
    if "embedding_target_std" in metrics:
        scaled["embedding_target_std"] = metrics["embedding_target_std"] / weight
    return scaled


def veto_weight_sweep(pool_terms: dict[str, np.ndarray], target_terms: dict[str, np.ndarray], metrics: dict,
                      groups: dict[str, np.ndarray], weights: tuple[float, ...] = (1.0, 1.5, 2.0, 3.0),
                      quantile: float = DEFAULT_TARGET_QUANTILE) -> dict:
    """What the default's cut (the target's `quantile` of its own score) keeps of each group of a pool when the
    vetoes weigh `weights` times as built: the rate, the share of each group kept, and the AUC of the score,
    target (`groups["target"]`, or the groups named target_*) against the rest. Scored with the library's own
    formula (`combined_target_score`), from the terms `score_terms` returns."""
    is_target = np.zeros(len(pool_terms["gain"]), dtype=bool)
    for name, mask in groups.items():
        if name == "target" or name.startswith("target_"):
            is_target |= np.asarray(mask, dtype=bool)

    def score(terms: dict, scaled: dict) -> np.ndarray:
        return combined_target_score(scaled, terms["gain"], terms["ngram_affinity"], terms["word_order"],
                                     terms.get("embedding_affinity"))

    sweep = {}
    for weight in weights:
        scaled = with_veto_weight(metrics, weight)
        pool, target = score(pool_terms, scaled), score(target_terms, scaled)
        kept = pool >= np.quantile(target, quantile)
        sweep[f"{weight:g}"] = {
            "rate": round(float(kept.mean()), 4),
            "kept": {name: round(float(kept[np.asarray(mask, dtype=bool)].mean()), 4)
                     for name, mask in groups.items() if np.asarray(mask).any()},
            "auc_target_vs_other": (round(float(roc_auc_score(is_target, pool)), 4)
                                    if is_target.any() and not is_target.all() else None)}
    return sweep


def learner_with_veto_weight(learner, tokenizer, target_calibration: torch.Tensor, weight: float):
    """A shallow copy of `learner` whose default score weighs both vetoes `weight` times as built, its cut (the
    target quantiles) recalibrated on the same held-out target contexts the build used: the `igf_veto2` arm, an
    experiment beside the default (which is weight 1). The head and classifiers are shared, not copied."""
    twin = copy.copy(learner)
    twin.metadata = copy.deepcopy(learner.metadata)
    twin.metadata.metrics = with_veto_weight(learner.metadata.metrics, weight)
    terms = score_terms(twin, tokenizer, target_calibration)
    combined = combined_target_score(twin.metadata.metrics, terms["gain"], terms["ngram_affinity"],
                                     terms["word_order"], terms.get("embedding_affinity"))
    twin.metadata.metrics["affinity_target_quantiles"] = quantile_list(torch.from_numpy(combined))
    return twin
