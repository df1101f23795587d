"""Bearer tokens: writes always need one, reads only when the server is started with private reads.

Tokens are held as sha256 hashes only (a leaked process dump or tokens file reveals no token) and
compared in constant time. Sources: `LEARNERHUB_TOKENS` (comma-separated write tokens),
`LEARNERHUB_READ_TOKENS` (read-only tokens, useful with private reads), `LEARNERHUB_ORG_TOKENS`
(write tokens scoped to organisations: `acme=TOKEN1,TOKEN2;beta=TOKEN3`), and `--tokens-file` (one
sha256 hex digest a line, optionally followed by `read` or `write` and then the organisations the token
is limited to; `#` starts a comment). A token limited to organisations writes, and reads private
repositories, of those organisations only; a token without a list covers every organisation.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import Request

from .errors import INVALID_CREDENTIALS, HubError

WRITE_TOKENS_ENV = "LEARNERHUB_TOKENS"
READ_TOKENS_ENV = "LEARNERHUB_READ_TOKENS"
ORG_TOKENS_ENV = "LEARNERHUB_ORG_TOKENS"
SCOPES = ("read", "write")
#: What a token without an organisation list covers.
EVERY_ORG: frozenset[str] = frozenset({"*"})


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class TokenRegistry:
    """sha256(token) -> scope ("read" or "write") and the organisations it covers; `private_reads` makes
    reads need a token too."""

    hashes: dict[str, str] = field(default_factory=dict)
    private_reads: bool = False
    organisations: dict[str, frozenset[str]] = field(default_factory=dict)   # absent: every organisation

    @classmethod
    def configure(cls, *, tokens: list[str] | None = None, read_tokens: list[str] | None = None,
                  tokens_file: str | Path | None = None, private_reads: bool = False,
                  org_tokens: dict[str, list[str]] | None = None,
                  environ: dict[str, str] | None = None) -> TokenRegistry:
        """Tokens given here, plus those of the environment, plus the hashes of `tokens_file`.

        `org_tokens`: organisation -> write tokens limited to it (a token may be listed under several).
        """
        environ = os.environ if environ is None else environ
        registry = cls(private_reads=private_reads)
        for token in [*(tokens or []), *_split(environ.get(WRITE_TOKENS_ENV, ""))]:
            registry.hashes[hash_token(token)] = "write"
        for token in [*(read_tokens or []), *_split(environ.get(READ_TOKENS_ENV, ""))]:
            registry.hashes.setdefault(hash_token(token), "read")
        scoped: dict[str, set[str]] = {}
        for org, listed in [*(org_tokens or {}).items(), *parse_org_tokens(environ.get(ORG_TOKENS_ENV, "")).items()]:
            for token in listed:
                scoped.setdefault(hash_token(token), set()).add(org)
        for digest, orgs in scoped.items():
            registry.hashes[digest] = "write"
            registry.organisations[digest] = frozenset(orgs)
        if tokens_file is not None:
            for digest, (scope, orgs) in read_tokens_file(Path(tokens_file)).items():
                registry.hashes[digest] = scope
                if orgs:
                    registry.organisations[digest] = orgs
        return registry

    def scope_of(self, token: str) -> str | None:
        """The token's scope, comparing its hash with every known hash in constant time."""
        digest = hash_token(token)
        found = None
        for known, scope in self.hashes.items():
            if hmac.compare_digest(known, digest):
                found = scope
        return found

    def organisations_of(self, token: str | None) -> frozenset[str]:
        """The organisations a token covers: none for no or an unknown token, EVERY_ORG for an unlimited one."""
        if token is None or self.scope_of(token) is None:
            return frozenset()
        return self.organisations.get(hash_token(token), EVERY_ORG)

    def covers(self, token: str | None, org: str) -> bool:
        """Whether a valid `token` covers organisation `org` (exactly: the store's names are case-sensitive, so
        `ACME` is another organisation than `acme`)."""
        orgs = self.organisations_of(token)
        return orgs == EVERY_ORG or org in orgs

    def check(self, request: Request, *, write: bool, org: str | None = None) -> str | None:
        """Raise 401/403 unless the request may read (or, with `write`, write, in organisation `org` when
        given); return the token's scope."""
        token = bearer_token(request)
        if token is None:
            if write:
                raise HubError(401, "This endpoint writes: send `Authorization: Bearer <token>` (HF_TOKEN, or "
                                    "token=... in huggingface_hub).", code="Unauthorized")
            if self.private_reads:
                raise HubError(401, "This server's reads are private: send `Authorization: Bearer <token>`.",
                               code="Unauthorized")
            return None
        scope = self.scope_of(token)
        if scope is None:
            raise HubError(401, INVALID_CREDENTIALS, code="Unauthorized")
        if write and scope != "write":
            raise HubError(403, "Your token is read-only: writing needs a token from LEARNERHUB_TOKENS or a "
                                "`write` line of the tokens file.", code="Forbidden")
        if write and org is not None and not self.covers(token, org):
            allowed = ", ".join(sorted(self.organisations_of(token)))
            raise HubError(403, f"Your token may write to the organisation(s) {allowed} only, not {org}.",
                           code="Forbidden")
        return scope


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def read_tokens_file(path: Path) -> dict[str, tuple[str, frozenset[str]]]:
    """digest -> (scope, organisations) of a tokens file; refuses anything that is not a sha256 hex digest
    (no plain tokens on disk). Line: `DIGEST [read|write [ORG ...]]`."""
    hashes = {}
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        digest, scope = words[0].lower(), (words[1] if len(words) > 1 else "write")
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest) or scope not in SCOPES:
            raise ValueError(f"{path}:{number}: expected a sha256 hex digest optionally followed by read|write and "
                             "organisations (make a digest with: printf %s TOKEN | sha256sum).")
        hashes[digest] = (scope, frozenset(words[2:]))
    return hashes


def parse_org_tokens(text: str) -> dict[str, list[str]]:
    """`acme=TOKEN1,TOKEN2;beta=TOKEN3` -> {"acme": [TOKEN1, TOKEN2], "beta": [TOKEN3]}."""
    found: dict[str, list[str]] = {}
    for part in text.split(";"):
        org, _, tokens = part.partition("=")
        if org.strip() and tokens.strip():
            found.setdefault(org.strip(), []).extend(_split(tokens))
        elif part.strip():
            raise ValueError(f"{ORG_TOKENS_ENV}: expected ORG=TOKEN[,TOKEN...] parts separated by ';', got {part!r}.")
    return found


def _split(text: str) -> list[str]:
    return [token.strip() for token in text.split(",") if token.strip()]
