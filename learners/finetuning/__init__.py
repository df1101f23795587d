"""Fine-tuning with a filter: the loop, the transformers `Trainer` integration, the reference filters a
learner is measured against, and the paired evaluation with its statistics."""
