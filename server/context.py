"""The objects every route shares (one store, its readers and writers, the tokens), held on `app.state`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fastapi import Request

from registry.local_store import LocalStore

from .auth import TokenRegistry
from .catalog import FACTS_CACHE_FILE, Catalog
from .commits import RepositoryWriter
from .git_reader import RepositoryReader


@dataclass
class ServerContext:
    store: LocalStore
    reader: RepositoryReader
    writer: RepositoryWriter
    catalog: Catalog
    tokens: TokenRegistry
    max_body_bytes: int

    @classmethod
    def open(cls, root: Path, tokens: TokenRegistry, *, max_body_bytes: int) -> "ServerContext":
        store = LocalStore(root)
        reader = RepositoryReader(store.models)
        catalog = Catalog(store, reader, facts_cache=store.index.state / FACTS_CACHE_FILE)
        return cls(store, reader, RepositoryWriter(store.root, reader, store.index), catalog, tokens, max_body_bytes)


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
