"""Content writes through the Hub protocol: preupload, NDJSON commits and tags.

Preupload answers "regular" for every file, so content comes inline as base64 in the commit (no LFS or
Xet storage); the commit itself is applied by the store's writer (`registry.local.repository_writer`), whole
or not at all.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from registry.version_gate import check_new_tag

from ..context import ServerContext, existing_repo, writable
from ..core.errors import unprocessable
from ..core.paths import check_file_path, check_ref_name
from ..core.payloads import (LISTING_BODY_BYTES, CommitLine, PreuploadPayload, TagPayload, openapi_body,
                             parse_commit, read_body, read_payload)
from ..lifecycle_routes import check_lifecycle_commit, requester, settle

router = APIRouter(tags=["Hub-compatible API"])


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


@router.post("/api/models/{org}/{name}/preupload/{revision}", openapi_extra=openapi_body(PreuploadPayload))
async def preupload(request: Request, org: str, name: str, revision: str, create_pr: str | None = None,
                    ctx: ServerContext = Depends(writable)):
    """Every file is uploaded "regular" (inline in the commit); `oid` lets the client skip unchanged files."""
    repo_id = existing_repo(ctx, org, name)
    _refuse_pull_requests(create_pr)
    payload = await read_payload(request, PreuploadPayload, limit=LISTING_BODY_BYTES)
    paths = [check_file_path(file.path) for file in payload.files]
    commit = ctx.store.reader.branch_head(repo_id, revision)
    tree = await run_in_threadpool(ctx.store.reader.tree, repo_id, commit) if commit else {}
    return {"files": [{"path": path, "uploadMode": "regular", "shouldIgnore": False,
                       "oid": tree[path].sha if path in tree else None} for path in paths]}


@router.post("/api/models/{org}/{name}/commit/{revision}",
             openapi_extra=openapi_body(CommitLine, media_type="application/x-ndjson"))
async def commit(request: Request, org: str, name: str, revision: str, create_pr: str | None = None,
                 ctx: ServerContext = Depends(writable)):
    """Apply an NDJSON commit (header, file, deletedFile, deletedFolder lines) atomically to a branch."""
    repo_id = existing_repo(ctx, org, name)
    _refuse_pull_requests(create_pr)
    branch = check_ref_name(revision, what="branch")
    parsed = parse_commit(await read_body(request, ctx.max_body_bytes))
    await run_in_threadpool(lambda: check_lifecycle_commit(ctx, repo_id, branch, parsed, by=requester(request)))
    sha = await run_in_threadpool(ctx.store.writer.commit, repo_id, branch, parsed)
    await run_in_threadpool(settle, ctx, repo_id, branch)
    return {"commitUrl": f"{base_url(request)}/{repo_id}/commit/{sha}", "commitOid": sha, "success": True,
            "pullRequestUrl": None}


@router.post("/api/models/{org}/{name}/tag/{revision}", openapi_extra=openapi_body(TagPayload))
async def create_tag(request: Request, org: str, name: str, revision: str, ctx: ServerContext = Depends(writable)):
    repo_id = existing_repo(ctx, org, name)
    tag = check_ref_name((await read_payload(request, TagPayload)).tag)
    target = await run_in_threadpool(ctx.store.reader.resolve, repo_id, revision)
    await run_in_threadpool(check_new_tag, ctx.store, repo_id, tag, target)   # registry errors: server.core.errors
    await run_in_threadpool(ctx.store.writer.create_tag, repo_id, tag, target)
    return {}


def _refuse_pull_requests(create_pr: str | None) -> None:
    if create_pr not in (None, "", "0", "false"):
        raise unprocessable("This server has no pull requests: commit to a branch instead.")
