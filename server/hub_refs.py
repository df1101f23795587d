"""Tag deletion through the Hub API, and `auth_check` (branches: `hub_branches`).

A tag is deleted with "must still point where it pointed" (one `git update-ref`), so a concurrent writer
never loses a move. Version tags (`v1.2.0`) cannot be deleted: published versions are immutable and lock
files pin them; other tags can.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from registry.versions import looks_like_version_tag

from .context import ServerContext, context, readable, writable
from .errors import HubError, revision_not_found
from .paths import check_ref_name, check_repo_id

router = APIRouter(tags=["Hub-compatible API"])


def _repo(ctx: ServerContext, org: str, name: str) -> str:
    repo_id = check_repo_id(org, name)
    ctx.store.reader.path(repo_id)  # 404 RepoNotFound
    return repo_id


@router.delete("/api/models/{org}/{name}/tag/{tag}")
def delete_tag(org: str, name: str, tag: str, ctx: ServerContext = Depends(writable)) -> dict:
    repo_id = _repo(ctx, org, name)
    current = ctx.store.reader.tag_target(repo_id, tag)
    if current is None:
        raise revision_not_found(repo_id, tag)
    if looks_like_version_tag(tag):
        raise HubError(403, f"{tag} is a published version of {repo_id}: versions are immutable (lock files pin "
                            "them), so its tag cannot be deleted. Delete the repository to withdraw it.",
                       code="Forbidden")
    ctx.store.writer.delete_tag(repo_id, tag, current)
    return {}


@router.get("/api/models/{org}/{name}/auth-check")
def auth_check(org: str, name: str, ctx: ServerContext = Depends(readable)) -> dict:
    """200 when the request may read the repository (private ones need a token: see server.visibility)."""
    _repo(ctx, org, name)
    return {}


@router.get("/api/models/{org}/{name}/auth-check/write")
def auth_check_write(request: Request, org: str, name: str) -> dict:
    """200 when the request's token may write (401 without one, 403 with a read-only one)."""
    ctx = context(request)
    _repo(ctx, org, name)
    ctx.tokens.check(request, write=True)
    return {}
