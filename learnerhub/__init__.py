"""The learnerhub application: the command line and the workflows that combine the library packages.

Layers, top to bottom: `learnerhub` (this package: `cli/`, one module per command group, and the
pull-or-build workflow) -> `server` -> `registry` (the store) -> `learners` (the ML library, which reaches the
store only through its registration, `learners/store_access.py`) -> `cards` (the learner file format and the
model card). Nothing below imports this package.
"""
