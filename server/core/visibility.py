"""Private repositories: invisible and unreadable without a token of this server.

A repository is private when the store says so (`RepositoryReader.is_private`: a marker file in its bare
git folder, see `registry.local.layout`). Every route that names one repository (`/api/models/ORG/NAME...`,
`/api/learners/ORG/NAME...`, `/learners/ORG/NAME`, `/ORG/NAME/...`) is guarded here, in one place, by
`PrivateRepositories`: without a valid token it answers 404 RepoNotFound, as the Hub answers for a
private repository it does not show you. Listings drop private repositories for such requests.

A token limited to organisations (server.core.auth) reads the private repositories of those organisations
only; to any other it is as if it had no token (404). An unlimited token reads every private repository.
"""

from __future__ import annotations

import re

from fastapi import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from registry.local.repository_reader import RepositoryReader

from .auth import EVERY_ORG, TokenRegistry, bearer_token
from .errors import error_response

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")
_NOT_REPOSITORIES = {"api", "learners", "leaderboard", "docs", "redoc", "static", "openapi.json"}


def has_valid_token(tokens: TokenRegistry, request: Request | Scope) -> bool:
    """Whether the request carries a token of this server (read or write)."""
    token = bearer_token(request if isinstance(request, Request) else Request(request))
    return token is not None and tokens.scope_of(token) is not None


def private_access(tokens: TokenRegistry, request: Request | Scope) -> bool | frozenset[str]:
    """Which private repositories the request may see: all (True), none (False), or those of the returned
    organisations (exact names), for a token limited to them."""
    token = bearer_token(request if isinstance(request, Request) else Request(request))
    orgs = tokens.organisations_of(token)
    if orgs == EVERY_ORG:
        return True
    return orgs or False


def may_see(access: bool | frozenset[str], repo_id: str) -> bool:
    """Whether a request with `access` (see `private_access`) may see the private repository `repo_id`."""
    return access is True or (bool(access) and repo_id.split("/")[0] in access)


def named_repository(path: str) -> str | None:
    """The repository id a request path names, if any (`/api/models/a/b/tree/main` -> `a/b`)."""
    parts = path.strip("/").split("/")
    if parts[:2] in (["api", "models"], ["api", "learners"]):
        parts = parts[2:]
    elif parts[:1] == ["learners"]:
        parts = parts[1:]
    elif parts[:1] and parts[0] in _NOT_REPOSITORIES:
        return None
    if len(parts) < 2 or not (_NAME.match(parts[0]) and _NAME.match(parts[1])) or ".." in parts[0] + parts[1]:
        return None
    return f"{parts[0]}/{parts[1]}"


class PrivateRepositories:
    """ASGI middleware: a request naming a private repository needs a token, else 404 RepoNotFound."""

    def __init__(self, app: ASGIApp, *, reader: RepositoryReader, tokens: TokenRegistry) -> None:
        self.app = app
        self.reader = reader
        self.tokens = tokens

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            repo_id = named_repository(scope.get("path", ""))
            if (repo_id is not None and self.reader.is_private(repo_id)
                    and not may_see(private_access(self.tokens, scope), repo_id)):
                response = error_response(404, f"Repository {repo_id} not found. Check the name, or send a token "
                                               "if it is private.", code="RepoNotFound")
                return await response(scope, receive, send)
        await self.app(scope, receive, send)


def visible_to(request: Request, tokens: TokenRegistry, reader: RepositoryReader, repo_ids) -> list[str]:
    """`repo_ids` less the private ones the request's token does not cover."""
    access = private_access(tokens, request)
    if access is True:
        return list(repo_ids)
    hidden = reader.private_repositories()
    return [repo_id for repo_id in repo_ids if repo_id not in hidden or may_see(access, repo_id)]

