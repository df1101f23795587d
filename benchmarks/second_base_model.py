"""A second base model of another family and tokenizer, made reproducibly (issue 19): only SmolLM2 ships offline.

A small GPT-2-style causal LM with its own byte-level BPE tokenizer (`tokenizers`), pretrained from scratch
on text that holds none of the target (Python docs + CMake docs: kjv's held-out chapters are the benchmark's
objective and test sets, so the model must not have seen them) for a fixed number of steps on the CPU. The
folder it writes loads like any base model (`--base-model .runs/gpt2-scratch`); weights are safetensors and
are not committed (the result file holds the command, seed, size, loss curve and time, so anyone can remake
them).

    python benchmarks/second_base_model.py --out .runs/gpt2-scratch --steps 1200 --seed 0
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import sys
import time
from pathlib import Path

import torch

from learners.corpora.corpus import load_corpus

RESULTS = Path(__file__).parent / "results"


def train_tokenizer(texts: list[str], vocab_size: int):
    """A byte-level BPE tokenizer of the texts, as a transformers fast tokenizer."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.train_from_iterator(texts, trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["<|endoftext|>"],
                                                             initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, eos_token="<|endoftext|>", pad_token="<|endoftext|>",
                                   bos_token="<|endoftext|>")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpora", nargs="+", default=["../shared/corpora/pydocs.jsonl.gz",
                                                         ".runs/r5/cmake_docs.jsonl.gz"],
                        help="Never the target (kjv): its held-out chapters are the benchmarks' test sets.")
    parser.add_argument("--out", default=".runs/gpt2-scratch")
    parser.add_argument("--vocab-size", type=int, default=8192)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--context", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--result", default=str(RESULTS / "second_base_model.json"))
    args = parser.parse_args()
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(args.seed)
    started = time.perf_counter()
    texts = [text for path in args.corpora for text in load_corpus(path).documents]
    tokenizer = train_tokenizer(texts, args.vocab_size)
    ids = torch.tensor([i for text in texts for i in tokenizer(text + tokenizer.eos_token)["input_ids"]])
    config = GPT2Config(vocab_size=len(tokenizer), n_positions=args.context, n_embd=args.width, n_layer=args.layers,
                        n_head=args.heads, bos_token_id=tokenizer.eos_token_id, eos_token_id=tokenizer.eos_token_id)
    model = GPT2LMHeadModel(config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / 100) * 0.5 * (1 + math.cos(math.pi * min(s, args.steps) / args.steps)))
    generator = torch.Generator().manual_seed(args.seed)
    curve = []
    for step in range(args.steps):
        starts = torch.randint(0, len(ids) - args.context, (args.batch_size,), generator=generator)
        batch = torch.stack([ids[s:s + args.context] for s in starts.tolist()])
        loss = model(input_ids=batch, labels=batch).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
        if step % 50 == 0 or step == args.steps - 1:
            curve.append({"step": step, "loss": round(float(loss), 4)})
            print(f"step {step}/{args.steps} loss {float(loss):.3f} ({time.perf_counter() - started:.0f} s)",
                  file=sys.stderr, flush=True)
    out = Path(args.out)
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    result = {"command": " ".join(["python", *sys.argv]), "date": dt.date.today().isoformat(), "seed": args.seed,
              "parameters": sum(p.numel() for p in model.parameters()), "training_tokens": len(ids),
              "config": {k: getattr(args, k) for k in ("vocab_size", "layers", "width", "heads", "context",
                                                        "batch_size", "steps", "lr")},
              "corpora": args.corpora, "seconds": round(time.perf_counter() - started, 1), "loss_curve": curve,
              "folder": str(out), "torch": torch.__version__}
    Path(args.result).parent.mkdir(parents=True, exist_ok=True)
    Path(args.result).write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "loss_curve"}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
