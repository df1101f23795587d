"""`learnerhub serve`: a browse API, web pages and a Hugging Face Hub-compatible API over a local store.

Example:
    >>> from server import create_app
    >>> app = create_app("/data/learners", tokens=["secret"])
"""

from .app import create_app

__all__ = ["create_app"]
