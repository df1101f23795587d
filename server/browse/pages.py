"""Server-rendered pages (Jinja templates): the searchable list, a learner's page, the leaderboards.

The card is the repository's README.md rendered to HTML (raw HTML in it is escaped, not trusted);
its images (the perplexity plot in `assets/`) are served from the git store by the resolve route.
"""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markdown_it import MarkdownIt

from registry.constants import CARD_FILE
from cards.format.naming import canonical_base_model

from ..context import ServerContext, readable
from ..core.errors import HubError, repo_not_found
from ..core.paths import check_repo_id
from ..core.visibility import private_access
from ..hub.models import split_front_matter
from ..lifecycle_routes import shown_lifecycle
from .catalog import ListQuery
from .learner_page import effect_summary, usage
from .metrics import is_score, lower_is_better

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
_markdown = MarkdownIt("commonmark", {"html": False}).enable("table")
_RELATIVE_LINK = re.compile(r"(\]\()(?![a-z]+:|/|#)([^)\s]+)")
PLOT_NAMES = ("eval_plot", "perplexity", "curve", "plot")   # the evaluation leads, then older plot names


def render_card(text: str, *, file_url: str) -> str:
    """Card markdown (front matter dropped) -> HTML, relative links pointing at the version's files."""
    text = split_front_matter(text)[1]
    return _markdown.render(_RELATIVE_LINK.sub(lambda m: f"{m.group(1)}{file_url}{m.group(2)}", text))


@router.get("/", response_class=HTMLResponse)
def list_page(request: Request, q: str | None = None, corpus: str | None = None, base_model: str | None = None,
              works_with: str | None = None, sort: str = "effect", page: int = 1,
              ctx: ServerContext = Depends(readable)):
    query = ListQuery(search=q or None, corpus=corpus or None,
                      base_model=canonical_base_model(base_model) if base_model else None,
                      works_with=works_with or None, sort=sort,
                      page=max(1, page), per_page=25, show_private=private_access(ctx.tokens, request))
    result = ctx.catalog.query(query)
    return templates.TemplateResponse(request, "list.html", {
        "result": result, "q": q or "", "corpus": corpus or "", "base_model": base_model or "", "sort": sort,
        "works_with": works_with or "",
        "corpora": ctx.catalog.counts("corpus", show_private=query.show_private),
        "base_models": ctx.catalog.counts("base_model", show_private=query.show_private)})


@router.get("/learners/{org}/{name}", response_class=HTMLResponse)
def learner_page(request: Request, org: str, name: str, version: str | None = None,
                 ctx: ServerContext = Depends(readable)):
    repo_id = check_repo_id(org, name)
    summary = ctx.catalog.summary(repo_id)
    if summary is None:
        raise repo_not_found(repo_id)
    wanted = version or summary.latest
    facts = ctx.catalog.facts(repo_id, wanted) if wanted in summary.versions.split() else None  # cache bounded
    if facts is None:
        raise HubError(404, f"{repo_id} has no version {version!r}.", code="RevisionNotFound")
    file_url = f"/{repo_id}/resolve/{facts.commit}/"
    files = ctx.catalog.files(repo_id, facts.commit)
    plots = [f["path"] for f in files if f["path"].startswith("assets/")
             and f["path"].lower().endswith((".png", ".svg", ".jpg", ".jpeg", ".gif"))]
    plots.sort(key=lambda p: next((i for i, word in enumerate(PLOT_NAMES) if word in p.lower()), len(PLOT_NAMES)))
    card = ctx.store.reader.read_text(repo_id, facts.commit, CARD_FILE) or ""
    lifecycle, lifecycle_warning = shown_lifecycle(ctx, repo_id)
    return templates.TemplateResponse(request, "learner.html", {
        "lifecycle": lifecycle, "lifecycle_warning": lifecycle_warning,
        "summary": summary, "facts": facts, "versions": ctx.catalog.versions(repo_id), "files": files,
        "file_url": file_url, "plot": plots[0] if plots else None, "card_html": render_card(card, file_url=file_url),
        "lower_is_better": lower_is_better, "is_score": is_score,
        "use": usage(summary, facts), "effect": effect_summary(facts)})


@router.get("/leaderboard", response_class=HTMLResponse)
def leaderboard_page(request: Request, corpus: str | None = None, base_model: str | None = None,
                     metric: str | None = None, ctx: ServerContext = Depends(readable)):
    board, show_private = None, private_access(ctx.tokens, request)
    if corpus and base_model:
        board = ctx.catalog.leaderboard(corpus, canonical_base_model(base_model), metric=metric or None,
                                        show_private=show_private)
    pairs = sorted({(s.corpus, s.base_model) for s in ctx.catalog.visible(show_private) if s.corpus and s.base_model})
    return templates.TemplateResponse(request, "leaderboard.html", {
        "board": board, "pairs": pairs, "corpus": corpus or "", "base_model": base_model or ""})
