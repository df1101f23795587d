"""The learnerhub server: browse API, web pages and a Hub-compatible API over one local git store.

Example:
    >>> from server import create_app
    >>> app = create_app("/data/learners", tokens=["secret"])     # uvicorn.run(app) serves it
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import learners  # noqa: F401 (registers the shipped learner kinds, whose cards and facts the pages show)

from .browse.api import catalog_router
from .browse.api import router as browse_router
from .browse.error_pages import install_error_pages
from .browse.pages import router as pages_router
from .browse.pages import templates as page_templates
from .context import ServerContext
from .core.auth import TokenRegistry
from .core.errors import error_response, install_error_handlers
from .core.visibility import PrivateRepositories
from .hub.api import router as hub_router
from .hub.branches import router as branch_router
from .hub.history import router as hub_history_router
from .hub.refs import router as hub_refs_router
from .hub.repo_urls import router as repo_urls_router
from .hub.repos import router as hub_repos_router
from .lifecycle_routes import router as lifecycle_router

DEFAULT_MAX_BODY_BYTES = 256 << 20
#: Where /docs and /redoc load Swagger UI and ReDoc from: the server itself (fastapi-offline ships them), so the
#: API pages work on a machine with no network; under `static`, an organisation name no repository can take.
DOCS_ASSETS_URL = "/static/docs"


def create_app(store_path: str | Path, *, tokens: TokenRegistry | Iterable[str] | None = None,
               private_reads: bool = False, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> FastAPI:
    """A FastAPI app serving the store at `store_path` (created if missing).

    `tokens`: a TokenRegistry, or plain write tokens (held hashed; LEARNERHUB_TOKENS is added to them).
    """
    if not isinstance(tokens, TokenRegistry):
        tokens = TokenRegistry.configure(tokens=list(tokens or []), private_reads=private_reads)
    elif private_reads:
        tokens.private_reads = True
    root = Path(store_path).expanduser()
    app = FastAPIOffline(title="learnerhub", version="0.1.0", static_url=DOCS_ASSETS_URL,
                  description="Browse learners, compare them on leaderboards, and use the store as a Hugging Face "
                              "Hub (HfApi(endpoint=...), HF_ENDPOINT=...).")
    app.state.context = ServerContext.open(root, tokens, max_body_bytes=max_body_bytes)
    install_error_handlers(app)
    install_error_pages(app, page_templates)
    app.include_router(lifecycle_router)   # before the browse API: its routes are longer, not shadowed
    app.include_router(browse_router)
    app.include_router(catalog_router)
    app.include_router(hub_router)
    app.include_router(hub_history_router)
    app.include_router(hub_refs_router)
    app.include_router(hub_repos_router)
    app.include_router(branch_router)
    app.include_router(pages_router)
    app.include_router(repo_urls_router)  # last: `/ORG/NAME` must not shadow any other route
    app.add_middleware(PrivateRepositories, reader=app.state.context.store.reader, tokens=tokens)
    app.add_middleware(BodySizeLimit, max_bytes=max_body_bytes)
    return app


class _TooLarge(Exception):
    pass


class BodySizeLimit:
    """413 for request bodies over `max_bytes`: by Content-Length up front, else by counting as they stream."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            return await self._refuse(scope, receive, send)
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise _TooLarge()
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _TooLarge:
            if started:
                raise
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(413, f"Request body too large: this server accepts at most {self.max_bytes} "
                                       "bytes (learnerhub serve --max-body-mb).", code="PayloadTooLarge")
        await response(scope, receive, send)
