"""Repository management through the Hub API: delete, move, settings (visibility), and the owner's list.

Deleting renames the repository out of `models/` first (one atomic rename; readers see it or not) and
then removes it. Moving is a rename too, refused onto an existing repository and refused for a
repository holding published learner versions: each version's manifest names its repository, so a
moved version would no longer verify on pull (publish it under the new name instead). Visibility is
`server.visibility`'s marker; gated access has no counterpart here and is refused.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Body, Depends, Request

from registry.constants import MAIN_BRANCH
from registry.git import read_refs
from registry.versions import version_of_tag

from .context import ServerContext, context, writable
from .errors import HubError, repo_not_found, unprocessable
from .paths import check_repo_id
from .visibility import is_private, private_access, set_private, visible_to

router = APIRouter(tags=["Hub-compatible API"])


def _split_id(value: Any, what: str) -> str:
    org, _, name = str(value or "").partition("/")
    if not org or not name:
        raise unprocessable(f"{what} must be ORG/NAME, not {value!r}.")
    return check_repo_id(org, name)


def _models_only(kind: Any) -> None:
    if kind not in (None, "model"):
        raise unprocessable(f"This server holds model repositories only, not {kind!r}.")


def _changed(ctx: ServerContext, *repo_ids: str) -> None:
    """Tell the listing index and the catalog that these repositories changed shape."""
    ctx.store.index.mark_changed()
    for repo_id in repo_ids:
        ctx.catalog.forget(repo_id)


@router.delete("/api/repos/delete")
def delete_repo(request: Request, payload: dict = Body(...), ctx: ServerContext = Depends(writable)) -> dict:
    _models_only(payload.get("type"))
    if not payload.get("organization"):
        raise unprocessable("Name the repository's organization: delete_repo('ORG/NAME').")
    repo_id = check_repo_id(str(payload["organization"]), str(payload.get("name") or ""))
    ctx.tokens.check(request, write=True, org=repo_id.split("/")[0])
    source = ctx.reader.path(repo_id)  # 404 RepoNotFound
    scratch = ctx.store.root / ".tmp"
    scratch.mkdir(parents=True, exist_ok=True)
    grave = Path(tempfile.mkdtemp(prefix="serve-delete-", dir=scratch))
    try:
        os.rename(source, grave / "repo")
    except FileNotFoundError:
        raise repo_not_found(repo_id) from None
    finally:
        _changed(ctx, repo_id)
        shutil.rmtree(grave, ignore_errors=True)
    return {}


@router.post("/api/repos/move")
def move_repo(request: Request, payload: dict = Body(...), ctx: ServerContext = Depends(writable)) -> dict:
    _models_only(payload.get("type"))
    source_id, target_id = _split_id(payload.get("fromRepo"), "fromRepo"), _split_id(payload.get("toRepo"), "toRepo")
    for repo_id in (source_id, target_id):
        ctx.tokens.check(request, write=True, org=repo_id.split("/")[0])
    source = ctx.reader.path(source_id)
    versions = [t for t in read_refs(source, "refs/tags/") if version_of_tag(t.removeprefix("refs/tags/"))]
    if versions:
        raise HubError(409, f"{source_id} holds published learner versions ({len(versions)}); their manifests name "
                            f"{source_id}, so they would no longer verify as {target_id}. Publish them under the new "
                            "name instead.", code="Conflict")
    target = ctx.reader.models / target_id
    if target.exists():
        raise HubError(409, f"{target_id} already exists.", code="Conflict")
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.rename(source, target)
    except OSError:
        raise HubError(409, f"Could not move {source_id} to {target_id} (it exists, or {source_id} just moved).",
                       code="Conflict") from None
    finally:
        _changed(ctx, source_id, target_id)
    return {}


@router.put("/api/models/{org}/{name}/settings")
def update_settings(org: str, name: str, payload: dict = Body(...), ctx: ServerContext = Depends(writable)) -> dict:
    """Visibility (`private` or `public`); gated access is not supported and is refused, not ignored."""
    repo_id = check_repo_id(org, name)
    ctx.reader.path(repo_id)
    if payload.get("gated") not in (None, False, "false"):
        raise unprocessable("This server has no gated access: a repository is public or private.")
    visibility = payload.get("visibility")
    if visibility is None and payload.get("private") is not None:
        visibility = "private" if payload["private"] else "public"
    if visibility not in (None, "public", "private"):
        raise unprocessable(f"Visibility {visibility!r} is not supported: use 'public' or 'private'.")
    if visibility is not None:
        set_private(ctx.reader.models, repo_id, visibility == "private")
        _changed(ctx, repo_id)
    return {}


def _storage(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def repository_row(ctx: ServerContext, repo_id: str) -> dict[str, Any]:
    """What `list_user_repos` (`hf repos ls`) reads for one repository."""
    path = ctx.reader.path(repo_id)
    main = read_refs(path, "refs/heads/").get(f"refs/heads/{MAIN_BRANCH}")
    updated = (ctx.reader.commit_date(repo_id, main) if main else
               datetime.fromtimestamp(path.stat().st_mtime, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z"))
    return {"id": repo_id, "type": "model", "updatedAt": updated,
            "visibility": "private" if is_private(ctx.reader.models, repo_id) else "public",
            "storage": _storage(path), "storagePercent": 0}


@router.get("/api/settings/repositories")
@router.get("/api/organizations/{org}/settings/repositories")
def list_user_repos(request: Request, org: str | None = None) -> list[dict[str, Any]]:
    """Every repository (of `org`) the token may see: it needs one (a token limited to organisations sees
    their private repositories, and the public ones)."""
    ctx = context(request)
    ctx.tokens.check(request, write=False)
    if not private_access(ctx.tokens, request):
        raise HubError(401, "Listing your repositories needs a token: send `Authorization: Bearer <token>`.",
                       code="Unauthorized")
    models = ctx.reader.models
    ids = sorted(f"{o.name}/{r.name}" for o in models.iterdir() if o.is_dir() and not o.name.startswith(".")
                 and (org is None or o.name == org) for r in o.iterdir() if (r / "HEAD").is_file())
    return [repository_row(ctx, repo_id) for repo_id in visible_to(request, ctx.tokens, models, ids)]
