"""File downloads through the Hub protocol: `resolve` at a branch, tag or commit, with byte ranges.

The headers are the ones `huggingface_hub` checks (X-Repo-Commit, ETag, Content-Length); a warm request
(commit, tree and blob cached by the store's reader) is answered on the event loop, without git.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from registry.errors import RepositoryNotFoundError
from registry.local.repository_reader import TreeEntry

from ..context import ServerContext, readable
from ..core.errors import HubError, entry_not_found
from ..core.paths import check_file_path, check_repo_id

router = APIRouter(tags=["Hub-compatible API"])


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
    reader = ctx.store.reader
    if not reader.exists(repo_id):
        raise RepositoryNotFoundError(repo_id)
    commit = reader.resolve(repo_id, revision, cached_only=cached_only)
    if commit is None:
        return None
    tree = reader.cached_tree(repo_id, commit) if cached_only else reader.tree(repo_id, commit)
    if tree is None:
        return None
    entry = tree.get(path)
    if entry is None:
        raise entry_not_found(repo_id, path, commit)
    if not wants_body:
        return commit, entry, None
    content = reader.cached_blob(entry) if cached_only else reader.blob(repo_id, entry)
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
