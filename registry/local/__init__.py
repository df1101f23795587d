"""The embedded local store: one bare git repository per learner in a folder, its index, reads and writes."""
