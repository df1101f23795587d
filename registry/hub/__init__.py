"""The Hugging Face Hub (or any Hub-compatible server, `learnerhub serve`) as a learner store."""
