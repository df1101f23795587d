"""Learners that travel (issue 19): a learner used on a pool or a base model it never saw, against one made in place.

Target: the King James Bible (objective and test sets: held-out chapters, the same ones under every tokenizer:
only documents long enough for all of them are used). Each setting fine-tunes one model on one pool (kjv
plus as much off-target text) with: standard (the pool), clean (its kjv contexts), in_place (a learner
built where it is used), transfer (a learner built elsewhere), dsir and classifier (model-agnostic peers at
transfer's rate), each with the library's default threshold; where the in-place learner is the text head
labelled by SmolLM2 (reverse), also bag_of_tokens (the token head built on the same pool). Settings:

  pool     SmolLM2 on kjv + CMake docs; in_place: igf built on kjv + CMake docs; transfer: igf built on kjv +
           pydocs (it never saw CMake's reStructuredText);
  variant  a SmolLM2 variant (continued training on pydocs, made here: the "fine-tuned checkpoint" a user
           brings; same tokenizer) on kjv + pydocs; in_place: igf_text labelled by the variant; transfer:
           igf_text labelled by SmolLM2;
  family   a GPT-2-style model with its own BPE (benchmarks/second_base_model.py) on kjv + pydocs; in_place:
           igf_text labelled by it; transfer: igf_text labelled by SmolLM2;
  reverse  SmolLM2 on kjv + pydocs; in_place: igf_text labelled by SmolLM2; transfer: igf_text labelled by the
           GPT-2-style model.

Learners are built with the library (`build_information_gain_learner`, `build_text_learner`), saved, and
loaded next to the model that uses them with `load_learner`, as a user who pulls one does. Goal: every
transfer keeps at least 80% of the in-place gain, (1 - transfer/standard) / (1 - in_place/standard).

    python benchmarks/realistic_corpora.py --out .runs/r5          # the CMake docs
    python benchmarks/second_base_model.py --out .runs/gpt2-scratch
    python benchmarks/bench_transfer.py --settings pool,variant,family,reverse --seeds 8 --resume
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

import torch

from learners.base_models import load_base_model
from learners.corpora.contexts import ContextStream, TokenizedCorpus
from learners.corpora.corpus import Corpus, join_corpora, load_corpus
from learners.corpora.pools import mixed_pool
from learners.finetuning.evaluation.reference_filters import OracleFilter
from learners.finetuning.training.loop import FinetuneConfig
from learners.igf.build import BuildConfig, build_information_gain_learner, split_corpus
from learners.igf.filter import InformationGainFilter
from learners.loading import load_learner
from learners.text_igf.build import build_text_learner

sys.path.insert(0, str(Path(__file__).parent))
from bench_regimes import machine, run_arm, write  # noqa: E402
from peer_selectors import classifier_scores, dsir_scores  # noqa: E402
from regime_summary import by_seed, final, merge_runs, plot_regimes, read_results, summarise  # noqa: E402
from run_arguments import add_run_arguments  # noqa: E402

RESULTS = Path(__file__).parent / "results"
SETTINGS = ("pool", "variant", "family", "reverse")
ARMS = ("standard", "clean", "in_place", "transfer", "dsir", "classifier", "bag_of_tokens")
#: setting: (model that fine-tunes, off-target text of its pool, in-place learner, transferred learner)
PLAN = {"pool": ("smollm2", "cmake", "igf:smollm2:cmake", "igf:smollm2:pydocs"),
        "variant": ("variant", "pydocs", "igf_text:variant:pydocs", "igf_text:smollm2:pydocs"),
        "family": ("small", "pydocs", "igf_text:small:pydocs", "igf_text:smollm2:pydocs"),
        "reverse": ("smollm2", "pydocs", "igf_text:smollm2:pydocs", "igf_text:small:pydocs")}


def long_enough(corpus: Corpus, tokenizers: list, length: int) -> Corpus:
    """The documents at least `length` tokens long under the first tokenizer (SmolLM2's: the target, and so every
    split, is the same whichever models a run loads); a kept document shorter under another one is an error."""
    reference, *others = tokenizers
    keep = tuple(d for d in corpus.documents if len(reference(d, add_special_tokens=False)["input_ids"]) >= length)
    for tokenizer in others:
        short = [d for d in keep if len(tokenizer(d, add_special_tokens=False)["input_ids"]) < length]
        if short:
            raise ValueError(f"{len(short)} target documents are shorter than {length} tokens under "
                             f"{tokenizer.name_or_path}: the splits would differ between models.")
    return Corpus(corpus.name, keep, corpus.source)


def make_variant(out: Path, steps: int, corpus: Corpus, seed: int) -> None:
    """SmolLM2 after `steps` of continued training on `corpus` (batch 8 x 128 tokens, AdamW 5e-5): a checkpoint
    with SmolLM2's tokenizer and other weights."""
    model, tokenizer, _ = load_base_model("smollm2")
    ids = torch.tensor([i for document in corpus.documents[:2000]
                        for i in tokenizer(document, add_special_tokens=False)["input_ids"]])
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-5)
    generator = torch.Generator().manual_seed(seed)
    for step in range(steps):
        starts = torch.randint(0, len(ids) - 128, (8,), generator=generator).tolist()
        batch = torch.stack([ids[s:s + 128] for s in starts])
        model(input_ids=batch, labels=batch).loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        if step % 20 == 0:
            print(f"variant step {step}/{steps}", flush=True)
    # The bundled SmolLM2 comes from a GGUF file, which transformers will not save: the same weights in a fresh model.
    from transformers import AutoModelForCausalLM

    config = {k: v for k, v in model.config.to_dict().items() if k != "quantization_config"}
    config["_name_or_path"] = "smollm2-135m-instruct-pydocs-variant"
    fresh = AutoModelForCausalLM.from_config(type(model.config).from_dict(config))
    fresh.load_state_dict(model.state_dict())
    fresh.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", default="../shared/corpora")
    parser.add_argument("--corpora", default=".runs/r5", help="Folder realistic_corpora.py wrote (CMake docs).")
    parser.add_argument("--small-model", default=".runs/gpt2-scratch", help="second_base_model.py's folder.")
    parser.add_argument("--variant", default=".runs/smollm2-pydocs-variant", help="Made here when missing.")
    parser.add_argument("--variant-steps", type=int, default=200)
    parser.add_argument("--settings", default=",".join(SETTINGS))
    parser.add_argument("--arms", default=",".join(ARMS))
    add_run_arguments(parser, seeds=8, eval_every=10, lr_help="Fine-tuning lr of the SmolLM2 models.")
    parser.add_argument("--small-lr", type=float, default=5e-4, help="Fine-tuning lr of the small model.")
    parser.add_argument("--pairs", type=int, default=500, help="Probed pairs each learner is built on.")
    parser.add_argument("--pool-target", type=int, default=600, help="kjv contexts in each fine-tuning pool.")
    parser.add_argument("--learners", default=".runs/transfer/learners", help="Built learners, reused.")
    parser.add_argument("--out", default=str(RESULTS / "transfer.json"))
    parser.add_argument("--merge", nargs="*", default=[], help="Result files of other processes (--first-seed): "
                                                               "their runs are added to --out's, then it exits.")
    args = parser.parse_args()
    started, out = time.perf_counter(), Path(args.out)
    if args.merge:   # JSON only: no model, no learner
        return done(merge_settings(*read_results(out, args.merge)), out, started)
    settings = [s for s in SETTINGS if s in args.settings.split(",")]
    arms = [a for a in ARMS if a in args.arms.split(",")]
    config = BuildConfig(objective_size=args.objective_size, test_size=args.test_size, seed=0, pairs=args.pairs)
    shared, corpora = Path(args.shared), Path(args.corpora)
    off_target = {"pydocs": load_corpus(shared / "pydocs.jsonl.gz"),
                  "cmake": load_corpus(corpora / "cmake_docs.jsonl.gz")}
    needed = {PLAN[s][0] for s in settings} | {spec.split(":")[1] for s in settings for spec in PLAN[s][2:]}
    if "variant" in needed and not Path(args.variant).exists():
        make_variant(Path(args.variant), args.variant_steps, off_target["pydocs"], seed=0)
    names = {"smollm2": "smollm2", "variant": args.variant, "small": args.small_model}
    models = {key: load_base_model(names[key]) for key in sorted(needed)}
    target = long_enough(load_corpus(shared / "kjv.jsonl.gz"),   # every setting loads SmolLM2 (PLAN)
                         [models["smollm2"][1], *(tok for key, (_, tok, _) in models.items() if key != "smollm2")],
                         config.context_length)

    def learner(spec: str, key: str):
        """The learner `kind:labeller:off-target`, built once (saved under --learners), loaded next to model `key`."""
        kind, labeller, off = spec.split(":")
        folder = Path(args.learners) / spec.replace(":", "-")
        if not (folder / "learner.json").exists():
            model, tokenizer, ref = models[labeller]
            build = build_information_gain_learner if kind == "igf" else build_text_learner
            built = build(model, tokenizer, join_corpora([target, off_target[off]]), ref, config, target=target,
                          progress=True)
            built.save(folder)
        model, tokenizer, _ = models[key]
        return load_learner(folder, model, tokenizer)

    earlier = json.loads(out.read_text()) if args.resume and out.exists() else {}
    command = " ".join([Path(sys.executable).name, *sys.argv])
    results = {"command": command, "date": dt.date.today().isoformat(), "machine": machine(), "plan": PLAN,
               "protocol": {k: v for k, v in vars(args).items()
                            if k not in ("resume", "out", "budget_minutes", "first_seed")},
               "models": {key: ref.model_id for key, (_, _, ref) in models.items()},
               "base_model": "per setting (setups)",
               "commands": [*earlier.get("commands", []), command], "runs": earlier.get("runs", {}),
               "setups": earlier.get("setups", {})}
    for setting in settings:
        key, off, in_place_spec, transfer_spec = PLAN[setting]
        model, tokenizer, ref = models[key]
        _, split = split_corpus(target, tokenizer, config)
        other = ContextStream(TokenizedCorpus.from_corpus(off_target[off], tokenizer,
                                                          context_length=config.context_length).documents,
                              config.context_length)
        pool = mixed_pool(split.train.sample(args.pool_target, torch.Generator().manual_seed(12)),
                          other.sample(args.pool_target, torch.Generator().manual_seed(14)),
                          other_fraction=0.5, seed=22)
        learners = {"in_place": learner(in_place_spec, key), "transfer": learner(transfer_spec, key)}
        if key == "smollm2" and in_place_spec.startswith("igf_text:"):   # reverse: the text head against the
            learners["bag_of_tokens"] = learner(f"igf:smollm2:{off}", key)  # token head, same labels and pool
        texts = tokenizer.batch_decode(pool.contexts)
        target_texts = tokenizer.batch_decode(split.train.sample(1024, torch.Generator().manual_seed(17)))
        other_texts = tokenizer.batch_decode(other.sample(600, torch.Generator().manual_seed(18)))
        peers = {"dsir": dsir_scores(texts, target_texts),
                 "classifier": classifier_scores(texts, target_texts, target_texts[:300] + other_texts)}
        results["setups"][setting] = {"model": ref.model_id, "off_target": off, "in_place": in_place_spec,
                                      "transfer": transfer_spec, "pool_contexts": len(pool)}
        runs = results["runs"].setdefault(setting, {})
        initial = {name: tensor.detach().clone() for name, tensor in model.state_dict().items()}
        lr = args.small_lr if key == "small" else args.lr
        for seed in range(args.first_seed, args.seeds):
            for arm in arms:
                if seed in by_seed(runs.get(arm, [])):
                    continue
                if (arm in peers and seed not in by_seed(runs.get("transfer", []))) or \
                        (arm == "bag_of_tokens" and arm not in learners):
                    continue
                if args.budget_minutes and (time.perf_counter() - started) / 60 > args.budget_minutes:
                    return done(results, out, started)
                rate = by_seed(runs.get("transfer", [])).get(seed, {}).get("acceptance_rate")
                context_filter = (InformationGainFilter(learners[arm]) if arm in learners else
                                  OracleFilter(pool.contexts, peers[arm], keep=rate) if arm in peers else None)
                print(f"[{(time.perf_counter() - started) / 60:.1f} min] seed {seed} {setting} {arm}", flush=True)
                contexts = pool.target_only() if arm == "clean" else pool.contexts
                runs.setdefault(arm, []).append(run_arm(model, initial, contexts, split.test, context_filter,
                                                        FinetuneConfig(steps=args.steps, batch_size=args.batch_size,
                                                                       lr=lr, eval_every=args.eval_every, seed=seed)))
                write(results, out)
    return done(results, out, started)


def merge_settings(results: dict, others: list[dict]) -> dict:
    """`results` with the runs, commands, setups and models of `others` (other seeds, the same protocol)."""
    for other in others:
        results["setups"].update({k: v for k, v in other.get("setups", {}).items() if k not in results["setups"]})
        results.setdefault("models", {}).update(other.get("models", {}))
    return merge_runs(results, others)


def done(results: dict, out: Path, started: float) -> int:
    """The regimes' summary per setting, plus the share of the in-place gain each transfer keeps."""
    kept = {}
    for setting, arms in results["runs"].items():
        standard = by_seed(arms.get("standard", []))
        gains = {arm: [1 - final(r) / final(standard[r["seed"]]) for r in arms.get(arm, []) if r["seed"] in standard]
                 for arm in ("in_place", "transfer", "dsir", "classifier")}
        if gains["in_place"] and gains["transfer"]:
            median = sorted(gains["in_place"])[len(gains["in_place"]) // 2]
            kept[setting] = {arm: round(sorted(g)[len(g) // 2] / median, 3) if median > 0 else None
                             for arm, g in gains.items() if g}
    results["share_of_in_place_gain"] = kept
    results["summary"] = summarise(results)
    results["wall_minutes_this_invocation"] = round((time.perf_counter() - started) / 60, 1)
    write(results, out)
    plot_regimes(results, out.parent, prefix="transfer")
    print(json.dumps({"share_of_in_place_gain": kept}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
