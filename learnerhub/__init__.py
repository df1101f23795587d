"""The learnerhub application: the command line and the workflows that combine the library packages.

Layers, top to bottom: `learnerhub` (this package: `cli/`, one module per command group, and the
pull-or-build workflow) -> `server` -> `learners` -> `registry` (the store client and the learner file
format, below the ML library as huggingface_hub is below transformers). Nothing below imports this package.
"""
