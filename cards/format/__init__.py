"""The learner file format: learner.json and its sections, a learner's identity, its evaluation records, the
kinds table, the names derived from an identity and the base errors. The ML library (`learners`) and the store
(`registry`) above it both read it from here, the lowest layer, with the model card rendered from it.

Nothing here imports torch or the ML library: a learner kind registers itself into `kinds` from above.
"""
