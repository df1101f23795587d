"""A repository's history as the Hub answers it: commit lists, paths-info, a path's last commit.

`list_repo_commits` reads `GET /api/models/ORG/NAME/commits/REV` (newest first, paged by `p` with a
Link header); `get_paths_info` (and so `CommitOperationCopy`) posts a form of `paths` to `paths-info/REV`;
`list_repo_tree(expand=True)` and paths-info with `expand` carry each path's `lastCommit`.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from registry.local.repository_reader import RepositoryReader

from ..context import ServerContext, readable
from ..core.errors import unprocessable
from ..core.paths import check_file_path, check_repo_id

router = APIRouter(tags=["Hub-compatible API"])
COMMITS_PAGE = 100
EMPTY_TREE_OID = "0" * 40


@router.get("/api/models/{org}/{name}/commits/{revision:path}")
def list_commits(request: Request, org: str, name: str, revision: str, p: int = Query(default=0, ge=0),
                 limit: int = Query(default=COMMITS_PAGE, ge=1, le=1000),
                 ctx: ServerContext = Depends(readable)) -> JSONResponse:
    """The history of a branch, tag or commit, newest first."""
    repo_id = check_repo_id(org, name)
    commit = ctx.store.reader.resolve(repo_id, revision)
    commits = ctx.store.reader.history(repo_id, commit, skip=p * limit, count=limit + 1)
    headers = {}
    if len(commits) > limit:
        query = [(k, v) for k, v in request.query_params.multi_items() if k != "p"] + [("p", p + 1)]
        headers["Link"] = f'<{str(request.url).split("?")[0]}?{urlencode(query)}>; rel="next"'
    return JSONResponse(commits[:limit], headers=headers)


async def _form_paths(request: Request) -> tuple[list[str], bool]:
    """`paths` and `expand` of a paths-info request: a urlencoded form (what the client posts) or JSON."""
    body = await request.body()
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            data = json.loads(body or b"{}")
            paths, expand = data.get("paths", []), data.get("expand", False)
        except (ValueError, AttributeError):
            raise unprocessable("paths-info expects a form (paths=...&expand=...) or {\"paths\": [...]}.") from None
        paths = paths if isinstance(paths, list) else [paths]
    else:
        form = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
        paths, expand = form.get("paths", []), (form.get("expand") or ["false"])[-1]
    return [str(p) for p in paths], str(expand).lower() in {"1", "true"}


@router.post("/api/models/{org}/{name}/paths-info/{revision:path}")
async def paths_info(request: Request, org: str, name: str, revision: str,
                     ctx: ServerContext = Depends(readable)) -> list[dict[str, Any]]:
    """What each asked path is at the revision: a file (oid, size) or a folder; missing paths are left out."""
    repo_id = check_repo_id(org, name)
    paths, expand = await _form_paths(request)
    reader = ctx.store.reader
    commit = reader.resolve(repo_id, revision)
    tree = reader.tree(repo_id, commit)
    answer = []
    for path in dict.fromkeys(p.strip("/") for p in paths):
        check_file_path(path)
        entry = tree.get(path)
        if entry is not None:
            item: dict[str, Any] = {"type": "file", "path": path, "oid": entry.sha, "size": entry.size}
        elif any(p.startswith(path + "/") for p in tree):
            item = {"type": "directory", "path": path, "oid": EMPTY_TREE_OID, "size": 0}
        else:
            continue
        if expand:
            item["lastCommit"] = reader.last_commit(repo_id, commit, path)
        answer.append(item)
    return answer


def with_last_commits(items: list[dict[str, Any]], reader: RepositoryReader, repo_id: str,
                      commit: str) -> list[dict[str, Any]]:
    """Tree entries with their `lastCommit` (what `list_repo_tree(expand=True)` reads)."""
    return [{**item, "lastCommit": reader.last_commit(repo_id, commit, item["path"])} for item in items]
