"""The browse API (JSON, documented at /docs): find learners, read one, compare them on a leaderboard.

Heavy answers carry an ETag derived from the store's listing signature (or the commit they describe),
so a client polling with If-None-Match gets 304 without the server building the answer again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.concurrency import run_in_threadpool

from registry.constants import CARD_FILE
from cards.format.naming import canonical_base_model

from ..context import ServerContext, readable
from ..core.errors import HubError, repo_not_found
from ..core.paths import check_repo_id
from ..core.visibility import private_access
from ..lifecycle_routes import shown_lifecycle
from .catalog import ListQuery

router = APIRouter(prefix="/api/learners", tags=["Browse API"])
catalog_router = APIRouter(prefix="/api", tags=["Browse API"])


def conditional(request: Request, tag_source: str, build: Callable[[], Any]) -> Response:
    """`build()` as JSON with an ETag; 304 (nothing built) when the client already holds that version."""
    etag = _etag(tag_source)
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if _client_holds(request, etag):
        return Response(status_code=304, headers=headers)
    return JSONResponse(build(), headers=headers)


def _etag(source: str) -> str:
    return f'"{hashlib.sha1(source.encode()).hexdigest()}"'


def _client_holds(request: Request, etag: str) -> bool:
    return etag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]


@router.get("", summary="List learners: search, filter, sort, page")
async def list_learners(request: Request,
                  search: str | None = Query(None, description="Words that must all appear in the repository id, "
                                                                "corpus, base model or kind"),
                  corpus: str | None = Query(None, description="Corpus name or dataset id (`*` wildcards)"),
                  base_model: str | None = Query(None, description="Base model id (or `smollm2`)"),
                  kind: str | None = None, org: str | None = None,
                  works_with: str | None = Query(None, description="A base model id (or `smollm2`): learners built "
                                                                   "on it and those for any base model; each item's "
                                                                   "`works_with` says which, and whether measured"),
                  sort: str = Query("effect", description="`effect` (the headline evaluation: significantly "
                                                          "better first, then by the perplexity ratio igf / standard, "
                                                          "lower first, ties by CI width; learners without an "
                                                          "evaluation last), `name`, `date`, or a metric name such "
                                                          "as `test_spearman`"),
                  order: Literal["asc", "desc"] | None = Query(None, description="Default: best or newest first"),
                  page: int = Query(1, ge=1), per_page: int = Query(20, ge=1, le=200),
                  ctx: ServerContext = Depends(readable)) -> Response:
    query = ListQuery(search=search, corpus=corpus, base_model=canonical_base_model(base_model) if base_model else None,
                      kind=kind, org=org, works_with=works_with or None, sort=sort, order=order, page=page,
                      per_page=per_page,
                      show_private=private_access(ctx.tokens, request))
    signature = ctx.store.index.signature()
    etag = _etag(f"{signature}?{query}")
    if _client_holds(request, etag):
        return Response(status_code=304, headers={"ETag": etag, "Cache-Control": "no-cache"})
    body = ctx.catalog.cached_page(query, signature)
    if body is None:  # first time at this store state: facts may need git reads, off the event loop
        body = await run_in_threadpool(ctx.catalog.page_json, query, signature)
    return Response(body, media_type="application/json", headers={"ETag": etag, "Cache-Control": "no-cache"})


@router.get("/{org}/{name}", summary="One learner: metadata, metrics, versions and files")
def get_learner(request: Request, org: str, name: str, version: str | None = None,
                ctx: ServerContext = Depends(readable)) -> Response:
    repo_id = check_repo_id(org, name)
    summary = ctx.catalog.summary(repo_id)
    if summary is None:
        raise repo_not_found(repo_id)
    wanted = version or summary.latest
    facts = ctx.catalog.facts(repo_id, wanted) if wanted in summary.versions.split() else None
    if facts is None:
        raise HubError(404, f"{repo_id} has no version {wanted!r} (published: {summary.versions}).",
                       code="RevisionNotFound")

    lifecycle, lifecycle_warning = shown_lifecycle(ctx, repo_id)

    def build() -> dict[str, Any]:
        return {**ctx.catalog.describe(summary), "version": facts.version, "commit": facts.commit,
                "learner": facts.learner, "metrics": facts.metrics,
                "yanked": lifecycle.yanked.get(facts.version), "aliases": lifecycle.aliases,
                "lifecycle_warning": lifecycle_warning,
                "versions": [{"version": v.version, "commit": v.commit, "created_at": v.created_at,
                              "metrics": v.metrics, "yanked": lifecycle.yanked.get(v.version)}
                             for v in ctx.catalog.versions(repo_id)],
                "files": ctx.catalog.files(repo_id, facts.commit),
                "card_url": f"/api/learners/{repo_id}/card?version={facts.version}",
                "download_url": f"/{repo_id}/resolve/{facts.commit}/"}

    return conditional(request, f"{ctx.catalog.snapshot()[0]}|{repo_id}|{facts.commit}", build)


@router.get("/{org}/{name}/card", summary="A version's model card (markdown)", response_class=PlainTextResponse)
def get_card(org: str, name: str, version: str | None = None, ctx: ServerContext = Depends(readable)) -> Response:
    repo_id = check_repo_id(org, name)
    summary = ctx.catalog.summary(repo_id)
    wanted = version or (summary.latest if summary else None)
    facts = ctx.catalog.facts(repo_id, wanted) if summary and wanted in summary.versions.split() else None
    if facts is None:
        raise repo_not_found(repo_id) if summary is None else HubError(
            404, f"{repo_id} has no version {version!r}.", code="RevisionNotFound")
    text = ctx.store.reader.read_text(repo_id, facts.commit, CARD_FILE) or ""
    yanked = shown_lifecycle(ctx, repo_id)[0].yanked
    if facts.version in yanked:   # the published README is immutable: the notice goes above it
        reason = yanked[facts.version] or "no reason given"
        text = (f"> **Yanked**: version {facts.version} of {repo_id} is yanked: {reason}. Ranges and latest skip "
                f"it; only an exact pin gets it.\n\n{text}")
    return PlainTextResponse(text, media_type="text/markdown; charset=utf-8",
                             headers={"ETag": f'"{facts.commit}"', "X-Repo-Commit": facts.commit})


@catalog_router.get("/corpora", summary="The corpora present, with their number of learners")
def corpora(request: Request, ctx: ServerContext = Depends(readable)) -> list[dict[str, Any]]:
    return ctx.catalog.counts("corpus", show_private=private_access(ctx.tokens, request))


@catalog_router.get("/base-models", summary="The base models present, with their number of learners")
def base_models(request: Request, ctx: ServerContext = Depends(readable)) -> list[dict[str, Any]]:
    return ctx.catalog.counts("base_model", show_private=private_access(ctx.tokens, request))


@catalog_router.get("/leaderboard", summary="Benchmark scores of every learner and version for (corpus, base model)")
def leaderboard(request: Request, corpus: str, base_model: str,
                metric: str | None = Query(None, description="Default: the headline evaluation (`rows`, "
                                                             "significantly better first; IGF / standard test "
                                                             "perplexity below 1 means the learner helps); "
                                                             "unevaluated versions come apart in `unevaluated`"),
                ctx: ServerContext = Depends(readable)) -> Response:
    base = canonical_base_model(base_model)
    show_private = private_access(ctx.tokens, request)
    return conditional(request, f"{ctx.catalog.snapshot()[0]}|{corpus}|{base}|{metric}|{show_private}",
                       lambda: ctx.catalog.leaderboard(corpus, base, metric=metric, show_private=show_private))
