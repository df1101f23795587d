"""The command-line flags every paired-seed fine-tuning benchmark shares: one place for their names, types and
help, so `--first-seed`, `--resume` and `--budget-minutes` mean the same in every script."""

from __future__ import annotations

import argparse


def add_run_arguments(parser: argparse.ArgumentParser, *, seeds: int = 10, eval_every: int = 5,
                      first_seed: bool = True, objective_size: bool = True, test_size: bool = True,
                      lr_help: str = "Fine-tuning learning rate (AdamW, constant).") -> None:
    """Seeds, the fine-tuning protocol (30 steps of 8 contexts at lr 5e-5 unless told), and resuming.

    Pass `first_seed=False` for a benchmark that runs every seed in one process, `objective_size=False` or
    `test_size=False` where the benchmark's sets are fixed by something else (R4's scarce target)."""
    parser.add_argument("--seeds", type=int, default=seeds, help="Paired seeds: runs seeds first-seed..seeds-1.")
    if first_seed:
        parser.add_argument("--first-seed", type=int, default=0, help="Run seeds first-seed..seeds-1 (a second "
                                                                      "process on another core, its own --out).")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--eval-every", type=int, default=eval_every)
    parser.add_argument("--lr", type=float, default=5e-5, help=lr_help)
    if objective_size:
        parser.add_argument("--objective-size", type=int, default=64)
    if test_size:
        parser.add_argument("--test-size", type=int, default=64)
    parser.add_argument("--resume", action="store_true", help="Keep the runs already in --out and do the rest.")
    parser.add_argument("--budget-minutes", type=float, default=None, help="Start no new run after this.")
