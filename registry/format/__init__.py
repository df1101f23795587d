"""The learner file format: learner.json and its sections, a learner's identity, its evaluation records, the
kinds table and the base errors. The store (this package) and the ML library (`learners`, above it) both read
it from here, as transformers and huggingface_hub share the Hub's file conventions from huggingface_hub.

Nothing here imports torch or the ML library: a learner kind registers itself into `kinds` from above.
"""
