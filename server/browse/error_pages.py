"""Error pages for people: a browser that asks for a page (Accept: text/html, not an API or download route)
gets an HTML page with what went wrong, a link back and, for a mistyped learner name, the closest names.

The Hub-shaped JSON errors (`server.core.errors`) stay what every API and Hub route answers, byte for byte:
this module wraps the installed handlers and only replaces their answer for a browser's page request.
huggingface_hub, httpx and curl never send text/html, so they see the JSON they always saw.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

#: Paths whose errors are always JSON: the APIs, the OpenAPI schema, files (a download tool may accept anything).
_MACHINE_ROUTES = ("/api/", "/openapi.json", "/static/")
_TITLES = {400: "Bad request", 401: "Sign-in needed", 403: "Not allowed", 404: "Not found",
           405: "Not allowed here", 409: "Conflict", 412: "Changed meanwhile", 413: "Too large",
           422: "Cannot use that request"}


def wants_html(request: Request) -> bool:
    """Whether this request is a person's browser asking for a page (not an API or Hub client)."""
    path = request.url.path
    if "text/html" not in request.headers.get("accept", "") or path.startswith(_MACHINE_ROUTES) or path == "/api":
        return False
    return "resolve" not in path.strip("/").split("/")[2:3]


def install_error_pages(app: FastAPI, templates: Jinja2Templates) -> None:
    """Wrap every installed exception handler: browsers' page requests get `error.html`, the rest the JSON."""
    for key, handler in list(app.exception_handlers.items()):
        if isinstance(key, type) and issubclass(key, Exception) and key is not Exception:
            app.exception_handlers[key] = _for_people(handler, templates)


def _for_people(handler: Callable[[Request, Exception], Awaitable[Response]],
                templates: Jinja2Templates) -> Callable[[Request, Exception], Awaitable[Response]]:
    async def answer(request: Request, error: Exception) -> Response:
        response = await handler(request, error)
        if response.status_code < 400 or not wants_html(request):
            return response
        try:
            message = json.loads(response.body).get("error", "")
        except (ValueError, AttributeError):
            message = ""
        status = response.status_code
        if status == 404 and message in ("", "Not Found"):
            message = f"There is no page at {request.url.path}."
        return templates.TemplateResponse(request, "error.html", {
            "status": status, "title": _TITLES.get(status, "Something went wrong"), "message": message,
            "suggestions": suggestions(request) if status == 404 else []},
            status_code=status, headers={k: v for k, v in response.headers.items() if k.lower().startswith("x-")})
    return answer


def suggestions(request: Request, *, limit: int = 3) -> list[str]:
    """Learner names close to the one in a /learners/ORG/NAME or /ORG/NAME path that does not exist (only
    names the request may see; none when reads need a token it lacks)."""
    from ..core.visibility import private_access

    parts = request.url.path.strip("/").split("/")
    if parts[:1] == ["learners"]:
        parts = parts[1:]
    if len(parts) < 2:
        return []
    ctx: Any = request.app.state.context
    try:
        ctx.tokens.check(request, write=False)
    except Exception:
        return []
    names = [s.repo_id for s in ctx.catalog.visible(private_access(ctx.tokens, request))]
    wanted = f"{parts[0]}/{parts[1]}"
    close = difflib.get_close_matches(wanted, names, n=limit, cutoff=0.6)
    by_name = difflib.get_close_matches(parts[1], [n.split("/", 1)[1] for n in names], n=limit, cutoff=0.6)
    close += [n for n in names if n.split("/", 1)[1] in by_name and n not in close]
    return close[:limit]
