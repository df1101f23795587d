"""Errors of the Hugging Face client, said in one line with what to try: for the command line and for the
Python entry points (`Learner.push_to_hub`, `load_learner`), which raise `HubRequestError` with that line.

A refusal by the server (HfHubHTTPError) keeps what the server said and adds a hint by status; the
client's own failures (a malformed URI, a token it cannot send, a dropped connection) are named as such.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from ..errors import StoreError

_HINTS = {401: "Send a valid token: set HF_TOKEN (or `hf auth login`) for this endpoint.",
          403: "Your token may not do this: use a write token (of this organisation) for writes.",
          404: "Check the repository name, or send a token if it is private.",
          409: "Someone changed it meanwhile, or it exists already: look again and retry.",
          412: "Someone changed it meanwhile: retry.", 422: "The server refused the request as invalid."}


class HubRequestError(StoreError):
    """A request to a Hub-compatible endpoint failed: refused by the server, or never properly sent."""


def hub_error_message(error: BaseException) -> str | None:
    """The one line to show for an error of huggingface_hub (or of its HTTP client); None for anything else."""
    hub_errors = sys.modules.get("huggingface_hub.errors")
    if hub_errors is not None and isinstance(error, hub_errors.HfHubHTTPError):
        response = getattr(error, "response", None)
        status = getattr(response, "status_code", None)
        said = (getattr(error, "server_message", None) or str(error).splitlines()[0]).strip().replace("\n", " ")
        said = said if said.endswith((".", "!", "?")) else f"{said}."
        where = getattr(getattr(response, "request", None), "url", None)
        return (f"The endpoint{f' ({where})' if where else ''} answered {status or 'an error'}: {said} "
                f"{_HINTS.get(status, '')}").strip()
    if hub_errors is not None and isinstance(error, hub_errors.HfUriError):
        return (f"The Hugging Face client could not use this repository or endpoint ({_first_line(error)}). "
                "Check the repository id (ORG/NAME) and --endpoint, and send a token (HF_TOKEN) for writes.")
    http = sys.modules.get("httpx2") or sys.modules.get("httpx")
    if http is not None and isinstance(error, (http.HTTPError, http.InvalidURL)):
        return (f"The request to the endpoint failed before an answer ({type(error).__name__}: {_first_line(error)}). "
                "Check --endpoint (or HF_ENDPOINT), that the server is running, and that the token is a plain, "
                "non-empty string.")
    return None


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0][:300] if lines else type(error).__name__


@contextmanager
def hub_errors_said_plainly() -> Iterator[None]:
    """Re-raise an error of the Hugging Face client as HubRequestError with its one-line message."""
    try:
        yield
    except Exception as error:   # noqa: BLE001 (only the client's errors are reworded; the rest go on as they are)
        message = hub_error_message(error)
        if message is None:
            raise
        raise HubRequestError(message) from error
