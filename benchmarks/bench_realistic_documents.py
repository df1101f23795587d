"""R5 by whole documents: fine-tuning on what a data pipeline keeps, against the peers at the same token rate.

A pipeline (`learnerhub filter --threshold documents`, the datatrove filter) keeps or drops whole documents by
the mean of their contexts' default scores, cut where held-out target documents fall (the build's document
calibration). bench_realistic.py measured what that keeps of each source; this measures what it does to
fine-tuning, against the selectors a user would run on documents instead, at the same share of tokens.

R5's corpora and target (benchmarks/realistic_corpora.py; objective and test sets as bench_realistic.py). The
pool is whole documents: a third of its tokens the target's (its minority sub-domain in --minority-share), a
third near-domain (CMake's manual), a third unrelated (kjv); the target's pool documents are a seeded half of
its training documents, and the learner is built and calibrated on the other half only (it never saw them).
The learner: the library's default construction (bag-of-tokens head on --build-pairs fast-probed contexts of a
pool drawn like R5's, plus the target affinity and word order). Arms, paired by seed, each fine-tuning on the
contexts of the documents it keeps (30 steps of 8, as every regime):
  standard (every document), clean (the target's documents), igf_documents (the default's document cut),
  dsir_documents (DSIR, PyPI data-selection, hashed n-grams of the whole document toward held-out target
  documents; its log importance weight per word), classifier_documents (a hashed n-gram target-vs-pool
  classifier on whole documents) and random_documents, each keeping its best documents up to igf_documents'
  share of tokens; igf_contexts (the same learner filtering single contexts in the loop, the default's online
  use).

    python benchmarks/realistic_corpora.py --out .runs/r5
    python benchmarks/bench_realistic_documents.py --corpora .runs/r5 --seeds 10 --resume
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from learners.base_models import load_base_model
from learners.corpora.contexts import ContextStream, CorpusSplit
from learners.finetuning.training.loop import FinetuneConfig
from learners.igf.build import BuildConfig, attach_target_affinity, learner_from_pairs
from learners.igf.filter import InformationGainFilter
from learners.igf.head_training import HeadTrainingConfig
from cards.format.metadata_sections import CorpusInfo, ProbeInfo

sys.path.insert(0, str(Path(__file__).parent))
from bench_realistic import SOURCES, r5_sources  # noqa: E402
from bench_regimes import finish, machine, probe_all, reliability, run_arm, write  # noqa: E402
from peer_selectors import classifier_scores, dsir_scores  # noqa: E402
from regime_summary import by_seed, merge_runs, read_results  # noqa: E402
from run_arguments import add_run_arguments  # noqa: E402

RESULTS = Path(__file__).parent / "results"
REGIME = "R5_documents"
ARMS = ("standard", "clean", "igf_documents", "dsir_documents", "classifier_documents", "random_documents",
        "igf_contexts")
PEERS = ("dsir_documents", "classifier_documents")


def draw_documents(documents: list[torch.Tensor], tokens: int, seed: int, skip: set[int] = frozenset()
                   ) -> list[int]:
    """Indices of whole documents in a seeded order until they hold at least `tokens` tokens."""
    chosen, total = [], 0
    for index in torch.randperm(len(documents), generator=torch.Generator().manual_seed(seed)).tolist():
        if total >= tokens:
            break
        if index not in skip:
            chosen.append(index)
            total += len(documents[index])
    return chosen


def top_documents_at_rate(scores: np.ndarray, tokens: np.ndarray, rate: float) -> np.ndarray:
    """The best-scored documents until they hold `rate` of all tokens (the peers kept at the learner's rate)."""
    order = np.argsort(-scores, kind="stable")
    covered = np.cumsum(tokens[order]) / tokens.sum()
    keep = np.zeros(len(scores), dtype=bool)
    keep[order[:int(np.searchsorted(covered, rate - 1e-9)) + 1]] = True
    return keep


def contexts_of(documents: list[torch.Tensor], length: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Every document cut into consecutive contexts of `length` tokens (a shorter tail is dropped), and the index
    of the document each came from."""
    rows, owner = [], []
    for index, document in enumerate(documents):
        whole = len(document) // length
        if whole:
            rows.append(document[:whole * length].view(whole, length))
            owner += [index] * whole
    return torch.cat(rows), torch.tensor(owner)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpora", default=".runs/r5", help="Folder realistic_corpora.py wrote.")
    parser.add_argument("--shared", default="../shared/corpora")
    parser.add_argument("--base-model", default="smollm2")
    parser.add_argument("--arms", default=",".join(ARMS))
    add_run_arguments(parser, seeds=10, eval_every=5)
    parser.add_argument("--minority-share", type=float, default=0.1)
    parser.add_argument("--build-pairs", type=int, default=600, help="Probed pairs the learner is built on.")
    parser.add_argument("--tokens-per-source", type=int, default=200_000,
                        help="Pool tokens per third (whole documents are coarse: the target's 10%% sub-domain is a "
                             "handful of modules at this size).")
    parser.add_argument("--out", default=str(RESULTS / "regimes_R5_documents_finetuning.json"))
    parser.add_argument("--cache", default=".runs/r5_documents_labels.pt")
    parser.add_argument("--merge", nargs="*", default=[], help="Result files of other processes (--first-seed): "
                                                               "their runs are added to --out's, then it exits.")
    args = parser.parse_args()
    started, out = time.perf_counter(), Path(args.out)
    if args.merge:   # JSON only: no model, no probe
        return finish(merge_runs(*read_results(out, args.merge)), out, started)
    corpora, shared = Path(args.corpora), Path(args.shared)
    arms = [a for a in ARMS if a in args.arms.split(",")]
    model, tokenizer, ref = load_base_model(args.base_model)
    config = BuildConfig(objective_size=args.objective_size, test_size=args.test_size, seed=0, pairs=args.build_pairs,
                         head=HeadTrainingConfig(head="bag_of_tokens"))
    length = config.context_length

    def texts(documents) -> list[str]:
        return tokenizer.batch_decode([d.tolist() for d in documents], skip_special_tokens=True,
                                      clean_up_tokenization_spaces=False)

    major, minor, objective, test, near, unrelated = r5_sources(
        tokenizer, corpora, shared, objective_size=args.objective_size, test_size=args.test_size,
        minority_share=args.minority_share, length=length)

    # The pool, by whole documents: the target's from a seeded half of its training documents.
    target_parts = {"target_majority": (major.train.documents, 1 - args.minority_share),
                    "target_minority": (minor.train.documents, args.minority_share)}
    pool_documents, pool_sources, learner_side = [], [], {}
    for code, (name, (documents, share)) in enumerate(target_parts.items()):
        half = set(draw_documents(documents, sum(map(len, documents)) // 2, seed=61 + code))
        chosen = draw_documents(documents, round(args.tokens_per_source * share), seed=71 + code,
                                skip=set(range(len(documents))) - half)
        pool_documents += [documents[i] for i in chosen]
        pool_sources += [code] * len(chosen)
        learner_side[name] = [d for i, d in enumerate(documents) if i not in half]
    in_pool = {}
    for code, documents in ((2, near), (3, unrelated)):
        chosen = draw_documents(documents, args.tokens_per_source, seed=71 + code)
        pool_documents += [documents[i] for i in chosen]
        pool_sources += [code] * len(chosen)
        in_pool[code] = set(chosen)
    sources = np.array(pool_sources)
    tokens = np.array([len(d) for d in pool_documents], dtype=np.float64)
    contexts, owner = contexts_of(pool_documents, length)

    # The learner, built as bench_realistic.py builds R5's, on the target's other half only.
    own = ContextStream(learner_side["target_majority"] + learner_side["target_minority"], length)
    minority_stream = ContextStream(learner_side["target_minority"], length)
    majority_stream = ContextStream(learner_side["target_majority"], length)

    def target_sample(count: int, seed: int) -> torch.Tensor:
        k = round(count * args.minority_share)
        return torch.cat([majority_stream.sample(count - k, torch.Generator().manual_seed(seed)),
                          minority_stream.sample(k, torch.Generator().manual_seed(seed + 1000))])

    per_third = args.build_pairs // 3
    build = torch.cat([target_sample(per_third, 31),
                       ContextStream(near, length).sample(per_third, torch.Generator().manual_seed(32)),
                       ContextStream(unrelated, length).sample(per_third, torch.Generator().manual_seed(33))])
    build = build[torch.randperm(len(build), generator=torch.Generator().manual_seed(34))]
    gains = probe_all(model, objective, {"build": build}, Path(args.cache))["build"]
    target_held_out = target_sample(1024, 17)
    learner = learner_from_pairs(model, tokenizer, ref, build, gains.mean(1), config=config,
                                 probe=ProbeInfo(name="fast", extra={"objective_parts": 2}),
                                 target=CorpusInfo(name="pydocs+stdlib"), pool=CorpusInfo(name="R5-documents"),
                                 calibration=contexts, target_calibration=target_held_out)
    attach_target_affinity(learner, tokenizer, CorpusSplit(objective=objective, test=test, train=ContextStream(
        list(contexts), length), target_train=own), build, target_held_out, config)
    document_cut = learner.default_document_cut()
    if document_cut is None:
        raise SystemExit("The learner records no document cut (too few held-out target documents).")

    # Each selector's score of every pool document; the peers' target examples: held-out target documents.
    pool_texts = texts(pool_documents)

    def target_documents(seed: int, skip: dict[str, set[int]] | None = None
                         ) -> tuple[list[torch.Tensor], dict[str, set[int]]]:
        """Learner-side target documents (a third of the pool's tokens, the minority in --minority-share) other
        than `skip`'s, and the indices taken per part."""
        drawn, taken = [], {}
        for part, share in (("target_majority", 1 - args.minority_share), ("target_minority", args.minority_share)):
            documents = learner_side[part]
            taken[part] = set(draw_documents(documents, round(args.tokens_per_source * share), seed=seed,
                                             skip=(skip or {}).get(part, set())))
            drawn += [documents[i] for i in sorted(taken[part])]
        return drawn, taken

    # The peers see text only: held-out target documents, and (the classifier's negatives) a pool-like draw of
    # documents outside the pool: other target documents, near-domain and unrelated ones.
    held_out_documents, taken = target_documents(81)
    pool_like = target_documents(82, skip=taken)[0] + [
        documents[i] for code, documents in ((2, near), (3, unrelated))
        for i in draw_documents(documents, args.tokens_per_source, seed=83 + code, skip=in_pool[code])]
    held_out_texts = texts(held_out_documents)
    dsir_weights = dsir_scores(pool_texts, held_out_texts).numpy().astype(np.float64)
    scores = {"igf_documents": learner.score_documents(pool_texts, score="default").mean,
              "dsir_documents": dsir_weights / np.maximum([len(text.split()) for text in pool_texts], 1),
              "classifier_documents": classifier_scores(pool_texts, held_out_texts, texts(pool_like)).numpy()}
    keep = {"standard": np.ones(len(sources), dtype=bool), "clean": sources <= 1,
            "igf_documents": np.nan_to_num(scores["igf_documents"], nan=-np.inf) >= document_cut}
    rate = float(tokens[keep["igf_documents"]].sum() / tokens.sum())
    keep.update({peer: top_documents_at_rate(scores[peer], tokens, rate) for peer in PEERS})
    # DSIR's weight is a sum over the document's n-grams, so it ranks whole documents by their length as much as
    # by their content; the arm ranks by weight per word, and the raw weight's selection is reported beside it.
    selections = {**keep, "dsir_raw_weight": top_documents_at_rate(dsir_weights, tokens, rate)}

    def kept_by_source(mask: np.ndarray) -> dict:
        """Shares of each source's documents and tokens that `mask` keeps."""
        return {name: {"documents": int((sources == code).sum()),
                       "kept_documents": round(float(mask[sources == code].mean()), 3),
                       "kept_tokens": round(float(tokens[mask & (sources == code)].sum()
                                                  / tokens[sources == code].sum()), 3)}
                for code, name in enumerate(SOURCES)}

    earlier = json.loads(out.read_text()) if args.resume and out.exists() else {}
    command = " ".join([Path(sys.executable).name, *sys.argv])
    results = {"command": command, "date": dt.date.today().isoformat(), "machine": machine(),
               "base_model": ref.model_id, "corpora": json.loads((corpora / "manifest.json").read_text()),
               "protocol": {k: v for k, v in vars(args).items() if k not in ("resume", "out", "budget_minutes",
                                                                              "first_seed", "arms", "seeds")},
               "commands": [*earlier.get("commands", []), command], "runs": earlier.get("runs", {})}
    results[REGIME] = {"labels": reliability(gains), "document_cut": round(document_cut, 5),
                       "token_rate": round(rate, 4), "pool_documents": len(pool_documents),
                       "pool_contexts": len(contexts),
                       "kept_by_source": {arm: kept_by_source(mask) for arm, mask in selections.items()}}
    write(results, out)
    runs = results["runs"].setdefault(REGIME, {})
    initial = {name: tensor.detach().clone() for name, tensor in model.state_dict().items()}
    for seed in range(args.first_seed, args.seeds):
        for arm in arms:
            if seed in by_seed(runs.get(arm, [])):
                continue
            if args.budget_minutes and (time.perf_counter() - started) / 60 > args.budget_minutes:
                return finish(results, out, started)
            mask = keep.get(arm)
            if arm == "random_documents":
                mask = top_documents_at_rate(np.random.default_rng(seed).random(len(tokens)), tokens, rate)
            chosen = contexts if mask is None else contexts[torch.from_numpy(mask)[owner]]
            context_filter = InformationGainFilter(learner) if arm == "igf_contexts" else None
            print(f"[{(time.perf_counter() - started) / 60:.1f} min] seed {seed} {REGIME} {arm} "
                  f"({len(chosen)} contexts)", flush=True)
            record = run_arm(model, initial, chosen, test, context_filter, FinetuneConfig(
                steps=args.steps, batch_size=args.batch_size, lr=args.lr, eval_every=args.eval_every, seed=seed))
            if mask is not None:    # what was selected before training, in tokens (the loop saw all it drew)
                record["document_token_rate"] = round(float(tokens[mask].sum() / tokens.sum()), 4)
            runs.setdefault(arm, []).append(record)
            write(results, out)
    return finish(results, out, started)


if __name__ == "__main__":
    sys.exit(main())
