"""`learnerhub` on the command line: `main.main` parses, dispatches and turns every known error into one
line and exit 2 (`python -m learnerhub.cli` runs it too)."""
