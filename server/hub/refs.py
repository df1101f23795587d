"""Tag deletion through the Hub API, and `auth_check` (branches: `branches`).

A tag is deleted with "must still point where it pointed" (one `git update-ref`), so a concurrent writer
never loses a move. Version tags (`v1.2.0`) are deleted only once the lifecycle log records the deletion
(`learnerhub delete`, see server.lifecycle_routes); other tags can be deleted freely.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from registry.versions import looks_like_version_tag

from ..context import ServerContext, context, existing_repo, readable, writable
from ..core.errors import revision_not_found
from ..lifecycle_routes import check_version_tag_deletion, settle

router = APIRouter(tags=["Hub-compatible API"])


@router.delete("/api/models/{org}/{name}/tag/{tag}")
def delete_tag(org: str, name: str, tag: str, ctx: ServerContext = Depends(writable)) -> dict:
    repo_id = existing_repo(ctx, org, name)
    current = ctx.store.reader.tag_target(repo_id, tag)
    if current is None:
        raise revision_not_found(repo_id, tag)
    if looks_like_version_tag(tag):
        check_version_tag_deletion(ctx, repo_id, tag)   # 403 unless the lifecycle log records the deletion
    ctx.store.writer.delete_tag(repo_id, tag, current)
    settle(ctx, repo_id)
    return {}


@router.get("/api/models/{org}/{name}/auth-check")
def auth_check(org: str, name: str, ctx: ServerContext = Depends(readable)) -> dict:
    """200 when the request may read the repository (private ones need a token: see server.core.visibility)."""
    existing_repo(ctx, org, name)
    return {}


@router.get("/api/models/{org}/{name}/auth-check/write")
def auth_check_write(request: Request, org: str, name: str) -> dict:
    """200 when the request's token may write (401 without one, 403 with a read-only one)."""
    ctx = context(request)
    existing_repo(ctx, org, name)
    ctx.tokens.check(request, write=True)
    return {}
