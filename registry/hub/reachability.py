"""One quick look at a Hub endpoint before using it, so a dead one is reported once, at once, by address.

huggingface_hub retries a refused connection for about 25 s before raising a transport error the
command line would print as a traceback; a single request with a short timeout says the same thing
in a line.
"""

from __future__ import annotations

import urllib.error
import urllib.request

from ..errors import StoreError

PROBE_TIMEOUT_SECONDS = 5.0


def check_reachable(endpoint: str, *, timeout: float = PROBE_TIMEOUT_SECONDS) -> None:
    """Raise StoreError naming `endpoint` unless it answers HTTP at all (any status counts as reachable)."""
    try:
        with urllib.request.urlopen(f"{endpoint.rstrip('/')}/api/models?limit=1", timeout=timeout):
            return
    except urllib.error.HTTPError:
        return  # it answered: authentication and the like are the real requests' business
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        raise StoreError(f"Cannot reach the endpoint {endpoint}: {reason}. Check --endpoint (or HF_ENDPOINT / "
                         "LEARNERHUB_STORE) and that the server is running; set HF_HUB_OFFLINE=1 to use the "
                         "Hub cache only.") from None
