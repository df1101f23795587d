"""The one place that turns an error a user can cause into one line on stderr and exit status 2.

learnerhub's own errors say what to do already; errors of the Hub client (a wrong or missing token, a
refusal by the server) are reworded with what the server said and what to try, never a traceback: the
wording is `registry.hub.errors`', shared with the Python entry points (`Learner.push_to_hub`).
"""

from __future__ import annotations

from cards.format.errors import LearnerHubError
from registry.hub.errors import hub_error_message


def user_message(error: BaseException) -> str | None:
    """The line to print for `error`, or None when it is a bug (to be shown as one)."""
    if isinstance(error, LearnerHubError):
        return str(error)
    return hub_error_message(error)
