"""Filtering offline equals filtering online (issue 20 item 5): documents kept by `learnerhub filter
--threshold default`, then fine-tuned on, against the same learner inside the fine-tuning loop, on R1.

R1's pool as documents: the King James Bible's training chapters (its objective and test chapters held
out, the split the learner was built on) and as many tokens of Python docs pages, one JSONL shard. Arms,
paired by seed (the same test set, initial weights and draws):

  standard  contexts drawn from every document of the pool;
  online    the same draws through the learner at its default threshold (`InformationGainFilter`: a
            context under it is skipped before the forward pass, the next one drawn);
  offline   `learnerhub score` then `learnerhub filter --threshold default` (the commands a pipeline user
            runs, as subprocesses), then contexts drawn from the kept documents only, no filter;
  clean     contexts drawn from the pool's kjv chapters only (what perfect filtering would give).

Goal: offline/standard within the CI of online/standard (the paired ratio offline/online's CI holds 1).
The learner is the transfer benchmark's in-pool one (`igf` built by the library on kjv + pydocs with
--target, 500 probed pairs), built here when its folder is missing.

    python benchmarks/bench_offline_online.py --seeds 10 --resume
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import subprocess
import sys
import time
from pathlib import Path

import torch

from learners.base_models import load_base_model
from learners.corpora.contexts import ContextStream
from learners.corpora.corpus import join_corpora, load_corpus
from learners.finetuning.training.loop import FinetuneConfig, finetune
from learners.igf.build import BuildConfig, build_information_gain_learner, document_key, split_corpus
from learners.igf.filter import InformationGainFilter
from learners.loading import load_learner

sys.path.insert(0, str(Path(__file__).parent))
from bench_regimes import machine, write  # noqa: E402
from bench_transfer import long_enough  # noqa: E402
from regime_summary import by_seed, effect, final  # noqa: E402
from run_arguments import add_run_arguments  # noqa: E402
from scoring_runs import learnerhub_command  # noqa: E402

RESULTS = Path(__file__).parent / "results"
ARMS = ("standard", "online", "offline", "clean")


def pool_documents(target, off_target, tokenizer, config: BuildConfig, seed: int) -> tuple[list[str], list[str]]:
    """(kjv training chapters, Python docs pages of as many tokens), as text: R1's pool, whole documents."""
    tokenized, split = split_corpus(target, tokenizer, config)
    train_keys = {document_key(d) for d in split.train.documents}
    chapters = [text for text, ids in zip(target.documents, _encode(tokenizer, target.documents))
                if len(ids) >= config.context_length and document_key(torch.tensor(ids)) in train_keys]
    budget = sum(len(ids) for ids in _encode(tokenizer, chapters))
    pages = list(off_target.documents)
    random.Random(seed).shuffle(pages)
    chosen, tokens = [], 0
    for text, ids in zip(pages, _encode(tokenizer, pages)):
        if tokens >= budget:
            break
        if len(ids) >= config.context_length:
            chosen.append(text)
            tokens += len(ids)
    return chapters, chosen


def _encode(tokenizer, texts: list[str]) -> list[list[int]]:
    return tokenizer(list(texts), add_special_tokens=False)["input_ids"]


def stream(tokenizer, texts: list[str], length: int) -> ContextStream:
    return ContextStream([torch.tensor(ids) for ids in _encode(tokenizer, texts) if len(ids) >= length], length)


def offline_kept(learner: Path, shard: Path, work: Path) -> tuple[list[str], dict]:
    """The documents `learnerhub score` + `learnerhub filter --threshold default` keep, and what filter said."""
    cli = learnerhub_command()
    subprocess.run([*cli, "score", str(learner), "--corpus", str(shard), "--out", str(work / "scores"),
                    "--workers", "1", "--json"], check=True, stdout=subprocess.DEVNULL)
    said = subprocess.run([*cli, "filter", "--corpus", str(shard), "--scores", str(work / "scores"), "--out",
                           str(work / "kept"), "--threshold", "default", "--json"], check=True, capture_output=True,
                          text=True)
    kept = [json.loads(line)["text"] for line in (work / "kept" / shard.name).read_text().splitlines()]
    return kept, json.loads(said.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", default="../shared/corpora")
    parser.add_argument("--learner", default=".runs/transfer/learners/igf-smollm2-pydocs")
    parser.add_argument("--work", default=".runs/offline_online")
    parser.add_argument("--arms", default=",".join(ARMS))
    add_run_arguments(parser, seeds=10, eval_every=10, objective_size=False, test_size=False)
    parser.add_argument("--pairs", type=int, default=500, help="Probed pairs, when the learner is built here.")
    parser.add_argument("--out", default=str(RESULTS / "offline_online.json"))
    args = parser.parse_args()
    started, out, work = time.perf_counter(), Path(args.out), Path(args.work)
    config = BuildConfig(objective_size=64, test_size=64, seed=0, pairs=args.pairs)   # bench_transfer's
    model, tokenizer, ref = load_base_model("smollm2")
    shared = Path(args.shared)
    target = long_enough(load_corpus(shared / "kjv.jsonl.gz"), [tokenizer], config.context_length)
    off_target = load_corpus(shared / "pydocs.jsonl.gz")
    learner_folder = Path(args.learner)
    if not (learner_folder / "learner.json").exists():
        build_information_gain_learner(model, tokenizer, join_corpora([target, off_target]), ref, config,
                                       target=target, progress=True).save(learner_folder)
    learner = load_learner(learner_folder, model, tokenizer)
    _, split = split_corpus(target, tokenizer, config)
    chapters, pages = pool_documents(target, off_target, tokenizer, config, seed=0)
    work.mkdir(parents=True, exist_ok=True)
    shard = work / "r1_pool.jsonl"
    documents = [("kjv", t) for t in chapters] + [("pydocs", t) for t in pages]
    shard.write_text("".join(json.dumps({"id": f"{source}-{i}", "text": text}) + "\n"
                             for i, (source, text) in enumerate(documents)))
    kept, filtered = offline_kept(learner_folder, shard, work)
    kept_set = set(kept)
    length = config.context_length
    streams = {"standard": stream(tokenizer, chapters + pages, length), "clean": stream(tokenizer, chapters, length),
               "offline": stream(tokenizer, kept, length)}
    streams["online"] = streams["standard"]
    pool = {"kjv_documents": len(chapters), "pydocs_documents": len(pages),
            "tokens": {name: sum(map(len, _encode(tokenizer, texts))) for name, texts in (("kjv", chapters),
                                                                                           ("pydocs", pages))},
            "offline_kept": {"documents": len(kept), "of_kjv": sum(t in kept_set for t in chapters) / len(chapters),
                             "of_pydocs": sum(t in kept_set for t in pages) / len(pages),
                             "token_share": streams["offline"].window_count / streams["standard"].window_count,
                             "threshold": filtered["threshold"]}}
    print(json.dumps(pool, indent=1), flush=True)

    earlier = json.loads(out.read_text()) if args.resume and out.exists() else {}
    command = " ".join([Path(sys.executable).name, *sys.argv])
    results = {"command": command, "date": dt.date.today().isoformat(), "machine": machine(),
               "commands": [*earlier.get("commands", []), command], "base_model": ref.model_id,
               "learner": str(learner_folder), "learner_identity": learner.metadata.base_model.model_id,
               "protocol": {k: v for k, v in vars(args).items() if k not in ("resume", "out", "budget_minutes")},
               "pool": pool, "runs": earlier.get("runs", {})}
    initial = {name: tensor.detach().clone() for name, tensor in model.state_dict().items()}
    for seed in range(args.first_seed, args.seeds):
        for arm in [a for a in ARMS if a in args.arms.split(",")]:
            if seed in by_seed(results["runs"].get(arm, [])):
                continue
            if args.budget_minutes and (time.perf_counter() - started) / 60 > args.budget_minutes:
                return done(results, out)
            print(f"[{(time.perf_counter() - started) / 60:.1f} min] seed {seed} {arm}", flush=True)
            context_filter = InformationGainFilter(learner) if arm == "online" else None
            result = finetune(model, streams[arm], split.test, context_filter,
                              FinetuneConfig(steps=args.steps, batch_size=args.batch_size, lr=args.lr,
                                             eval_every=args.eval_every, seed=seed))
            model.load_state_dict(initial)
            record = result.to_dict()
            record.pop("train_loss", None)
            record["seed"] = seed
            results["runs"].setdefault(arm, []).append(record)
            write(results, out)
    return done(results, out)


def done(results: dict, out: Path) -> int:
    """Each arm over standard and offline over online: paired medians with 95% CIs."""
    runs = results["runs"]
    pairs = [("online", "standard"), ("offline", "standard"), ("clean", "standard"), ("offline", "online")]
    results["summary"] = {f"{a}/{b}": effect(runs[a], runs[b], final) for a, b in pairs if runs.get(a) and runs.get(b)}
    online = sorted(r["acceptance_rate"] for r in runs.get("online", []))
    results["summary"]["online_acceptance_rate_median"] = online[len(online) // 2] if online else None
    write(results, out)
    print(json.dumps(results["summary"], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
