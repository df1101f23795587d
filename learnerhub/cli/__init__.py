"""`learnerhub` on the command line: `main` parses, dispatches and turns every known error into one line and exit 2."""

from learnerhub.cli.main import main

__all__ = ["main"]
