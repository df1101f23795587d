"""`learnerhub serve`: a browse API, web pages and a Hugging Face Hub-compatible API over a local store.

`app` assembles the routers of `browse/` (the catalog, its JSON API and pages), `hub/` (the Hub protocol) and
`lifecycle_routes`; `context` holds what they share, `core/` what every route relies on (tokens, private
repositories, request checks, Hub-shaped errors).

Example:
    >>> from server import create_app
    >>> app = create_app("/data/learners", tokens=["secret"])
"""

from .app import create_app

__all__ = ["create_app"]
