"""What long work shows while it runs, on stderr: a line per stage, and tqdm bars with tqdm's own rate and
time left.

Every line and bar goes to stderr, so a command's `--json` on stdout stays clean. Stage lines go through
`tqdm.write`, which keeps an open bar intact below them.

Example:
    >>> stage("loading base model smollm2", enabled=progress)
    >>> with step_bar(3 * 30, "evaluating learner", enabled=progress) as bar:
    ...     finetune(model, split.train, split.test, progress=bar)    # one tick per optimizer step
"""

from __future__ import annotations

import os
import sys

from tqdm.auto import tqdm

#: The prefix of every stage line (the command line's own messages read `learnerhub: ...` too).
PREFIX = "learnerhub: "


def stage(message: str, *, enabled: bool = True) -> None:
    """Say on stderr which stage long work has reached (`learnerhub: tokenizing ...`)."""
    if enabled and local_main_process():
        tqdm.write(f"{PREFIX}{message}", file=sys.stderr)
        sys.stderr.flush()


def step_bar(total: int | None, description: str, *, enabled: bool = True, unit: str = "step") -> tqdm:
    """A bar on stderr over `total` units of work with tqdm's count, rate and remaining time
    (`12/180 [00:04<00:56, 3.0step/s]`); a disabled bar accepts the same calls and shows nothing. Under
    `accelerate launch` or `torchrun` only the first process of each machine shows it."""
    return tqdm(total=total, desc=description, unit=unit, disable=not (enabled and local_main_process()),
                file=sys.stderr, dynamic_ncols=True)


def local_main_process() -> bool:
    """Whether this is the first process on its machine (LOCAL_RANK, set by the launchers; alone: yes)."""
    return os.environ.get("LOCAL_RANK", "0") == "0"
