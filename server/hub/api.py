"""The Hugging Face Hub HTTP protocol over the store, enough for unmodified `huggingface_hub` and `hf`.

Here: repositories (create, info, refs, tree, list), whoami and card validation. Content writes
(preupload, commits, tags) are `commits`' and file downloads `downloads`'; their routes join
this router, in this order. Model repositories only.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import yaml
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from registry.constants import DEFAULT_ORG
from registry.errors import RepositoryNotFoundError, RevisionNotFoundError

from ..context import ServerContext, existing_repo, readable, writable
from ..core.auth import EVERY_ORG, bearer_token
from ..core.errors import HubError, entry_not_found, unprocessable
from ..core.paths import check_file_path, check_new_repo_id
from ..core.payloads import LISTING_BODY_BYTES, CreateRepoPayload, ValidateYamlPayload, openapi_body, read_payload
from ..core.visibility import visible_to
from .commits import base_url
from .commits import router as commits_router
from .downloads import router as downloads_router
from .history import with_last_commits
from .models import matches_listing, model_info, sorted_listing, split_front_matter

router = APIRouter(tags=["Hub-compatible API"])
LIST_PAGE = 1000


# Repositories -----------------------------------------------------------------------------------
@router.post("/api/repos/create", openapi_extra=openapi_body(CreateRepoPayload))
async def create_repo(request: Request, ctx: ServerContext = Depends(writable)):
    """Create an empty model repository (409 with its url if it exists, as the Hub answers)."""
    payload = await read_payload(request, CreateRepoPayload)
    if payload.type not in (None, "model"):
        raise unprocessable("This server holds model repositories only, not the type in the request.")
    repo_id = check_new_repo_id(payload.organization or DEFAULT_ORG, payload.name)
    ctx.tokens.check(request, write=True, org=repo_id.split("/")[0])
    url = f"{base_url(request)}/{repo_id}"
    if not await run_in_threadpool(ctx.store.writer.create_repository, repo_id):
        return JSONResponse({"error": "You already created this model repo", "url": url}, status_code=409,
                            headers={"X-Error-Message": "You already created this model repo"})
    if payload.private is True or payload.visibility == "private":
        ctx.store.writer.set_private(repo_id, True)
    return {"url": url, "name": repo_id, "id": repo_id}


@router.post("/api/validate-yaml", openapi_extra=openapi_body(ValidateYamlPayload))
async def validate_yaml(request: Request, ctx: ServerContext = Depends(readable)):
    """Check a card's YAML front matter (huggingface_hub asks before committing a README.md)."""
    content = (await read_payload(request, ValidateYamlPayload, limit=LISTING_BODY_BYTES)).content or ""
    block = split_front_matter(content)[0]
    if block is not None:
        try:
            yaml.safe_load(block)
        except (yaml.YAMLError, RecursionError) as error:
            return JSONResponse({"errors": [{"message": f"Invalid YAML in README.md: {error}"}], "warnings": []},
                                status_code=400)
    return {"errors": [], "warnings": []}


@router.get("/api/whoami-v2")
def whoami(request: Request, ctx: ServerContext = Depends(readable)):
    scope = ctx.tokens.check(request, write=False)
    if scope is None:
        raise HubError(401, "whoami needs a token: send `Authorization: Bearer <token>`.", code="Unauthorized")
    orgs = sorted(ctx.tokens.organisations_of(bearer_token(request)) - EVERY_ORG)
    return {"type": "user", "name": DEFAULT_ORG, "fullname": f"learnerhub {scope} token",
            "orgs": [{"type": "org", "name": org} for org in orgs],
            "auth": {"type": "access_token", "accessToken": {"displayName": "learnerhub", "role": scope}}}


@router.get("/api/models")
def list_models(request: Request, search: str | None = None, author: str | None = None,
                filter: list[str] = Query(default=[]), limit: int | None = Query(default=None, ge=1),
                cursor: int = Query(default=0, ge=0), sort: str | None = None, direction: str | None = None,
                ctx: ServerContext = Depends(readable)):
    """Repositories matching search/author/filter, sorted, a page at a time (next page in the Link header);
    private ones only for a request with a token."""
    flags = request.query_params
    want_card = flags.get("cardData", "").lower() in {"1", "true"} or flags.get("full", "").lower() in {"1", "true"}
    found = []
    reader = ctx.store.reader
    for repo_id in visible_to(request, ctx.tokens, reader, reader.repository_ids()):
        try:
            info = model_info(reader, repo_id, reader.branch_head(repo_id), private=_private(ctx, repo_id),
                              with_card=want_card, with_siblings=flags.get("full", "").lower() in {"1", "true"})
        except RepositoryNotFoundError:
            continue   # deleted by a concurrent writer since the listing
        if matches_listing(info, search=search, author=author, filters=filter):
            found.append(info)
    try:
        found = sorted_listing(found, sort, direction)
    except ValueError as error:
        raise unprocessable(str(error)) from None
    size = min(limit or LIST_PAGE, LIST_PAGE)
    page = found[cursor:cursor + size]
    headers = {}
    if cursor + size < len(found):
        params = [(k, v) for k, v in request.query_params.multi_items() if k != "cursor"] + [("cursor", cursor + size)]
        headers["Link"] = f'<{base_url(request)}/api/models?{urlencode(params)}>; rel="next"'
    return JSONResponse(page, headers=headers)


@router.get("/api/models/{org}/{name}")
@router.get("/api/models/{org}/{name}/revision/{revision}")
def get_model_info(request: Request, org: str, name: str, revision: str | None = None,
                   ctx: ServerContext = Depends(readable)):
    repo_id = existing_repo(ctx, org, name)
    reader = ctx.store.reader
    commit = reader.branch_head(repo_id) if revision is None else reader.resolve(repo_id, revision)
    blobs = request.query_params.get("blobs", "").lower() in {"1", "true"}
    return model_info(reader, repo_id, commit, private=_private(ctx, repo_id), blobs=blobs)


def _private(ctx: ServerContext, repo_id: str) -> bool:
    return ctx.tokens.private_reads or ctx.store.reader.is_private(repo_id)


@router.get("/api/models/{org}/{name}/refs")
def list_refs(org: str, name: str, ctx: ServerContext = Depends(readable)):
    repo_id = existing_repo(ctx, org, name)
    reader = ctx.store.reader
    refs = reader.refs(repo_id)

    def described(prefix: str) -> list[dict[str, str]]:
        found = []
        for ref in sorted(r for r in refs if r.startswith(prefix)):
            try:
                target = refs[ref] if prefix == "refs/heads/" else reader.resolve(repo_id, ref.removeprefix(prefix))
            except RevisionNotFoundError:
                continue   # deleted by a concurrent writer since the listing
            found.append({"name": ref.removeprefix(prefix), "ref": ref, "targetCommit": target})
        return found

    return {"branches": described("refs/heads/"), "tags": described("refs/tags/"), "converts": [],
            "pullRequests": []}


@router.get("/api/models/{org}/{name}/tree/{revision}")
@router.get("/api/models/{org}/{name}/tree/{revision}/{path:path}")
def list_tree(org: str, name: str, revision: str, path: str = "", recursive: str = "false", expand: str = "false",
              ctx: ServerContext = Depends(readable)):
    """Files (and folders) under `path` at the revision; everything below it with recursive=true;
    with expand=true, each entry's lastCommit."""
    repo_id = existing_repo(ctx, org, name)
    commit = ctx.store.reader.resolve(repo_id, revision)
    prefix = f"{check_file_path(path.strip('/'))}/" if path.strip("/") else ""
    deep = recursive.lower() in {"1", "true"}
    tree = ctx.store.reader.tree(repo_id, commit)
    if prefix and not any(p.startswith(prefix) for p in tree):
        raise entry_not_found(repo_id, path, commit)
    files: list[dict[str, Any]] = []
    folders: dict[str, None] = {}
    for file_path, entry in sorted(tree.items()):
        if not file_path.startswith(prefix):
            continue
        rest = file_path[len(prefix):]
        parts = rest.split("/")
        for depth in range(1, len(parts) if deep else min(2, len(parts))):
            folders.setdefault(prefix + "/".join(parts[:depth]))
        if deep or len(parts) == 1:
            files.append({"type": "file", "oid": entry.sha, "size": entry.size, "path": file_path})
    listing = [{"type": "directory", "oid": "0" * 40, "size": 0, "path": f} for f in folders] + files
    if expand.lower() in {"1", "true"}:
        return with_last_commits(listing, ctx.store.reader, repo_id, commit)
    return listing


router.include_router(commits_router)
router.include_router(downloads_router)
