"""Semantic versions (tags `v1.0.0`) and the specs that pick one: `1.2.0`, `>=1.0,<2`, `~=1.2`, a sha.

A spec picks the newest published version it matches; a hex string of 7 to 64 digits (a full sha, or
the 12-character one learnerhub prints) names a version's commit instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from .constants import TAG_PREFIX
from .errors import InvalidVersionError, VersionNotFoundError

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

    @classmethod
    def parse(cls, text: str | None) -> "VersionSpec":
        if text is None or text.strip() in {"", "latest", "*"}:
            return cls(None)
        text = text.strip()
        if _COMMIT.match(text.lower()):
            return cls(text, commit=text.lower())
        bare = text.removeprefix(TAG_PREFIX)
        if bare[:1].isdigit():
            bare = f"=={bare}"
        try:
            return cls(text, specifier=SpecifierSet(bare))
        except InvalidSpecifier:
            raise InvalidVersionError(f"Version spec {text!r} is not valid: write a version (1.2.0), a range "
                                      "(>=1.0,<2 or ~=1.2) or a commit sha (at least 7 hex digits).") from None

    def pick(self, published: dict[str, str], *, repo_id: str = "the learner") -> tuple[str, str]:
        """(version, commit) of the newest published version matching; `published` maps version -> commit."""
        if self.commit:
            matches = [v for v, commit in published.items() if commit.startswith(self.commit)]
            if len({published[v] for v in matches}) > 1:
                raise InvalidVersionError(f"Commit {self.commit!r} is ambiguous in {repo_id}: it starts the commits of "
                                          f"versions {', '.join(sorted(matches, key=Version))}. Give more digits.")
        else:
            versions = [Version(v) for v in published]
            allowed = (self.specifier.filter(versions) if self.specifier is not None
                       else [latest_of(versions)] if versions else [])
            matches = [str(v) for v in allowed]
        if not matches:
            shown = ", ".join(sorted(published, key=Version)) or "none"
            raise VersionNotFoundError(f"No published version of {repo_id} matches {self.text!r} "
                                       f"(published: {shown}).")
        best = max(matches, key=Version)
        return best, published[best]

    def __str__(self) -> str:
        return self.text or "latest"
