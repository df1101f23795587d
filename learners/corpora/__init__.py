"""Training data: corpora, contexts cut from them, pools that mix corpora, examples and tasks."""
