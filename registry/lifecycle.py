"""The version lifecycle of one repository: yanked versions, deleted versions and named aliases.

Tags of versions are immutable, so what happens to a version after it is published is recorded beside
it: an append-only log, `lifecycle.json` on the branch `lifecycle` of the repository, one event per
line of history (yank, unyank, delete, alias, unalias), each with when, by whom and why. The current
state is the log replayed. Every store keeps it the same way (a git branch is all the local store,
`learnerhub serve` and the Hugging Face Hub have in common), so every reader agrees on it.

What the state means to readers (PEP 592's yank, MLflow's aliases):
- a yanked version stays downloadable by an exact pin (`==1.2.0`, a commit, a lock file) and is never
  chosen by a range or as "latest"; `main` holds the newest version that is not yanked;
- a deleted version is gone: its tag is removed and its number is never published again;
- an alias (`production`, `staging`, any name) names one version and can be moved.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone

from .errors import InvalidVersionError, LifecycleError, VersionNotFoundError

LIFECYCLE_BRANCH = "lifecycle"
LIFECYCLE_FILE = "lifecycle.json"
LIFECYCLE_FORMAT = 1
ACTIONS = ("yank", "unyank", "delete", "alias", "unalias")
#: An alias: a lower-case word that is neither a version (starts with a digit) nor a commit (all hex).
ALIAS_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
RESERVED_ALIASES = {"latest", "main", LIFECYCLE_BRANCH}
MAX_REASON = 500


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def is_alias(text: str) -> bool:
    """Whether a version spec names an alias: a lower-case word with a letter beyond a-f (never a commit id),
    not `v` and a digit (`v1` is the version spec ==1)."""
    return bool(ALIAS_NAME.match(text)) and not re.fullmatch(r"[0-9a-f]+", text) and not re.match(r"v\d", text)


def check_alias_name(name: str) -> str:
    """`name` if it can be an alias, else InvalidVersionError saying what an alias looks like."""
    if not is_alias(name or "") or name in RESERVED_ALIASES:
        raise InvalidVersionError(f"{name!r} cannot be an alias: use a lower-case word (letters, digits, - or _, "
                                  "starting with a letter, not only hex digits a-f0-9, not v and a digit, and not "
                                  "latest/main/lifecycle), "
                                  "e.g. production.")
    return name


@dataclass(frozen=True)
class LifecycleEvent:
    """One line of the audit log."""

    action: str
    version: str
    reason: str = ""
    alias: str | None = None
    commit: str | None = None   # the version's commit when the event happened (yank, delete)
    at: str = field(default_factory=now)
    by: str = ""

    def describe(self) -> str:
        target = f"{self.alias} -> {self.version}" if self.action in ("alias", "unalias") else self.version
        return f"{self.at} {self.action} {target}" + (f" by {self.by}" if self.by else "") + (
            f": {self.reason}" if self.reason else "")

    @classmethod
    def from_dict(cls, data: object) -> LifecycleEvent:
        if not isinstance(data, dict) or data.get("action") not in ACTIONS or not isinstance(data.get("version"), str):
            raise ValueError(f"not a lifecycle event: {str(data)[:80]}")
        known = {name: data[name] for name in ("action", "version", "reason", "alias", "commit", "at", "by")
                 if name in data}
        if not all(isinstance(v, str) for v in known.values() if v is not None):
            raise ValueError(f"a lifecycle event holds a non-string field: {str(data)[:80]}")
        return cls(**known)


@dataclass
class Lifecycle:
    """The replayed log: what is yanked (version -> reason), deleted (version -> commit), aliased (name -> version)."""

    events: list[LifecycleEvent] = field(default_factory=list)
    yanked: dict[str, str] = field(default_factory=dict)
    deleted: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)

    @classmethod
    def replay(cls, events: list[LifecycleEvent]) -> Lifecycle:
        state = cls(events=list(events))
        for event in events:
            state._apply(event)
        return state

    def _apply(self, event: LifecycleEvent) -> None:
        if event.action == "yank":
            self.yanked[event.version] = event.reason
        elif event.action == "unyank":
            self.yanked.pop(event.version, None)
        elif event.action == "delete":
            self.deleted[event.version] = event.commit or ""
            self.yanked.pop(event.version, None)
            self.aliases = {name: version for name, version in self.aliases.items() if version != event.version}
        elif event.action == "alias" and event.alias:
            self.aliases[event.alias] = event.version
        elif event.action == "unalias" and event.alias:
            self.aliases.pop(event.alias, None)

    @classmethod
    def from_json(cls, text: str | bytes, *, source: str) -> Lifecycle:
        """Parse `lifecycle.json`; LifecycleError naming `source` when it is not one (the repository's problem)."""
        try:
            data = json.loads(text)
            if not isinstance(data, dict) or not isinstance(data.get("events"), list):
                raise ValueError("it holds no list of events")
            if data.get("format", LIFECYCLE_FORMAT) > LIFECYCLE_FORMAT:
                raise ValueError(f"format {data['format']} is newer than this learnerhub reads; upgrade learnerhub")
            return cls.replay([LifecycleEvent.from_dict(e) for e in data["events"]])
        except (ValueError, TypeError, RecursionError) as error:
            raise LifecycleError(f"{source} is not a valid learnerhub lifecycle log ({error}); its yanks and aliases "
                                 "cannot be trusted, so nothing was resolved. Repair or revert the "
                                 f"{LIFECYCLE_BRANCH} branch.") from None

    def to_json(self) -> str:
        return json.dumps({"format": LIFECYCLE_FORMAT, "events": [_compact(e) for e in self.events]}, indent=1) + "\n"

    def live(self, published: dict[str, str]) -> dict[str, str]:
        """`published` (version -> commit) less the deleted versions: a delete cut short by a kill leaves the tag
        behind, and a deleted number tagged again is still deleted (numbers are never reused)."""
        return {v: c for v, c in published.items() if v not in self.deleted}

    def choosable(self, published: dict[str, str]) -> dict[str, str]:
        """The versions a range or "latest" may choose: live and not yanked."""
        return {v: c for v, c in self.live(published).items() if v not in self.yanked}

    def with_event(self, event: LifecycleEvent, published: dict[str, str]) -> Lifecycle:
        """The log with `event` appended, once it makes sense against the published versions; else an error
        that says why (yanking what is not published, aliasing a yanked version, ...)."""
        live = self.live(published)
        where = f"(published: {', '.join(sorted(live)) or 'none'})"
        if event.version not in live:
            raise VersionNotFoundError(f"Version {event.version} is not published {where}.")
        if event.action == "yank" and event.version in self.yanked:
            raise LifecycleError(f"Version {event.version} is already yanked "
                                 f"({self.yanked[event.version] or 'no reason'}).")
        if event.action == "unyank" and event.version not in self.yanked:
            raise LifecycleError(f"Version {event.version} is not yanked.")
        naming = sorted(name for name, version in self.aliases.items() if version == event.version)
        if event.action == "yank" and naming:
            # an alias must name a version people may use (as `alias` refuses a yanked one): the owner of the alias
            # decides where it goes, with its own audit line, rather than a yank moving or dropping it silently
            raise LifecycleError(f"Version {event.version} is named by the alias(es) {', '.join(naming)}: "
                                 f"move them first (`learnerhub alias REPO {naming[0]} OTHER_VERSION`, "
                                 "or `--remove`), then yank.")
        if event.action in ("alias", "unalias"):
            check_alias_name(event.alias or "")
            if event.action == "alias" and event.version in self.yanked:
                raise LifecycleError(f"Version {event.version} is yanked; an alias must name a version people may "
                                     "use. Un-yank it first, or alias another version.")
            if event.action == "unalias" and self.aliases.get(event.alias) != event.version:
                raise LifecycleError(f"Alias {event.alias!r} does not name {event.version}.")
        if event.commit is not None and event.commit != live[event.version]:
            raise LifecycleError(f"The event names commit {event.commit[:12]} for {event.version}, but its tag is on "
                                 f"{live[event.version][:12]}.")
        check_event_text(event)
        updated = Lifecycle.replay([*self.events, event])
        if event.action in ("yank", "delete") and not updated.choosable(published):
            raise LifecycleError(f"{event.version} is the last version that can be chosen: after this nothing would be "
                                 "latest and main would keep it. Publish a fixed version first, then "
                                 f"{event.action} this one (or delete the repository).")
        return updated

    def history(self, version: str | None = None) -> list[str]:
        """The audit lines (of one version, or all), oldest first."""
        return [e.describe() for e in self.events if version is None or e.version == version]

    def to_dict(self) -> dict:
        return {"yanked": dict(self.yanked), "deleted": sorted(self.deleted), "aliases": dict(self.aliases),
                "history": self.history()}


def check_event_text(event: LifecycleEvent) -> None:
    """Reasons and authors are shown in terminals and pages: one line of printable text, bounded."""
    for name, value, limit in (("reason", event.reason, MAX_REASON), ("by", event.by, 200), ("at", event.at, 40)):
        if len(value) > limit:
            raise LifecycleError(f"The {name} is {len(value)} characters; keep it under {limit}.")
        if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
            raise LifecycleError(f"The {name} holds control characters (a newline, an escape, ...): write it on one "
                                 "line of plain text.")


def _compact(event: LifecycleEvent) -> dict:
    return {key: value for key, value in asdict(event).items() if value not in (None, "")}
