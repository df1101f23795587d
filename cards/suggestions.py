""""Did you mean ...?" for every name a user types (a kind, a head, a corpus, a repository, a folder, a base
model, a threshold form): one wording, from the standard library's `difflib.get_close_matches`.

Example:
    >>> did_you_mean("kvj", ["kjv", "pydocs"])
    " Did you mean 'kjv'?"
    >>> f"No corpus {name!r}.{did_you_mean(name, names)} See `learnerhub list`."
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path

#: How alike a candidate must be to be offered (difflib's ratio; 0.6 is its own default).
CUTOFF = 0.6


def close_matches(word: str, candidates: Iterable[str], *, limit: int = 3, cutoff: float = CUTOFF) -> list[str]:
    """The candidates most like `word`, best first, compared without regard to case (spelled as given)."""
    by_lower: dict[str, str] = {}
    for candidate in candidates:
        by_lower.setdefault(candidate.lower(), candidate)
    return [by_lower[m] for m in difflib.get_close_matches(word.lower(), list(by_lower), n=limit, cutoff=cutoff)]


def did_you_mean(word: str, candidates: Iterable[str], *, limit: int = 3, cutoff: float = CUTOFF) -> str:
    """`" Did you mean 'a' or 'b'?"` (with a leading space, to append to a sentence), or "" when none is close."""
    return _phrase(close_matches(word, candidates, limit=limit, cutoff=cutoff))


def did_you_mean_path(path: str | Path) -> str:
    """The suggestion for a path that does not exist: entries of its folder named like it, as paths the way the
    user wrote them (`corpora/kvj.jsonl` -> `corpora/kjv.jsonl`), or "" when the folder has none alike."""
    given = Path(path).expanduser()
    try:
        names = [entry.name for entry in given.parent.iterdir() if not entry.name.startswith(".")]
    except OSError:
        return ""
    written = Path(str(path)).parent
    return _phrase([str(written / name) for name in close_matches(given.name, names)])


def _phrase(close: list[str]) -> str:
    if not close:
        return ""
    named = [repr(c) for c in close]
    return f" Did you mean {named[0] if len(named) == 1 else ', '.join(named[:-1]) + ' or ' + named[-1]}?"
