"""The one place that turns an error a user can cause into one line on stderr and exit status 2.

learnerhub's own errors say what to do already; errors of the Hub client (a wrong or missing token, a
refusal by the server) are reworded here with what the server said and what to try, never a traceback.
"""

from __future__ import annotations

import sys

from learners.errors import LearnerHubError

_HINTS = {401: "Send a valid token: set HF_TOKEN (or `hf auth login`) for this endpoint.",
          403: "Your token may not do this: use a write token (of this organisation) for writes.",
          404: "Check the repository name, or send a token if it is private.",
          409: "Someone changed it meanwhile, or it exists already: look again and retry.",
          412: "Someone changed it meanwhile: retry.", 422: "The server refused the request as invalid."}


def user_message(error: BaseException) -> str | None:
    """The line to print for `error`, or None when it is a bug (to be shown as one)."""
    if isinstance(error, LearnerHubError):
        return str(error)
    hub_errors = sys.modules.get("huggingface_hub.errors")
    if hub_errors is not None and isinstance(error, hub_errors.HfHubHTTPError):
        response = getattr(error, "response", None)
        status = getattr(response, "status_code", None)
        said = (getattr(error, "server_message", None) or str(error).splitlines()[0]).strip().replace("\n", " ")
        where = getattr(getattr(response, "request", None), "url", None)
        return (f"The endpoint{f' ({where})' if where else ''} answered {status or 'an error'}: {said} "
                f"{_HINTS.get(status, '')}").strip()
    return None
