"""argparse types that check a value as it is typed: shared by the command line and the flags a learner kind
adds to it (`LearnerKind.cli_arguments`), so a kind's flags fail as clearly as the built-in ones."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable

from cards.suggestions import did_you_mean


def positive_int(text: str) -> int:
    """argparse type: a whole number of at least 1 (argparse turns the error into exit status 2)."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def choice_of(names: Iterable[str]) -> Callable[[str], str]:
    """argparse type of a name from a fixed set (--kind, --head, --probe, ...): a typo is one line that says
    "did you mean" and what the choices are (argparse turns it into exit status 2)."""
    known = list(names)

    def choice(text: str) -> str:
        if text not in known:
            raise argparse.ArgumentTypeError(f"invalid choice {text!r}.{did_you_mean(text, known)} "
                                             f"Choose from {', '.join(known)}.")
        return text

    return choice
