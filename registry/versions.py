"""Semantic versions (tags `v1.0.0`) and the specs that pick one: `1.2.0`, `>=1.0,<2`, `~=1.2`, a sha.

A spec picks the newest published version it matches; a hex string of 7 to 64 digits (a full sha, or
the 12-character one learnerhub prints) names a version's commit instead, and a lower-case word
(`production`) an alias of the repository's lifecycle (`registry.lifecycle`). Yanked versions are
chosen only by an exact pin (`1.2.0`, `==1.2.0`, a commit), as pip treats yanked releases (PEP 592).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from .constants import TAG_PREFIX
from .errors import InvalidVersionError, VersionNotFoundError
from .lifecycle import Lifecycle, is_alias

_COMMIT = re.compile(r"^[0-9a-f]{7,64}$")   # no dots, so never a version (1.2.0) or a range


def parse_release(text: str) -> Version:
    """A version to publish: exactly MAJOR.MINOR.PATCH (pre-releases like 1.0.0rc1 allowed)."""
    try:
        version = Version(text.strip().removeprefix(TAG_PREFIX))
    except InvalidVersion:
        raise InvalidVersionError(f"Version {text!r} is not semantic: write MAJOR.MINOR.PATCH, e.g. 1.0.0.") from None
    if len(version.release) != 3 or version.local or version.epoch or version.post or version.dev:
        raise InvalidVersionError(f"Version {text!r} is not semantic: write MAJOR.MINOR.PATCH, e.g. 1.0.0.")
    return version


def latest_of(versions):
    """The version readers call "latest": the newest release, or the newest pre-release while there is no
    release. Publishing moves `main` only to it, so main, listings, pages and `pull` agree."""
    versions = [v if isinstance(v, Version) else Version(str(v)) for v in versions]
    stable = [v for v in versions if not v.is_prerelease]
    return max(stable or versions) if versions else None


def latest_version(published: dict[str, str], lifecycle: Lifecycle | None = None) -> str | None:
    """The version readers call "latest" among `published` (version -> commit), yanked and deleted ones aside."""
    newest = latest_of((lifecycle or Lifecycle()).choosable(published))
    return None if newest is None else str(newest)


def tag_name(version: Version | str) -> str:
    return f"{TAG_PREFIX}{version}"


def version_of_tag(tag: str) -> Version | None:
    """`v1.2.0` -> Version('1.2.0'); None for tags that are not learner versions.

    Only the canonical spelling counts (`tag == tag_name(version)`): `v01.0.0`, `v1.0.00`, `vv1.0.0`,
    `v1.0.0+x` parse to the same or a near version, and honouring them would let a second tag redefine
    what `--version 1.0.0` returns while `v1.0.0` stays untouched.
    """
    if not tag.startswith(TAG_PREFIX):
        return None
    try:
        version = parse_release(tag)
    except InvalidVersionError:
        return None
    return version if tag == tag_name(version) else None


def looks_like_version_tag(tag: str) -> bool:
    """A tag in the version namespace (`v` then a digit, or `v`-prefixed variants of one): it must be canonical."""
    bare = tag[1:] if tag[:1] in ("v", "V") else None
    return bare is not None and (bare[:1].isdigit() or bare[:1] in ("v", "V"))


def check_version_tag(tag: str) -> None:
    """Refuse a tag that looks like a version but is not a version's canonical tag (shadow tags)."""
    if looks_like_version_tag(tag) and version_of_tag(tag) is None:
        try:
            hint = f" (write {tag_name(parse_release(tag.lstrip('vV')))})"
        except InvalidVersionError:
            hint = " (write v + MAJOR.MINOR.PATCH, e.g. v1.0.0)"
        raise InvalidVersionError(f"Tag {tag!r} is not the canonical tag of a version{hint}: learner versions are "
                                  "tagged exactly one way, so that one version means one content.")


@dataclass(frozen=True)
class VersionSpec:
    """What the user asked for: the newest (None), a version set, or one commit."""

    text: str | None
    specifier: SpecifierSet | None = None
    commit: str | None = None
    alias: str | None = None

    @classmethod
    def parse(cls, text: str | None) -> VersionSpec:
        if text is None or text.strip() in {"", "latest", "*"}:
            return cls(None)
        text = text.strip()
        if _COMMIT.match(text.lower()):
            return cls(text, commit=text.lower())
        if is_alias(text):
            return cls(text, alias=text)
        bare = text.removeprefix(TAG_PREFIX)
        if bare[:1].isdigit():
            bare = f"=={bare}"
        try:
            return cls(text, specifier=SpecifierSet(bare))
        except InvalidSpecifier:
            raise InvalidVersionError(f"Version spec {text!r} is not valid: write a version (1.2.0), a range "
                                      "(>=1.0,<2 or ~=1.2), an alias (production) or a commit sha (at least 7 hex "
                                      "digits).") from None

    @property
    def exact(self) -> bool:
        """An exact pin (one version or one commit): the only way a yanked version is chosen."""
        if self.commit:
            return True
        specs = list(self.specifier or ())
        return len(specs) == 1 and specs[0].operator in ("==", "===") and "*" not in specs[0].version

    def candidates(self, published: dict[str, str], lifecycle: Lifecycle | None = None, *,
                   repo_id: str = "the learner") -> list[tuple[str, str]]:
        """(version, commit) of every published version the spec may choose, best first.

        `published` maps version -> commit; `lifecycle` (yanks, deletions, aliases) defaults to none.
        """
        lifecycle = lifecycle or Lifecycle()
        live = lifecycle.live(published)
        choosable = live if self.exact else lifecycle.choosable(published)
        if self.alias:
            if self.alias not in lifecycle.aliases:
                named = ", ".join(f"{a} -> {v}" for a, v in sorted(lifecycle.aliases.items())) or "none"
                raise VersionNotFoundError(f"{repo_id} has no alias {self.alias!r} (aliases: {named}).")
            version = lifecycle.aliases[self.alias]
            matches = [version] if version in live else []
        elif self.commit:
            matches = [v for v, commit in live.items() if commit.startswith(self.commit)]
            if len({live[v] for v in matches}) > 1:
                raise InvalidVersionError(f"Commit {self.commit!r} is ambiguous in {repo_id}: it starts the commits of "
                                          f"versions {', '.join(sorted(matches, key=Version))}. Give more digits.")
        else:
            versions = [Version(v) for v in choosable]
            matches = [str(v) for v in (self.specifier.filter(versions) if self.specifier is not None else
                                        sorted((v for v in versions if not v.is_prerelease), reverse=True)
                                        or sorted(versions, reverse=True))]
        if not matches:
            shown = ", ".join(f"{v} (yanked)" if v in lifecycle.yanked else v for v in sorted(live, key=Version))
            raise VersionNotFoundError(f"No published version of {repo_id} matches {self.text or 'latest'!r} "
                                       f"(published: {shown or 'none'}).")
        return [(v, live[v]) for v in sorted(set(matches), key=Version, reverse=True)]

    def pick(self, published: dict[str, str], lifecycle: Lifecycle | None = None, *,
             repo_id: str = "the learner") -> tuple[str, str]:
        """(version, commit) of the newest published version matching (see `candidates`)."""
        return self.candidates(published, lifecycle, repo_id=repo_id)[0]

    def __str__(self) -> str:
        return self.text or "latest"
