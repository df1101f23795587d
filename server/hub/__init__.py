"""The Hugging Face Hub HTTP protocol over the store: repositories, refs, commits, downloads, history, and the
repository URLs the Hub client prints."""
