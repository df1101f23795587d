"""Repository management through the Hub API: delete, move, settings (visibility), and the owner's list.

The store's writer does the work (`RepositoryWriter.delete_repository`, `move_repository`: atomic
renames; a repository holding published learner versions is not moved, since each version's manifest
names its repository). Visibility is the store's private marker (see `server.core.visibility`); gated
access has no counterpart here and is refused.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Request

from ..context import ServerContext, context, existing_repo, writable
from ..core.errors import HubError, unprocessable
from ..core.paths import check_repo_id
from ..core.visibility import private_access, visible_to

router = APIRouter(tags=["Hub-compatible API"])


def _split_id(value: Any, what: str) -> str:
    org, _, name = str(value or "").partition("/")
    if not org or not name:
        raise unprocessable(f"{what} must be ORG/NAME, not {value!r}.")
    return check_repo_id(org, name)


def _models_only(kind: Any) -> None:
    if kind not in (None, "model"):
        raise unprocessable(f"This server holds model repositories only, not {kind!r}.")


def _forget(ctx: ServerContext, *repo_ids: str) -> None:
    """Tell the catalog that these repositories changed shape (the writer told the listing index)."""
    for repo_id in repo_ids:
        ctx.catalog.forget(repo_id)


@router.delete("/api/repos/delete")
def delete_repo(request: Request, payload: dict = Body(...), ctx: ServerContext = Depends(writable)) -> dict:
    _models_only(payload.get("type"))
    if not payload.get("organization"):
        raise unprocessable("Name the repository's organization: delete_repo('ORG/NAME').")
    repo_id = check_repo_id(str(payload["organization"]), str(payload.get("name") or ""))
    ctx.tokens.check(request, write=True, org=repo_id.split("/")[0])
    try:
        ctx.store.writer.delete_repository(repo_id)
    finally:
        _forget(ctx, repo_id)
    return {}


@router.post("/api/repos/move")
def move_repo(request: Request, payload: dict = Body(...), ctx: ServerContext = Depends(writable)) -> dict:
    _models_only(payload.get("type"))
    source_id, target_id = _split_id(payload.get("fromRepo"), "fromRepo"), _split_id(payload.get("toRepo"), "toRepo")
    for repo_id in (source_id, target_id):
        ctx.tokens.check(request, write=True, org=repo_id.split("/")[0])
    try:
        ctx.store.writer.move_repository(source_id, target_id)
    finally:
        _forget(ctx, source_id, target_id)
    return {}


@router.put("/api/models/{org}/{name}/settings")
def update_settings(org: str, name: str, payload: dict = Body(...), ctx: ServerContext = Depends(writable)) -> dict:
    """Visibility (`private` or `public`); gated access is not supported and is refused, not ignored."""
    repo_id = existing_repo(ctx, org, name)
    if payload.get("gated") not in (None, False, "false"):
        raise unprocessable("This server has no gated access: a repository is public or private.")
    visibility = payload.get("visibility")
    if visibility is None and payload.get("private") is not None:
        visibility = "private" if payload["private"] else "public"
    if visibility not in (None, "public", "private"):
        raise unprocessable(f"Visibility {visibility!r} is not supported: use 'public' or 'private'.")
    if visibility is not None:
        ctx.store.writer.set_private(repo_id, visibility == "private")
        _forget(ctx, repo_id)
    return {}


def repository_row(ctx: ServerContext, repo_id: str) -> dict[str, Any]:
    """What `list_user_repos` (`hf repos ls`) reads for one repository."""
    reader = ctx.store.reader
    return {"id": repo_id, "type": "model", "updatedAt": reader.modified(repo_id),
            "visibility": "private" if reader.is_private(repo_id) else "public",
            "storage": reader.storage(repo_id), "storagePercent": 0}


@router.get("/api/settings/repositories")
@router.get("/api/organizations/{org}/settings/repositories")
def list_user_repos(request: Request, org: str | None = None) -> list[dict[str, Any]]:
    """Every repository (of `org`) the token may see: it needs one (a token limited to organisations sees
    their private repositories, and the public ones)."""
    ctx = context(request)
    ctx.tokens.check(request, write=False)
    if not private_access(ctx.tokens, request):
        raise HubError(401, "Listing your repositories needs a token: send `Authorization: Bearer <token>`.",
                       code="Unauthorized")
    ids = ctx.store.reader.repository_ids(org)
    return [repository_row(ctx, repo_id) for repo_id in visible_to(request, ctx.tokens, ctx.store.reader, ids)]
