"""Standard output that fails as a user error: a full disk (`> /dev/full`) or a closed descriptor is one line
and exit status 2, a reader that went away (`| head -0`) is a quiet success; never a traceback at exit."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from typing import TextIO

from cards.format.errors import LearnerHubError


class OutputError(LearnerHubError):
    """Standard output cannot be written (full or closed); what was being printed is lost."""


class GuardedOutput:
    """Wraps a text stream: its write errors (other than a broken pipe) become OutputError."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def __getattr__(self, name: str):
        return getattr(self._stream, name)

    def write(self, text: str) -> int:
        return self._guard(self._stream.write, text)

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        self._guard(self._stream.flush)

    @staticmethod
    def _guard(call, *args):
        try:
            return call(*args)
        except BrokenPipeError:
            raise
        except (OSError, ValueError) as error:   # ValueError: the stream was closed
            discard_stdout()
            reason = getattr(error, "strerror", None) or str(error)
            raise OutputError(f"cannot write the output: {reason}. Send it somewhere with room (e.g. `> file`), "
                              "or to a reader that stays open.") from None


def discard_stdout() -> None:
    """Point the stdout descriptor at devnull, so the interpreter's final flush does not fail a second time."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.__stdout__.fileno())
    except (OSError, ValueError, AttributeError):
        pass
