"""One `Accelerator` set-up for every learnerhub entry point.

On a machine without GPUs, processes started by `accelerate launch --multi_gpu --num_processes N`
(or `torchrun`) only join one CPU process group (gloo) when the Accelerator is told to use the CPU,
so that is decided here rather than left to each caller.
"""

from __future__ import annotations

import torch
from accelerate import Accelerator


def make_accelerator() -> Accelerator:
    """An Accelerator on the GPUs when there are any, else on the CPU (one or several processes)."""
    return Accelerator(cpu=not torch.cuda.is_available())
