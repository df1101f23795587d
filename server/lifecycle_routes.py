"""The version lifecycle on the server: its REST routes, and the checks the Hub protocol's writes pass.

Routes (`learnerhub yank/delete/alias --endpoint` use the Hub protocol instead; both end in the same log):
`GET /api/learners/ORG/NAME/lifecycle`, `POST .../versions/V/yank` and `.../unyank` (`{"reason": ...}`),
`DELETE .../versions/V?reason=...`, `PUT .../aliases/A` (`{"version": ...}`), `DELETE .../aliases/A`.

Checks on Hub writes, so that no client can break what `pull` resolves:
- a version tag (`v1.2.0`) is accepted only through `registry.version_gate` (the tag route), the gate local
  and endpoint publishing pass too: a bogus upload cannot become "latest";
- a version tag is deleted only once the lifecycle log records the deletion (an audit line first);
- a commit to the `lifecycle` branch must keep the log valid and append-only; then the refs follow it.
"""

from __future__ import annotations

import dataclasses

from fastapi import APIRouter, Depends, Query, Request
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from registry.errors import InvalidVersionError, LifecycleError, RegistryError, VersionNotFoundError
from registry.lifecycle import LIFECYCLE_BRANCH, LIFECYCLE_FILE, Lifecycle, LifecycleEvent, now
from registry.local.lifecycle_log import LIFECYCLE_REF, read_lifecycle
from registry.local.repository_writer import CommitRequest
from registry.versions import parse_release, version_of_tag

from .context import ServerContext, existing_repo, readable, writable
from .core.auth import bearer_token, hash_token
from .core.errors import HubError, as_hub_error, unprocessable
from .core.payloads import Text, _Payload, read_payload

router = APIRouter(prefix="/api/learners", tags=["Version lifecycle"])


class ReasonPayload(_Payload):
    reason: Text = Field(default="", max_length=500)


class AliasPayload(_Payload):
    version: Text = Field(max_length=64)
    reason: Text = Field(default="", max_length=500)


def as_http(error: RegistryError) -> HubError:
    """A registry error about a lifecycle change, as the Hub would answer it (server.core.errors' one table)."""
    return as_hub_error(error)


def requester(request: Request) -> str:
    """Who the audit line names: the token, by the first digits of its hash (never the token)."""
    token = bearer_token(request)
    return f"token:{hash_token(token)[:12]}" if token else "anonymous"


def _record(ctx: ServerContext, repo_id: str, event: LifecycleEvent) -> dict:
    try:
        return ctx.store.record(repo_id, event).to_dict()
    except (LifecycleError, InvalidVersionError, VersionNotFoundError) as error:
        raise as_http(error) from None


def _version(text: str) -> str:
    try:
        return str(parse_release(text))
    except InvalidVersionError as error:
        raise unprocessable(str(error)) from None


@router.get("/{org}/{name}/lifecycle", summary="Yanked and deleted versions, aliases and the audit log")
def get_lifecycle(org: str, name: str, ctx: ServerContext = Depends(readable)) -> dict:
    repo_id = existing_repo(ctx, org, name)
    try:
        return ctx.store.lifecycle(repo_id).to_dict()
    except LifecycleError as error:
        raise as_http(error) from None


@router.post("/{org}/{name}/versions/{version}/yank", summary="Yank a version (exact pins still get it)")
async def yank(request: Request, org: str, name: str, version: str, ctx: ServerContext = Depends(writable)) -> dict:
    repo_id, version = existing_repo(ctx, org, name), _version(version)
    reason = (await read_payload(request, ReasonPayload)).reason.strip()
    if not reason:
        raise unprocessable("Say why the version is yanked: send {\"reason\": \"...\"}.")
    event = LifecycleEvent("yank", version, reason, by=requester(request))
    return await run_in_threadpool(_record, ctx, repo_id, event)


@router.post("/{org}/{name}/versions/{version}/unyank", summary="Undo a yank")
async def unyank(request: Request, org: str, name: str, version: str, ctx: ServerContext = Depends(writable)) -> dict:
    repo_id, version = existing_repo(ctx, org, name), _version(version)
    reason = (await read_payload(request, ReasonPayload)).reason.strip()
    event = LifecycleEvent("unyank", version, reason, by=requester(request))
    return await run_in_threadpool(_record, ctx, repo_id, event)


@router.delete("/{org}/{name}/versions/{version}", summary="Delete a version (its number is never reused)")
async def delete_version(request: Request, org: str, name: str, version: str,
                         reason: str = Query(..., min_length=1, max_length=500),
                         ctx: ServerContext = Depends(writable)) -> dict:
    repo_id, version = existing_repo(ctx, org, name), _version(version)
    if not reason.strip():
        raise unprocessable("Say why the version is deleted: ?reason=...")
    event = LifecycleEvent("delete", version, reason.strip(), by=requester(request))
    return await run_in_threadpool(_record, ctx, repo_id, event)


@router.put("/{org}/{name}/aliases/{alias}", summary="Create or move an alias (production, staging, ...)")
async def set_alias(request: Request, org: str, name: str, alias: str, ctx: ServerContext = Depends(writable)) -> dict:
    repo_id = existing_repo(ctx, org, name)
    payload = await read_payload(request, AliasPayload)
    event = LifecycleEvent("alias", _version(payload.version), payload.reason.strip(), alias=alias,
                           by=requester(request))
    return await run_in_threadpool(_record, ctx, repo_id, event)


@router.delete("/{org}/{name}/aliases/{alias}", summary="Remove an alias")
async def remove_alias(request: Request, org: str, name: str, alias: str,
                       ctx: ServerContext = Depends(writable)) -> dict:
    repo_id = existing_repo(ctx, org, name)
    aliases = (await run_in_threadpool(ctx.store.lifecycle, repo_id)).aliases
    if alias not in aliases:
        raise HubError(404, f"{repo_id} has no alias {alias!r}.", code="RevisionNotFound")
    event = LifecycleEvent("unalias", aliases[alias], alias=alias, by=requester(request))
    return await run_in_threadpool(_record, ctx, repo_id, event)


# Checks on Hub-protocol writes -------------------------------------------------------------------
def check_version_tag_deletion(ctx: ServerContext, repo_id: str, tag: str) -> None:
    """Version tags go only once the lifecycle log records the deletion (its audit line comes first)."""
    version = version_of_tag(tag)
    if version is not None and str(version) not in ctx.store.lifecycle(repo_id).deleted:
        raise HubError(403, f"{tag} is a published version of {repo_id}: versions are immutable unless deleted "
                            f"through the lifecycle, which keeps an audit line: `learnerhub delete {repo_id}@{version} "
                            f"--reason ...` (or DELETE /api/learners/{repo_id}/versions/{version}).", code="Forbidden")


def check_lifecycle_branch_start(ctx: ServerContext, repo_id: str, branch: str, commit: str) -> None:
    """The lifecycle branch may be created only where it holds no log yet: a log arrives by checked commits."""
    if branch == LIFECYCLE_BRANCH and LIFECYCLE_FILE in ctx.store.reader.tree(repo_id, commit):
        raise unprocessable(f"The {LIFECYCLE_BRANCH} branch must start without a {LIFECYCLE_FILE}: its events are "
                            "committed one by one (`learnerhub yank`, the lifecycle API), each checked.")


def check_lifecycle_commit(ctx: ServerContext, repo_id: str, branch: str, request: CommitRequest, *,
                           by: str) -> None:
    """A commit to the lifecycle branch keeps the log valid and append-only, each new event sensible; it is
    then applied only on the head it was checked against (`parent_commit`), so a racing commit cannot replace
    events this check did not see (412: re-read and retry).

    The new events are stamped here, as the REST routes stamp theirs: `by` (who the token is) and the server's
    time replace what the client wrote, so an audit line cannot be forged ("admin@corp" in 1999)."""
    if branch != LIFECYCLE_BRANCH:
        return
    head = ctx.store.reader.branch_head(repo_id, LIFECYCLE_BRANCH)
    if head is None:
        raise HubError(404, f"{repo_id} has no {LIFECYCLE_BRANCH} branch: create it first (from main).",
                       code="RevisionNotFound")
    if request.parent_commit is not None and request.parent_commit != head:
        raise HubError(412, f"The {LIFECYCLE_BRANCH} branch moved since {request.parent_commit[:12]}: re-read the "
                            "log and retry.", code="PreconditionFailed")
    request.parent_commit = head
    if LIFECYCLE_FILE in request.deleted_files or any(LIFECYCLE_FILE.startswith(f.rstrip("/") + "/") or f in ("", "/")
                                                      for f in request.deleted_folders):
        raise unprocessable(f"{LIFECYCLE_FILE} of the {LIFECYCLE_BRANCH} branch is an audit log: it cannot be deleted.")
    if LIFECYCLE_FILE not in request.additions:
        return
    try:
        proposed = Lifecycle.from_json(request.additions[LIFECYCLE_FILE], source=f"the commit's {LIFECYCLE_FILE}")
        try:
            current = read_lifecycle(ctx.store.repository(repo_id), {LIFECYCLE_REF: head})
        except LifecycleError:
            return   # the log there is malformed (written behind the server's back): a valid one repairs it
        if proposed.events[:len(current.events)] != current.events:
            raise LifecycleError(f"The commit rewrites the lifecycle log of {repo_id}; it may only append events.")
        published = ctx.store.versions(repo_id)
        state = current
        for event in proposed.events[len(current.events):]:
            state = state.with_event(dataclasses.replace(event, by=by, at=now()), published)
        request.additions[LIFECYCLE_FILE] = state.to_json().encode()
    except (LifecycleError, InvalidVersionError, VersionNotFoundError) as error:
        raise as_http(error) from None


def settle(ctx: ServerContext, repo_id: str, branch: str | None = None) -> None:
    """After a lifecycle commit (or a version tag's deletion): tags and main follow the log."""
    if branch in (None, LIFECYCLE_BRANCH):
        ctx.store.settle(repo_id)


def shown_lifecycle(ctx: ServerContext, repo_id: str) -> tuple[Lifecycle, str | None]:
    """The lifecycle for a page or the browse API, and a warning when the repository's log is malformed
    (the page still renders: a malformed log is that repository's problem)."""
    try:
        return ctx.store.lifecycle(repo_id), None
    except LifecycleError as error:
        return Lifecycle(), str(error)
