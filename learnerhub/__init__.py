"""The learnerhub application: the command line and the workflows that combine the library packages.

Layers, top to bottom: `learnerhub` (this package: `cli/`, one module per command group, and the
pull-or-build workflow) -> `server` -> `registry` -> `learners`. Nothing below imports this package.
"""
