"""How well each scorer tells R5's target from near-domain text, and what each keeps at the same rate.

Why: at a matched rate, fine-tuning on R5 is decided by how much near-domain text (CMake's reStructuredText
manual) a selector lets in beside the target; gain, DSIR and the n-gram classifier came out level there
(results/regimes_R5.json). This table places each scorer without fine-tuning: the AUC of target against
near-domain contexts, and the share of each source in its top contexts at the default's rate (and at the
previous default's). Scorers: the default's score (gain + n-gram affinity + the embedding affinity's veto +
the word-order gate), the previous default (without the embedding affinity), the predicted gain alone, the
learner's n-gram and embedding classifiers alone, and the peers DSIR and the n-gram classifier as the
regimes benchmarks fit them. Same R5 build as bench_realistic.py (the learner's 600 probed pairs; cached).
Also what the default's cut keeps of each source with its two vetoes weighted 1-3 times as built
(`score_terms.veto_weight_sweep`; bench_regimes.py records the same for R1, R3 and R0).

    python benchmarks/realistic_corpora.py --out .runs/r5
    python benchmarks/affinity_separation.py --corpora .runs/r5 --out benchmarks/results/embedding_affinity_R5.json
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

from cards.format.metadata_sections import CorpusInfo, ProbeInfo
from learners.base_models import load_base_model
from learners.corpora.contexts import ContextStream, CorpusSplit
from learners.igf.build import BuildConfig, attach_target_affinity, learner_from_pairs
from learners.igf.head_training import HeadTrainingConfig
from learners.igf.learner import combined_target_score

sys.path.insert(0, str(Path(__file__).parent))
from bench_realistic import SOURCES, r5_draws, r5_sources  # noqa: E402
from bench_regimes import machine, probe_all  # noqa: E402
from peer_selectors import classifier_scores, dsir_scores  # noqa: E402
from score_terms import decode as decode_contexts, score_terms, veto_weight_sweep  # noqa: E402


def composition(scores: np.ndarray, sources: np.ndarray, rate: float) -> dict:
    """The share of each source kept by the top `rate` of the pool by `scores` (ties broken by position)."""
    top = np.argsort(-scores, kind="stable")[:int(round(rate * len(scores)))]
    kept = np.bincount(sources[top], minlength=len(SOURCES))
    total = np.bincount(sources, minlength=len(SOURCES))
    return {name: round(float(kept[i] / total[i]), 4) for i, name in enumerate(SOURCES)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpora", default=".runs/r5")
    parser.add_argument("--shared", default="../shared/corpora")
    parser.add_argument("--cache", default=".runs/r5_labels.pt")
    parser.add_argument("--out", default="benchmarks/results/embedding_affinity_R5.json")
    args = parser.parse_args()
    model, tokenizer, ref = load_base_model("smollm2")
    config = BuildConfig(objective_size=64, test_size=64, seed=0, pairs=600,
                         head=HeadTrainingConfig(head="bag_of_tokens"))
    length = config.context_length
    major, minor, objective, test, near_documents, unrelated_documents = r5_sources(
        tokenizer, Path(args.corpora), Path(args.shared), objective_size=64, test_size=64, minority_share=0.1,
        length=length)
    near, unrelated = ContextStream(near_documents, length), ContextStream(unrelated_documents, length)

    # The same draws as bench_realistic.py (seeds 31, 41, 17, 19), so the learner and pool are its own.
    target_sample, pool = r5_draws(major, minor, near, unrelated, 0.1)
    build, _ = pool(200, 31)
    ft, ft_sources = pool(600, 41)
    gains = probe_all(model, objective, {"build": build}, Path(args.cache))["build"].mean(1)
    target_held_out, _ = target_sample(1024, 17)
    target_for_peers, _ = target_sample(1024, 19)
    learner = learner_from_pairs(model, tokenizer, ref, build, gains, config=config,
                                 probe=ProbeInfo(name="fast", extra={"objective_parts": 2}),
                                 target=CorpusInfo(name="pydocs+stdlib"), pool=CorpusInfo(name="R5-pool"),
                                 calibration=ft, target_calibration=target_held_out)
    target_train = ContextStream([*major.train.documents, *minor.train.documents], length)
    attach_target_affinity(learner, tokenizer, CorpusSplit(objective=objective, test=test, train=ContextStream(
        list(ft), length), target_train=target_train), build, target_held_out, config)

    def decode(contexts: torch.Tensor) -> list[str]:
        return decode_contexts(tokenizer, contexts)

    metrics = learner.metadata.metrics
    before = {k: v for k, v in metrics.items() if k != "order_weight"}   # the previous default's formula

    def parts(terms: dict) -> dict:
        scores = dict(terms)
        scores["default_before"] = combined_target_score(before, terms["gain"], terms["ngram_affinity"],
                                                         terms["word_order"])
        return scores

    pool_terms, target_terms = score_terms(learner, tokenizer, ft), score_terms(learner, tokenizer, target_held_out)
    scores, held = parts(pool_terms), parts(target_terms)
    texts, peer_target = decode(ft), decode(target_for_peers)
    scores["dsir"] = dsir_scores(texts, peer_target).numpy().astype(np.float64)
    scores["classifier"] = classifier_scores(texts, peer_target, decode(build)).numpy().astype(np.float64)
    sources = ft_sources.numpy()
    rates = {name: float((scores[name] >= np.quantile(held[name], 0.1)).mean())
             for name in ("default", "default_before")}
    is_target, near_or_target = sources <= 1, sources <= 2
    table = {name: {"auc_target_vs_near_domain": round(float(roc_auc_score(is_target[near_or_target],
                                                                            values[near_or_target])), 4),
                    "auc_target_vs_unrelated": round(float(roc_auc_score(is_target[sources != 2],
                                                                          values[sources != 2])), 4),
                    "kept_at_default_rate": composition(values, sources, rates["default"]),
                    "kept_at_previous_default_rate": composition(values, sources, rates["default_before"])}
             for name, values in scores.items()}
    result = {"command": " ".join([Path(sys.executable).name, *sys.argv]), "date": dt.date.today().isoformat(),
              "machine": machine(), "base_model": ref.model_id,
              "corpora": json.loads((Path(args.corpora) / "manifest.json").read_text()),
              "rates_at_target_10pct": {k: round(v, 4) for k, v in rates.items()},
              "embedding_affinity": {"target_std": metrics["embedding_target_std"],
                                     "order_weight": metrics["order_weight"]},
              "pool": {"contexts": len(ft),
                       "per_source": {n: int((sources == i).sum()) for i, n in enumerate(SOURCES)}},
              "scorers": table,
              "veto_weight_sweep": veto_weight_sweep(pool_terms, target_terms, metrics,
                                                     {name: sources == i for i, name in enumerate(SOURCES)})}
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    for name, row in table.items():
        print(f"{name:20s} AUC near {row['auc_target_vs_near_domain']:.3f}  kept at default rate "
              f"{row['kept_at_default_rate']}")
    print("rates", result["rates_at_target_10pct"])
    for weight, row in result["veto_weight_sweep"].items():
        print(f"vetoes x{weight}: rate {row['rate']:.3f} AUC {row['auc_target_vs_other']} kept {row['kept']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
