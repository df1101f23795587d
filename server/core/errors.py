"""Errors in the Hugging Face Hub's shape, so that unmodified huggingface_hub raises the right exception.

The client reads `X-Error-Code` (RepoNotFound, RevisionNotFound, EntryNotFound) to pick the exception
class and `X-Error-Message` / `{"error": ...}` for its message; browsers and httpx get the same JSON.
Every registry error (`registry.errors`) is answered here too, by `as_hub_error`'s one table.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from registry.errors import (EntryNotFoundError, IntegrityError, InvalidChangeError, InvalidVersionError,
                             LearnerNotFoundError, LifecycleError, PreconditionFailedError, ProtectedRefError,
                             RegistryError, RepositoryConflictError, RepositoryNotFoundError, RevisionNotFoundError,
                             StoreConflictError, StoreError, VersionExistsError, VersionNotFoundError)

from .unsupported_routes import is_api_path, missing_route_message, wrong_method_message

INVALID_CREDENTIALS = "Invalid credentials in Authorization header"


class HubError(Exception):
    """An error answered as `{"error": message}` with status `status` and, if given, X-Error-Code."""

    def __init__(self, status: int, message: str, *, code: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.headers = headers or {}


def repo_not_found(repo_id: str) -> HubError:
    return HubError(404, f"Repository {repo_id} not found. Check the name, or create it first.", code="RepoNotFound")


def revision_not_found(repo_id: str, revision: str, reason: str | None = None) -> HubError:
    why = reason or "use a branch, a tag or a commit sha (7 or more of its hex digits)"
    return HubError(404, f"Revision {revision!r} not found in {repo_id}: {why}.", code="RevisionNotFound")


def entry_not_found(repo_id: str, path: str, commit: str) -> HubError:
    return HubError(404, f"{path} does not exist in {repo_id} at commit {commit[:12]}.", code="EntryNotFound",
                    headers={"X-Repo-Commit": commit})


def unprocessable(message: str) -> HubError:
    return HubError(422, message, code="InvalidRequest")


#: Every registry error -> (status, X-Error-Code): what the Hub answers for each, first match wins (subclasses
#: before their bases). The one place registry errors become HTTP errors; none becomes a bare 500.
REGISTRY_ERRORS: dict[type[Exception], tuple[int, str]] = {
    EntryNotFoundError: (404, "EntryNotFound"), VersionNotFoundError: (404, "RevisionNotFound"),
    LearnerNotFoundError: (404, "RepoNotFound"), InvalidChangeError: (422, "InvalidRequest"),
    InvalidVersionError: (422, "InvalidRequest"), RepositoryConflictError: (422, "InvalidRequest"),
    IntegrityError: (422, "InvalidRequest"), ProtectedRefError: (403, "Forbidden"),
    PreconditionFailedError: (412, "PreconditionFailed"), StoreConflictError: (409, "Conflict"),
    VersionExistsError: (409, "Conflict"), LifecycleError: (409, "Conflict"),
    StoreError: (503, "StoreUnavailable"), RegistryError: (422, "InvalidRequest"),
}


def as_hub_error(error: Exception) -> HubError:
    """A registry error in the Hub's shape (the two not-found errors with the server's own wording); the
    X-Learnerhub-Error header names its class, so a learnerhub client can raise the same error."""
    if isinstance(error, RepositoryNotFoundError):
        return repo_not_found(error.repo_id)
    if isinstance(error, RevisionNotFoundError):
        return revision_not_found(error.repo_id, error.revision, error.reason)
    status, code = next(answer for kind, answer in REGISTRY_ERRORS.items() if isinstance(error, kind))
    return HubError(status, str(error), code=code, headers={"X-Learnerhub-Error": type(error).__name__})


def error_response(status: int, message: str, *, code: str | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    """The Hub's error shape: JSON body plus the headers the client parses (message kept to one line)."""
    extra = {"X-Error-Message": header_safe(message)}
    if code:
        extra["X-Error-Code"] = code
    return JSONResponse({"error": message}, status_code=status, headers={**(headers or {}), **extra})


def header_safe(text: str, limit: int = 500) -> str:
    """`text` as a header value that can always be written: printable ASCII only, one line, bounded.

    An error message may echo a name the client sent; a control character in it (CR, LF, NUL, ESC)
    would otherwise make the HTTP layer refuse the whole response and drop the connection.
    """
    return "".join(c if " " <= c <= "~" else "?" if c not in "\r\n\t" else " " for c in text[:limit])


def install_error_handlers(app: FastAPI) -> None:
    """Every error the app raises, FastAPI's validation errors included, leaves in the Hub's shape."""

    @app.exception_handler(HubError)
    async def _hub_error(request: Request, error: HubError) -> JSONResponse:
        return error_response(error.status, error.message, code=error.code, headers=error.headers)

    async def _store_error(request: Request, error: Exception) -> JSONResponse:   # every RegistryError
        if isinstance(error, RepositoryNotFoundError) and error.repo_id.startswith("api/") \
                and is_api_path(request.url.path):   # /api/X taken for a repository's URL (/ORG/NAME)
            return error_response(404, missing_route_message(request.method, request.url.path))
        hub = as_hub_error(error)
        return error_response(hub.status, hub.message, code=hub.code, headers=hub.headers)

    app.add_exception_handler(RegistryError, _store_error)

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        problems = "; ".join(f"{'.'.join(map(str, e.get('loc', ())))}: {e.get('msg')}" for e in error.errors())
        return error_response(422, f"Invalid request: {problems}", code="InvalidRequest")

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        """The router's own refusals; under /api, a bare "Not Found" or "Method Not Allowed" is explained."""
        message, path = str(error.detail), request.url.path
        if is_api_path(path) and error.status_code == 404 and message == "Not Found":
            message = missing_route_message(request.method, path)
        elif is_api_path(path) and error.status_code == 405 and message == "Method Not Allowed":
            message = wrong_method_message(request.method, path, (error.headers or {}).get("Allow", ""))
        return error_response(error.status_code, message, headers=dict(error.headers or {}))
