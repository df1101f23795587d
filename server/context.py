"""The objects every route shares (the store, its catalog, the tokens), held on `app.state`.

Routes reach the repositories only through the store's API: `ctx.store.reader` and `ctx.store.writer`
(`registry.local.repository_reader` / `registry.local.repository_writer`); where things lie on disk is registry's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fastapi import Request

from registry.local.store import LocalStore

from .browse.catalog import Catalog
from .browse.version_facts import FACTS_CACHE_FILE
from .core.auth import TokenRegistry
from .core.paths import check_repo_id


@dataclass
class ServerContext:
    store: LocalStore
    catalog: Catalog
    tokens: TokenRegistry
    max_body_bytes: int

    @classmethod
    def open(cls, root: Path, tokens: TokenRegistry, *, max_body_bytes: int) -> ServerContext:
        store = LocalStore(root)
        store.layout.create()
        catalog = Catalog(store, facts_cache=store.layout.state_file(FACTS_CACHE_FILE))
        return cls(store, catalog, tokens, max_body_bytes)


def existing_repo(ctx: ServerContext, org: str, name: str) -> str:
    """`org/name`, validated, of a repository the store has (else RepositoryNotFoundError: 404 RepoNotFound)."""
    repo_id = check_repo_id(org, name)
    ctx.store.reader.path(repo_id)
    return repo_id


def context(request: Request) -> ServerContext:
    return request.app.state.context


async def readable(request: Request) -> ServerContext:
    """Dependency of read routes: the context, once the token check for reads passed."""
    ctx = context(request)
    ctx.tokens.check(request, write=False)
    return ctx


async def writable(request: Request) -> ServerContext:
    """Dependency of write routes: the context, once a write token for the route's organisation (its `{org}`
    path parameter; routes naming the repository in their body check it themselves) was presented."""
    ctx = context(request)
    ctx.tokens.check(request, write=True, org=request.path_params.get("org"))
    return ctx
