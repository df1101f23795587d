"""Branches through the Hub API (`HfApi.create_branch` / `delete_branch`).

Publishers through an endpoint commit a version on a short-lived branch, tag it, and delete the
branch (`registry.publish_protocol`): so publishing an older version never moves `main`.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from registry.lifecycle import LIFECYCLE_BRANCH
from registry.versions import looks_like_version_tag

from ..context import ServerContext, existing_repo, writable
from ..core.errors import HubError
from ..core.paths import check_ref_name
from ..core.payloads import BranchPayload, openapi_body, read_payload
from ..lifecycle_routes import check_lifecycle_branch_start

router = APIRouter(tags=["Hub-compatible API"])


@router.post("/api/models/{org}/{name}/branch/{branch}", openapi_extra=openapi_body(BranchPayload))
async def create_branch(request: Request, org: str, name: str, branch: str, ctx: ServerContext = Depends(writable)):
    """A branch at `startingPoint` (a branch, tag or commit; default main)."""
    repo_id = existing_repo(ctx, org, name)
    branch = check_ref_name(branch, what="branch")
    if looks_like_version_tag(branch):   # a branch v1.0.0 would shadow the tag when a revision is resolved
        raise HubError(422, f"Branch {branch!r} would look like a version tag: version names are for tags only.",
                       code="InvalidRequest")
    start = (await read_payload(request, BranchPayload)).startingPoint or "main"
    if ctx.store.reader.ref_target(repo_id, start) is None and start == "main":
        raise HubError(409, f"{repo_id} has no commit yet: commit to main first.", code="Conflict")
    commit = await run_in_threadpool(ctx.store.reader.resolve, repo_id, start)
    await run_in_threadpool(check_lifecycle_branch_start, ctx, repo_id, branch, commit)
    await run_in_threadpool(ctx.store.writer.create_branch, repo_id, branch, commit)
    return {}


@router.delete("/api/models/{org}/{name}/branch/{branch}")
async def delete_branch(org: str, name: str, branch: str, ctx: ServerContext = Depends(writable)):
    repo_id = existing_repo(ctx, org, name)
    branch = check_ref_name(branch, what="branch")
    if branch == LIFECYCLE_BRANCH:
        raise HubError(403, f"The {LIFECYCLE_BRANCH} branch of {repo_id} is its audit log of yanks, deletions and "
                            "aliases: it cannot be deleted.", code="Forbidden")
    await run_in_threadpool(ctx.store.writer.delete_branch, repo_id, branch)
    return {}
