"""The Hugging Face Hub HTTP protocol over the store, enough for unmodified `huggingface_hub` and `hf`.

Repositories (create, info, refs, tree, list), commits (preupload answers "regular" so content comes
inline as base64 in the NDJSON commit: no LFS or Xet storage), tags, and file downloads (`resolve`,
with the headers the client checks: X-Repo-Commit, ETag, Content-Length). Model repositories only.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

import yaml
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from registry.constants import DEFAULT_ORG, MAIN_BRANCH
from registry.errors import InvalidVersionError
from registry.git import read_refs
from registry.versions import check_version_tag

from .auth import EVERY_ORG, bearer_token
from .context import ServerContext, readable, writable
from .errors import HubError, entry_not_found, repo_not_found, unprocessable
from .git_reader import COMMIT_SHA, TreeEntry
from .hub_history import with_last_commits
from .hub_lifecycle import check_lifecycle_commit, check_version_tag_target, settle
from .hub_models import matches_listing, model_info, sorted_listing
from .paths import check_file_path, check_new_repo_id, check_ref_name, check_repo_id
from .payloads import (LISTING_BODY_BYTES, CommitLine, CreateRepoPayload, PreuploadPayload, TagPayload,
                       ValidateYamlPayload, openapi_body, parse_commit, read_body, read_payload)
from .visibility import is_private, set_private, visible_to

router = APIRouter(tags=["Hub-compatible API"])
LIST_PAGE = 1000


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _repo(ctx: ServerContext, org: str, name: str) -> str:
    repo_id = check_repo_id(org, name)
    ctx.reader.path(repo_id)  # 404 RepoNotFound
    return repo_id


# Repositories -----------------------------------------------------------------------------------
@router.post("/api/repos/create", openapi_extra=openapi_body(CreateRepoPayload))
async def create_repo(request: Request, ctx: ServerContext = Depends(writable)):
    """Create an empty model repository (409 with its url if it exists, as the Hub answers)."""
    payload = await read_payload(request, CreateRepoPayload)
    if payload.type not in (None, "model"):
        raise unprocessable("This server holds model repositories only, not the type in the request.")
    repo_id = check_new_repo_id(payload.organization or DEFAULT_ORG, payload.name)
    ctx.tokens.check(request, write=True, org=repo_id.split("/")[0])
    url = f"{_base(request)}/{repo_id}"
    if not await run_in_threadpool(ctx.writer.create_repository, repo_id):
        return JSONResponse({"error": "You already created this model repo", "url": url}, status_code=409,
                            headers={"X-Error-Message": "You already created this model repo"})
    if payload.private is True or payload.visibility == "private":
        set_private(ctx.reader.models, repo_id, True)
    return {"url": url, "name": repo_id, "id": repo_id}


@router.post("/api/validate-yaml", openapi_extra=openapi_body(ValidateYamlPayload))
async def validate_yaml(request: Request, ctx: ServerContext = Depends(readable)):
    """Check a card's YAML front matter (huggingface_hub asks before committing a README.md)."""
    content = (await read_payload(request, ValidateYamlPayload, limit=LISTING_BODY_BYTES)).content or ""
    if content.startswith("---"):
        block = content.partition("\n")[2].partition("\n---")[0]
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
    for repo_id in sorted(visible_to(request, ctx.tokens, ctx.reader.models, _all_repositories(ctx))):
        commit = read_refs(ctx.reader.models / repo_id, "refs/heads/").get(f"refs/heads/{MAIN_BRANCH}")
        info = model_info(ctx.reader, repo_id, commit, private=_private(ctx, repo_id), with_card=want_card,
                          with_siblings=flags.get("full", "").lower() in {"1", "true"})
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
        headers["Link"] = f'<{_base(request)}/api/models?{urlencode(params)}>; rel="next"'
    return JSONResponse(page, headers=headers)


def _all_repositories(ctx: ServerContext) -> list[str]:
    models = ctx.reader.models
    if not models.is_dir():
        return []
    return [f"{org.name}/{repo.name}" for org in models.iterdir() if org.is_dir() and not org.name.startswith(".")
            for repo in org.iterdir() if (repo / "HEAD").is_file()]


@router.get("/api/models/{org}/{name}")
@router.get("/api/models/{org}/{name}/revision/{revision}")
def get_model_info(request: Request, org: str, name: str, revision: str | None = None,
                   ctx: ServerContext = Depends(readable)):
    repo_id = _repo(ctx, org, name)
    if revision is None:
        commit = read_refs(ctx.reader.path(repo_id), "refs/heads/").get(f"refs/heads/{MAIN_BRANCH}")
    else:
        commit = ctx.reader.resolve(repo_id, revision)
    blobs = request.query_params.get("blobs", "").lower() in {"1", "true"}
    return model_info(ctx.reader, repo_id, commit, private=_private(ctx, repo_id), blobs=blobs)


def _private(ctx: ServerContext, repo_id: str) -> bool:
    return ctx.tokens.private_reads or is_private(ctx.reader.models, repo_id)


@router.get("/api/models/{org}/{name}/refs")
def list_refs(org: str, name: str, ctx: ServerContext = Depends(readable)):
    repo_id = _repo(ctx, org, name)
    refs = ctx.reader.refs(repo_id)

    def described(prefix: str) -> list[dict[str, str]]:
        found = []
        for ref in sorted(r for r in refs if r.startswith(prefix)):
            try:
                target = refs[ref] if prefix == "refs/heads/" else ctx.reader.resolve(repo_id, ref.removeprefix(prefix))
            except HubError:
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
    repo_id = _repo(ctx, org, name)
    commit = ctx.reader.resolve(repo_id, revision)
    prefix = f"{check_file_path(path.strip('/'))}/" if path.strip("/") else ""
    deep = recursive.lower() in {"1", "true"}
    tree = ctx.reader.tree(repo_id, commit)
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
        return with_last_commits(listing, ctx.reader.path(repo_id), commit)
    return listing


# Writes -----------------------------------------------------------------------------------------
@router.post("/api/models/{org}/{name}/preupload/{revision}", openapi_extra=openapi_body(PreuploadPayload))
async def preupload(request: Request, org: str, name: str, revision: str, create_pr: str | None = None,
                    ctx: ServerContext = Depends(writable)):
    """Every file is uploaded "regular" (inline in the commit); `oid` lets the client skip unchanged files."""
    repo_id = _repo(ctx, org, name)
    _refuse_pull_requests(create_pr)
    payload = await read_payload(request, PreuploadPayload, limit=LISTING_BODY_BYTES)
    paths = [check_file_path(file.path) for file in payload.files]
    heads = read_refs(ctx.reader.path(repo_id), "refs/heads/")
    commit = heads.get(f"refs/heads/{revision}")
    tree = await run_in_threadpool(ctx.reader.tree, repo_id, commit) if commit else {}
    return {"files": [{"path": path, "uploadMode": "regular", "shouldIgnore": False,
                       "oid": tree[path].sha if path in tree else None} for path in paths]}


@router.post("/api/models/{org}/{name}/commit/{revision}",
             openapi_extra=openapi_body(CommitLine, media_type="application/x-ndjson"))
async def commit(request: Request, org: str, name: str, revision: str, create_pr: str | None = None,
                 ctx: ServerContext = Depends(writable)):
    """Apply an NDJSON commit (header, file, deletedFile, deletedFolder lines) atomically to a branch."""
    repo_id = _repo(ctx, org, name)
    _refuse_pull_requests(create_pr)
    branch = check_ref_name(revision, what="branch")
    parsed = parse_commit(await read_body(request, ctx.max_body_bytes))
    await run_in_threadpool(check_lifecycle_commit, ctx, repo_id, branch, parsed)
    sha = await run_in_threadpool(ctx.writer.commit, repo_id, branch, parsed)
    await run_in_threadpool(settle, ctx, repo_id, branch)
    return {"commitUrl": f"{_base(request)}/{repo_id}/commit/{sha}", "commitOid": sha, "success": True,
            "pullRequestUrl": None}


@router.post("/api/models/{org}/{name}/tag/{revision}", openapi_extra=openapi_body(TagPayload))
async def create_tag(request: Request, org: str, name: str, revision: str, ctx: ServerContext = Depends(writable)):
    repo_id = _repo(ctx, org, name)
    tag = check_ref_name((await read_payload(request, TagPayload)).tag)
    try:
        check_version_tag(tag)
    except InvalidVersionError as error:
        raise unprocessable(str(error)) from None
    target = await run_in_threadpool(ctx.reader.resolve, repo_id, revision)
    await run_in_threadpool(check_version_tag_target, ctx, repo_id, tag, target)
    await run_in_threadpool(ctx.writer.create_tag, repo_id, tag, target)
    return {}


def _refuse_pull_requests(create_pr: str | None) -> None:
    if create_pr not in (None, "", "0", "false"):
        raise unprocessable("This server has no pull requests: commit to a branch instead.")


# Downloads --------------------------------------------------------------------------------------
@router.get("/{org}/{name}/resolve/{revision}/{path:path}", operation_id="resolve_file")
@router.head("/{org}/{name}/resolve/{revision}/{path:path}", operation_id="resolve_file_metadata")
async def resolve(request: Request, org: str, name: str, revision: str, path: str,
                  ctx: ServerContext = Depends(readable)):
    """One file at a branch, tag or commit; `Range: bytes=a-b` is honoured (the client resumes with it).

    A warm request (commit, tree and blob cached) is answered on the event loop; anything needing git runs
    in the thread pool.
    """
    repo_id = check_repo_id(org, name)
    path = check_file_path(path)
    wants_body = request.method != "HEAD"
    found = _locate(ctx, repo_id, revision, path, wants_body=wants_body, cached_only=True)
    if found is None:
        found = await run_in_threadpool(_locate, ctx, repo_id, revision, path, wants_body=wants_body)
    commit, entry, content = found
    headers = {"X-Repo-Commit": commit, "ETag": f'"{entry.sha}"', "Accept-Ranges": "bytes",
               "Content-Disposition": f"inline; filename*=UTF-8''{quote(path.rsplit('/', 1)[-1])}"}
    if content is None:
        return Response(headers={**headers, "Content-Length": str(entry.size)},
                        media_type="application/octet-stream")
    span = _byte_range(request.headers.get("range"), len(content))
    if span is None:
        return Response(content, headers=headers, media_type="application/octet-stream")
    start, end = span
    return Response(content[start:end + 1], status_code=206, media_type="application/octet-stream",
                    headers={**headers, "Content-Range": f"bytes {start}-{end}/{len(content)}"})


def _locate(ctx: ServerContext, repo_id: str, revision: str, path: str, *, wants_body: bool,
            cached_only: bool = False) -> tuple[str, TreeEntry, bytes | None] | None:
    """(commit, entry, content or None) of a file; with `cached_only`, None as soon as git would be needed."""
    if not ctx.reader.exists(repo_id):
        raise repo_not_found(repo_id)
    commit = ctx.reader.resolve(repo_id, revision, cached_only=cached_only)
    if commit is None:
        return None
    tree = ctx.reader.cached_tree(repo_id, commit) if cached_only else ctx.reader.tree(repo_id, commit)
    if tree is None:
        return None
    entry = tree.get(path)
    if entry is None:
        raise entry_not_found(repo_id, path, commit)
    if not wants_body:
        return commit, entry, None
    content = ctx.reader.cached_blob(entry) if cached_only else ctx.reader.blob(repo_id, entry)
    return None if content is None else (commit, entry, content)


def _byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) byte of a single `bytes=a-b` range; None for no (or an unsupported) range."""
    if not header or not header.startswith("bytes=") or "," in header:
        return None
    first, _, last = header.removeprefix("bytes=").partition("-")
    try:
        if not first:
            start, end = max(0, size - int(last)), size - 1
        else:
            start, end = int(first), min(int(last), size - 1) if last else size - 1
    except ValueError:
        return None
    if start > end or start >= size:
        raise HubError(416, f"Range {header} is outside the file ({size} bytes).",
                       headers={"Content-Range": f"bytes */{size}"})
    return start, end
