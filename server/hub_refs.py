"""Branches and tag deletion through the Hub API, and `auth_check`.

Branches are created with "must not exist" and deleted with "must still point where it pointed" (one
`git update-ref` each), so concurrent writers never lose a move. `main` cannot be deleted, and no
branch may be named like a version tag (a branch `v1.0.0` would shadow the tag when a revision is
resolved). Version tags (`v1.2.0`) cannot be deleted: published versions are immutable and lock files
pin them; other tags can.
"""

from __future__ import annotations

from fastapi import APIRouter, Body, Depends, Request

from registry.constants import MAIN_BRANCH
from registry.git import GitCommandError, git, read_refs
from registry.versions import looks_like_version_tag

from .context import ServerContext, context, readable, writable
from .errors import HubError, revision_not_found
from .paths import check_ref_name, check_repo_id

router = APIRouter(tags=["Hub-compatible API"])


def _repo(ctx: ServerContext, org: str, name: str) -> str:
    repo_id = check_repo_id(org, name)
    ctx.reader.path(repo_id)  # 404 RepoNotFound
    return repo_id


def _update_ref(ctx: ServerContext, repo_id: str, instruction: str) -> bool:
    """One atomic `git update-ref --stdin` line, announced to the listing index; False if it lost a race."""
    marker = ctx.store.index.begin_change(repo_id)
    try:
        git(ctx.reader.path(repo_id), "update-ref", "--stdin", input=f"{instruction}\n".encode())
        return True
    except GitCommandError:
        return False
    finally:
        ctx.store.index.end_change(marker)


@router.post("/api/models/{org}/{name}/branch/{branch}")
def create_branch(org: str, name: str, branch: str, payload: dict | None = Body(default=None),
                  ctx: ServerContext = Depends(writable)) -> dict:
    """A new branch at `startingPoint` (default: main's head); 409 if it exists, as the Hub answers."""
    repo_id = _repo(ctx, org, name)
    check_ref_name(branch, what="branch")
    if looks_like_version_tag(branch):
        raise HubError(422, f"Branch {branch!r} would look like a version tag: version names are for tags only.",
                       code="InvalidRequest")
    if f"refs/heads/{branch}" in read_refs(ctx.reader.path(repo_id), "refs/heads/"):
        raise HubError(409, f"Branch {branch} already exists in {repo_id}.", code="Conflict")
    start = str((payload or {}).get("startingPoint") or MAIN_BRANCH)
    commit = ctx.reader.resolve(repo_id, start)
    if not _update_ref(ctx, repo_id, f"create refs/heads/{branch} {commit}"):
        raise HubError(409, f"Branch {branch} already exists in {repo_id}.", code="Conflict")
    return {}


@router.delete("/api/models/{org}/{name}/branch/{branch}")
def delete_branch(org: str, name: str, branch: str, ctx: ServerContext = Depends(writable)) -> dict:
    repo_id = _repo(ctx, org, name)
    if branch == MAIN_BRANCH:
        raise HubError(403, f"{MAIN_BRANCH} is the default branch: it cannot be deleted.", code="Forbidden")
    current = read_refs(ctx.reader.path(repo_id), "refs/heads/").get(f"refs/heads/{branch}")
    if current is None:
        raise revision_not_found(repo_id, branch)
    if not _update_ref(ctx, repo_id, f"delete refs/heads/{branch} {current}"):
        raise HubError(409, f"Branch {branch} moved while it was being deleted; retry.", code="Conflict")
    return {}


@router.delete("/api/models/{org}/{name}/tag/{tag}")
def delete_tag(org: str, name: str, tag: str, ctx: ServerContext = Depends(writable)) -> dict:
    repo_id = _repo(ctx, org, name)
    current = read_refs(ctx.reader.path(repo_id), "refs/tags/").get(f"refs/tags/{tag}")
    if current is None:
        raise revision_not_found(repo_id, tag)
    if looks_like_version_tag(tag):
        raise HubError(403, f"{tag} is a published version of {repo_id}: versions are immutable (lock files pin "
                            "them), so its tag cannot be deleted. Delete the repository to withdraw it.",
                       code="Forbidden")
    if not _update_ref(ctx, repo_id, f"delete refs/tags/{tag} {current}"):
        raise HubError(409, f"Tag {tag} changed while it was being deleted; retry.", code="Conflict")
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
