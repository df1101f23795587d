"""The repository URLs the Hub client prints (`create_repo`, `upload_file`, `hf`) lead somewhere.

`/ORG/NAME` goes to the learner's page (`/learners/ORG/NAME`), or to the repository's Hub JSON when it
holds no learner yet; `/ORG/NAME/commit/SHA`, `/tree/REV[/PATH]` and `/blob/REV/PATH` go to the API
route that shows the same thing. Registered last, so every other route of two segments wins.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Depends
from fastapi.responses import RedirectResponse

from ..context import ServerContext, existing_repo, readable
from ..core.paths import check_file_path

router = APIRouter(include_in_schema=False)


@router.get("/{org}/{name}")
def repository_page(org: str, name: str, ctx: ServerContext = Depends(readable)) -> RedirectResponse:
    repo_id = existing_repo(ctx, org, name)
    target = f"/learners/{repo_id}" if ctx.catalog.summary(repo_id) is not None else f"/api/models/{repo_id}"
    return RedirectResponse(target, status_code=302)


@router.get("/{org}/{name}/commit/{sha}")
def commit_page(org: str, name: str, sha: str, ctx: ServerContext = Depends(readable)) -> RedirectResponse:
    repo_id = existing_repo(ctx, org, name)
    commit = ctx.store.reader.resolve(repo_id, sha)
    return RedirectResponse(f"/api/models/{repo_id}/commits/{commit}?limit=1", status_code=302)


@router.get("/{org}/{name}/tree/{revision}")
@router.get("/{org}/{name}/tree/{revision}/{path:path}")
def tree_page(org: str, name: str, revision: str, path: str = "",
              ctx: ServerContext = Depends(readable)) -> RedirectResponse:
    repo_id = existing_repo(ctx, org, name)
    ctx.store.reader.resolve(repo_id, revision)
    suffix = f"/{quote(check_file_path(path.strip('/')))}" if path.strip("/") else ""
    return RedirectResponse(f"/api/models/{repo_id}/tree/{revision}{suffix}", status_code=302)


@router.get("/{org}/{name}/blob/{revision}/{path:path}")
def blob_page(org: str, name: str, revision: str, path: str,
              ctx: ServerContext = Depends(readable)) -> RedirectResponse:
    repo_id = existing_repo(ctx, org, name)
    ctx.store.reader.resolve(repo_id, revision)
    return RedirectResponse(f"/{repo_id}/resolve/{revision}/{quote(check_file_path(path))}", status_code=302)
