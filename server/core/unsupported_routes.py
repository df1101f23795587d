"""What to say for an /api/... request no route answers: the Hub routes this server does not implement,
explained (`super_squash_history`, `hf repos duplicate`, discussions, datasets...), and a plain "no such
route, see /docs" for the rest, instead of a bare "Not Found".

Answered with a 4xx (404 for a route that is not here, 405 for a method a route does not take), never a
5xx: huggingface_hub retries 5xx answers, and this is a refusal, not a failure. `server.core.errors` turns the
router's bare 404/405 into these messages; this module only words them.
"""

from __future__ import annotations

import re

_REPO = r"/api/models/[^/]+/[^/]+"
_IS_NOT = "is not implemented by a learnerhub server"
_ARE_NOT = "are not implemented by a learnerhub server"

#: (method or None for any, path pattern, explanation): Hub features a user may reach for, and what to do instead.
UNSUPPORTED_HUB_ROUTES: list[tuple[str | None, re.Pattern[str], str]] = [
    ("POST", re.compile(rf"^{_REPO}/super-squash/[^/]+$"),
     f"Squashing a branch's history (super_squash_history) {_IS_NOT}: a learner repository's history holds its "
     "published versions, each a tagged commit that stays as published. To start a repository afresh, delete it "
     "(delete_repo, `hf repos delete`) and upload again."),
    ("POST", re.compile(rf"^{_REPO}/duplicate$"),
     f"Duplicating a repository (duplicate_repo, `hf repos duplicate`) {_IS_NOT}: download it "
     "(`hf download ORG/NAME --local-dir DIR`) and upload that folder under the new name "
     "(`hf upload NEW_ORG/NEW_NAME DIR`), or republish a learner with `learnerhub pull` and `learnerhub publish`."),
    (None, re.compile(rf"^{_REPO}/(discussions|pulls?)(/|$)"),
     f"Discussions and pull requests {_ARE_NOT}: commit to a branch instead (create_branch, then upload with "
     "revision=BRANCH)."),
    (None, re.compile(rf"^{_REPO}/(lfs-files|xet-(read|write)-token)(/|$)"),
     f"LFS and Xet storage {_ARE_NOT}: files travel inline in commits (set HF_HUB_DISABLE_XET=1 for uploads)."),
    (None, re.compile(rf"^{_REPO}/(like|likers|user-access-request|access-requests)(/|$)"),
     f"Likes and gated access requests {_ARE_NOT}: a repository is public or private (update_repo_settings)."),
    (None, re.compile(r"^/api/(datasets|spaces|buckets)(/|$)"),
     f"Dataset, Space and bucket repositories {_ARE_NOT}: it holds model repositories only (repo_type='model', "
     "the default)."),
    (None, re.compile(r"^/api/(collections|jobs|inference-endpoints|webhooks|papers|posts|scheduled-jobs)(/|$)"),
     f"This huggingface.co service {_IS_NOT}, which serves model repositories and learnerhub's own routes only."),
]


def missing_route_message(method: str, path: str) -> str:
    """Why `method path` (under /api) has no route here, and what to do instead."""
    for wanted, pattern, explanation in UNSUPPORTED_HUB_ROUTES:
        if (wanted is None or wanted == method) and pattern.match(path):
            return explanation
    return (f"{method} {path[:200]} is not a route of this learnerhub server: it implements the Hub's API for model "
            "repositories (model_info, files, commits, branches, tags, history, settings) and its own /api/learners "
            "routes. See /docs for every route it has.")


def wrong_method_message(method: str, path: str, allowed: str) -> str:
    """Why a route refuses `method`, naming the methods it takes (its Allow header)."""
    return (f"{method} is not allowed on {path[:200]}: on a learnerhub server this route takes "
            f"{allowed or 'no method'} only. See /docs for every route it has.")


def is_api_path(path: str) -> bool:
    """Whether a request's path is under the APIs (/api or /api/...), where these explanations apply."""
    return path == "/api" or path.startswith("/api/")
