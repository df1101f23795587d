"""R5, the realistic regime: a target with a minority sub-domain, near-domain and unrelated text in the pool.

Target: the Python documentation (reStructuredText) plus ~10% of its characters in another format (the
standard library's modules); its objective and test sets hold both sub-domains in that proportion.
Fine-tuning pool, by contexts: a third the target's own training text, a third near-domain
off-target text (CMake's reStructuredText manual), a third unrelated prose (kjv). Corpora:
benchmarks/realistic_corpora.py. Protocol and statistics as bench_regimes.py (paired seeds, 30 steps).

Arms, paired by seed: standard (the pool), clean (the pool's target contexts), igf_target (the learner,
default threshold), igf_domain (the remedy measured here: the learner's predicted gain plus a
target-vs-pool classifier's log-odds, each standardised on held-out target text, kept when the sum is at
least the target's --target-quantile; computed here), igf_affinity (the same construction as learnerhub's
own `--threshold affinity`, fitted by the library), random_target, dsir and classifier (at igf_target's rate),
random_affinity, dsir_affinity and classifier_affinity (the same at igf_affinity's rate).
Selection tables say what each scorer keeps per source and sub-domain (learner, oracle = the measured
gain, classifier, combined), so a shortfall is placed in the labels or in the learner; `document_selection`
says what the default keeps of whole documents scored as `learnerhub score` scores them (the mean of their
contexts' default scores), against what it keeps of single contexts, at the contexts' cut, at the drawn target
documents' own quantile and at the library's document cut (`--threshold documents`, calibrated at build on
held-out target documents); `--arms none` computes only the tables.

    python benchmarks/realistic_corpora.py --out .runs/r5
    python benchmarks/bench_realistic.py --corpora .runs/r5 --seeds 10 --resume
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from scipy.stats import spearmanr

from learners.base_models import load_base_model
from learners.constants import DEFAULT_TARGET_QUANTILE
from learners.corpora.contexts import ContextStream, CorpusSplit, TokenizedCorpus
from learners.corpora.corpus import load_corpus
from learners.finetuning.training.loop import FinetuneConfig
from learners.finetuning.evaluation.reference_filters import OracleFilter, RandomFilter
from learners.igf.build import BuildConfig, attach_target_affinity, learner_from_pairs
from learners.igf.filter import InformationGainFilter
from learners.igf.head_training import HeadTrainingConfig
from learners.igf.thresholds import AffinityQuantile, TargetQuantile
from cards.format.metadata_sections import CorpusInfo, ProbeInfo

sys.path.insert(0, str(Path(__file__).parent))
from bench_regimes import finish, machine, probe_all, reliability, run_arm, write  # noqa: E402
from peer_selectors import classifier_scores, dsir_scores  # noqa: E402
from regime_summary import by_seed, merge_runs, read_results, summarise  # noqa: E402
from run_arguments import add_run_arguments  # noqa: E402
from score_terms import learner_with_veto_weight  # noqa: E402

RESULTS = Path(__file__).parent / "results"
ARMS = ("standard", "clean", "igf_target", "igf_domain", "dsir", "classifier", "random_target", "igf_affinity",
        "dsir_affinity", "classifier_affinity", "random_affinity", "igf_veto2")
#: Arms that keep at another arm's measured rate in the same seed (so they run after it).
AT_RATE_OF = {"dsir": "igf_target", "classifier": "igf_target", "random_target": "igf_target",
              "dsir_affinity": "igf_affinity", "classifier_affinity": "igf_affinity", "random_affinity": "igf_affinity"}
SOURCES = ("target_majority", "target_minority", "near_domain", "unrelated")
SELECTION_QUANTILES = (0.05, 0.1, 0.2)


def sample(stream: ContextStream, count: int, seed: int) -> torch.Tensor:
    return stream.sample(count, torch.Generator().manual_seed(seed))


def by_source(scores: torch.Tensor, cut: float, sources: torch.Tensor, names: tuple[str, ...] = SOURCES) -> dict:
    """What a cut keeps of each source (`sources` holds indices into `names`), and their shares of what it keeps."""
    kept = scores >= cut
    row = {"cut": cut, "kept_fraction_of_pool": float(kept.float().mean())}
    for code, name in enumerate(names):
        mine = sources == code
        row[f"kept_of_{name}"] = float(kept[mine].float().mean()) if mine.any() else None
        row[f"share_of_kept_{name}"] = float(mine[kept].float().mean()) if kept.any() else None
    return row


def document_scores(learner, tokenizer, documents: list[torch.Tensor]) -> tuple[np.ndarray, np.ndarray]:
    """(default score, tokens) per whole document, scored as the pipeline scores one (`learnerhub score`: the
    mean of its contexts' default scores)."""
    texts = tokenizer.batch_decode([d.tolist() for d in documents], skip_special_tokens=True)
    return (learner.score_documents(texts, score="default").mean,
            np.array([len(d) for d in documents], dtype=np.float64))


def documents_kept(scores: np.ndarray, tokens: np.ndarray, cut: float) -> dict:
    """Shares of documents and of their tokens at or above `cut`."""
    keep = scores >= cut
    return {"documents": len(scores), "kept_documents": round(float(keep.mean()), 3),
            "kept_tokens": round(float(tokens[keep].sum() / tokens.sum()), 3)}


def standardise_on(scores: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    return (scores - reference.mean()) / reference.std().clamp_min(1e-8)


def logit(p: torch.Tensor) -> torch.Tensor:
    p = p.clamp(1e-6, 1 - 1e-6)
    return torch.log(p) - torch.log1p(-p)


def r5_sources(tokenizer, corpora: Path, shared: Path, *, objective_size: int, test_size: int,
               minority_share: float, length: int) -> tuple[CorpusSplit, CorpusSplit, torch.Tensor, torch.Tensor,
                                                             list[torch.Tensor], list[torch.Tensor]]:
    """R5's parts, tokenized: the target's majority and minority splits, its objective and test sets (both
    sub-domains in `minority_share` proportion), and the near-domain and unrelated documents."""
    def tokenized(path: Path) -> TokenizedCorpus:
        return TokenizedCorpus.from_corpus(load_corpus(path), tokenizer, context_length=length)

    n_minor = round(objective_size * minority_share)
    major = tokenized(shared / "pydocs.jsonl.gz").split(objective_size=objective_size - n_minor,
                                                        test_size=test_size - n_minor, seed=0)
    minor = tokenized(corpora / "stdlib_code.jsonl.gz").split(objective_size=n_minor, test_size=n_minor, seed=0)
    objective, test = torch.cat([major.objective, minor.objective]), torch.cat([major.test, minor.test])
    return (major, minor, objective, test, tokenized(corpora / "cmake_docs.jsonl.gz").documents,
            tokenized(shared / "kjv.jsonl.gz").documents)


def r5_draws(major: CorpusSplit, minor: CorpusSplit, near: ContextStream, unrelated: ContextStream,
             minority_share: float):
    """(target_sample, pool): seeded draws of R5's contexts with their source codes (indices into SOURCES).
    target_sample(count, seed): target contexts, the sub-domains in `minority_share` proportion; pool(per_source,
    seed): a third each the target's, near-domain and unrelated contexts, shuffled."""
    def target_sample(count: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        k = round(count * minority_share)
        contexts = torch.cat([sample(major.train, count - k, seed), sample(minor.train, k, seed + 1000)])
        return contexts, torch.cat([torch.zeros(count - k, dtype=torch.long), torch.ones(k, dtype=torch.long)])

    def pool(per_source: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        own, own_sources = target_sample(per_source, seed)
        contexts = torch.cat([own, sample(near, per_source, seed + 1), sample(unrelated, per_source, seed + 2)])
        sources = torch.cat([own_sources, torch.full((per_source,), 2), torch.full((per_source,), 3)])
        order = torch.randperm(len(contexts), generator=torch.Generator().manual_seed(seed + 3))
        return contexts[order], sources[order]

    return target_sample, pool


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpora", default=".runs/r5", help="Folder realistic_corpora.py wrote.")
    parser.add_argument("--shared", default="../shared/corpora")
    parser.add_argument("--base-model", default="smollm2")
    parser.add_argument("--arms", default=",".join(ARMS))
    add_run_arguments(parser, seeds=10, eval_every=5)
    parser.add_argument("--merge", nargs="*", default=[], help="Result files of other processes: their runs are "
                                                               "added to --out's (same protocol), then it exits.")
    parser.add_argument("--minority-share", type=float, default=0.1)
    parser.add_argument("--build-pairs", type=int, default=600, help="Probed pairs the learner is built on.")
    parser.add_argument("--pool-per-source", type=int, default=600, help="Fine-tuning pool contexts per third.")
    parser.add_argument("--target-quantile", type=float, default=DEFAULT_TARGET_QUANTILE)
    parser.add_argument("--out", default=str(RESULTS / "regimes_R5.json"))
    parser.add_argument("--cache", default=".runs/r5_labels.pt")
    parser.add_argument("--documents-per-source", type=int, default=200,
                        help="Whole documents per source for the document-level selection table.")
    args = parser.parse_args()
    started = time.perf_counter()
    out, corpora, shared = Path(args.out), Path(args.corpora), Path(args.shared)
    arms = [a for a in ARMS if a in args.arms.split(",")]

    if args.merge:   # JSON only: no model, no probe
        return finish(merge_runs(*read_results(out, args.merge)), out, started)
    model, tokenizer, ref = load_base_model(args.base_model)
    config = BuildConfig(objective_size=args.objective_size, test_size=args.test_size, seed=0, pairs=args.build_pairs,
                         head=HeadTrainingConfig(head="bag_of_tokens"))
    length = config.context_length

    major, minor, objective, test, near_documents, unrelated_documents = r5_sources(
        tokenizer, corpora, shared, objective_size=args.objective_size, test_size=args.test_size,
        minority_share=args.minority_share, length=length)
    near, unrelated = ContextStream(near_documents, length), ContextStream(unrelated_documents, length)

    target_sample, pool = r5_draws(major, minor, near, unrelated, args.minority_share)
    build, build_sources = pool(args.build_pairs // 3, 31)
    ft, ft_sources = pool(args.pool_per_source, 41)
    labels = probe_all(model, objective, {"build": build, "ft": ft}, Path(args.cache))
    build_gains, gains = labels["build"].mean(1), labels["ft"].mean(1)
    target_held_out, _ = target_sample(1024, 17)     # calibrates the learner's target quantile
    target_for_classifier, _ = target_sample(1024, 19)  # the classifier's target examples (a separate draw)

    learner = learner_from_pairs(model, tokenizer, ref, build, build_gains, config=config,
                                 probe=ProbeInfo(name="fast", extra={"objective_parts": 2}),
                                 target=CorpusInfo(name="pydocs+stdlib"), pool=CorpusInfo(name="R5-pool"),
                                 calibration=ft, target_calibration=target_held_out)
    texts = tokenizer.batch_decode(ft)
    held_out_texts = tokenizer.batch_decode(target_held_out)
    domain_training = (tokenizer.batch_decode(target_for_classifier), tokenizer.batch_decode(build))
    scores = {"learner": learner.score(ft),
              "classifier": classifier_scores(texts, *domain_training),
              "dsir": dsir_scores(texts, tokenizer.batch_decode(target_for_classifier))}
    held_out = {"learner": learner.score(target_held_out),
                "classifier": classifier_scores(held_out_texts, *domain_training)}
    combined = (standardise_on(scores["learner"], held_out["learner"])
                + standardise_on(logit(scores["classifier"]), logit(held_out["classifier"])))
    combined_held_out = (standardise_on(held_out["learner"], held_out["learner"])
                         + standardise_on(logit(held_out["classifier"]), logit(held_out["classifier"])))
    combined_cut = float(torch.quantile(combined_held_out, args.target_quantile))
    # The library's own target affinity (learnerhub build --target; --threshold affinity): the same construction
    # as igf_domain's, fitted by igf.build on a draw of the target's training text against the probed pool.
    target_train = ContextStream([*major.train.documents, *minor.train.documents], length)
    attach_target_affinity(learner, tokenizer, CorpusSplit(objective=objective, test=test, train=ContextStream(
        list(ft), length), target_train=target_train), build, target_held_out, config)
    scores["library_affinity"] = learner.affinity_score(ft)
    oracle_target = gains[ft_sources <= 1]

    earlier = json.loads(out.read_text()) if args.resume and out.exists() else {}
    command = " ".join([Path(sys.executable).name, *sys.argv])
    results = {"command": command, "date": dt.date.today().isoformat(), "machine": machine(),
               "base_model": ref.model_id, "corpora": json.loads((corpora / "manifest.json").read_text()),
               "protocol": {"context_length": length, "objective_size": args.objective_size,
                            "test_size": args.test_size, "minority_share": args.minority_share,
                            "batch_size": args.batch_size, "lr": args.lr, "steps": args.steps,
                            "eval_every": args.eval_every, "build_pairs": len(build),
                            "pool_per_source": args.pool_per_source, "target_quantile": args.target_quantile},
               "commands": [*earlier.get("commands", []), command],
               "runs": earlier.get("runs", {})}
    selection = {}
    for q in SELECTION_QUANTILES:
        selection[str(q)] = {
            "learner": by_source(scores["learner"], learner.target_score_quantile(q), ft_sources),
            "oracle": by_source(gains, float(torch.quantile(oracle_target, q)), ft_sources),
            "classifier": by_source(scores["classifier"], float(torch.quantile(held_out["classifier"], q)),
                                    ft_sources),
            "combined": by_source(combined, float(torch.quantile(combined_held_out, q)), ft_sources),
            "library_affinity": by_source(scores["library_affinity"], learner.affinity_quantile(q), ft_sources)}
    per_source = {"target_majority": major.train.documents, "target_minority": minor.train.documents,
                  "near_domain": near.documents, "unrelated": unrelated.documents}
    drawn = {name: [docs[int(i)] for i in torch.randperm(len(docs), generator=torch.Generator().manual_seed(51))[
        :args.documents_per_source]] for name, docs in per_source.items()}
    scored = {name: document_scores(learner, tokenizer, docs) for name, docs in drawn.items()}
    # The context cut is the target's 10% quantile over single contexts; a document's mean varies less, so the
    # same cut is looser for documents. The document cut: the same quantile of target documents' means.
    target_means = np.concatenate([scored["target_majority"][0], scored["target_minority"][0]])
    document_cut = float(np.nanquantile(target_means, args.target_quantile))
    document_selection = {"cut": learner.default_cut(), "document_cut": round(document_cut, 5),
                          "contexts": selection[str(args.target_quantile)]["library_affinity"]
                          if str(args.target_quantile) in selection else None,
                          "documents": {name: documents_kept(*pair, learner.default_cut())
                                        for name, pair in scored.items()},
                          "documents_at_document_cut": {name: documents_kept(*pair, document_cut)
                                                        for name, pair in scored.items()}}
    library_cut = learner.default_document_cut()   # the build's calibration on held-out target documents
    if library_cut is not None:
        document_selection.update(library_document_cut=round(library_cut, 5), documents_at_library_document_cut={
            name: documents_kept(*pair, library_cut) for name, pair in scored.items()})
    results["R5"] = {"labels": reliability(labels["build"]), "document_selection": document_selection,
                     "learner": {**{k: learner.metadata.metrics[k] for k in ("test_spearman", "validation_spearman")},
                                 "spearman_on_pool": float(spearmanr(scores["learner"].numpy(), gains.numpy())[0])},
                     "oracle_top_half": by_source(gains, float(torch.quantile(gains, 0.5)), ft_sources),
                     "selection_at_target_quantiles": selection}
    write(results, out)

    initial = {name: tensor.detach().clone() for name, tensor in model.state_dict().items()}
    runs = results["runs"].setdefault("R5", {})

    def rate(arm: str, seed: int) -> float:
        return by_seed(runs[arm])[seed]["acceptance_rate"]

    combined_rate = float((combined >= combined_cut).float().mean())

    @functools.cache
    def veto2_learner():
        """The default with both vetoes x2 (score_terms.py), an experiment: recalibrated once, the first time."""
        return learner_with_veto_weight(learner, tokenizer, target_held_out, 2.0)

    filters = {
        "standard": lambda seed: None, "clean": lambda seed: None,
        "igf_target": lambda seed: InformationGainFilter(learner, TargetQuantile(args.target_quantile)),
        "igf_domain": lambda seed: OracleFilter(ft, combined, keep=combined_rate),
        "igf_affinity": lambda seed: InformationGainFilter(learner, AffinityQuantile(args.target_quantile)),
        "igf_veto2": lambda seed: InformationGainFilter(veto2_learner(), AffinityQuantile(args.target_quantile)),
        "dsir": lambda seed: OracleFilter(ft, scores["dsir"], keep=rate("igf_target", seed)),
        "classifier": lambda seed: OracleFilter(ft, scores["classifier"], keep=rate("igf_target", seed)),
        "random_target": lambda seed: RandomFilter(rate("igf_target", seed), seed=seed),
        "dsir_affinity": lambda seed: OracleFilter(ft, scores["dsir"], keep=rate("igf_affinity", seed)),
        "classifier_affinity": lambda seed: OracleFilter(ft, scores["classifier"], keep=rate("igf_affinity", seed)),
        "random_affinity": lambda seed: RandomFilter(rate("igf_affinity", seed), seed=seed)}
    for seed in range(args.first_seed, args.seeds):
        for arm in arms:
            if seed in by_seed(runs.get(arm, [])):
                continue
            if arm in AT_RATE_OF and seed not in by_seed(runs.get(AT_RATE_OF[arm], [])):
                continue
            if args.budget_minutes and (time.perf_counter() - started) / 60 > args.budget_minutes:
                return finish(results, out, started)
            print(f"[{(time.perf_counter() - started) / 60:.1f} min] seed {seed} R5 {arm}", flush=True)
            contexts = ft[ft_sources <= 1] if arm == "clean" else ft
            runs.setdefault(arm, []).append(run_arm(model, initial, contexts, test, filters[arm](seed), FinetuneConfig(
                steps=args.steps, batch_size=args.batch_size, lr=args.lr, eval_every=args.eval_every, seed=seed)))
            results["summary"] = summarise(results)
            write(results, out)
    return finish(results, out, started)


if __name__ == "__main__":
    sys.exit(main())
