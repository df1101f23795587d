"""Fine-tuning with a filter: `training/` (the loop, the screening protocol, the transformers `Trainer`
integration) and `evaluation/` (the paired arms a learner is measured in, the reference filters it must beat,
the side-by-side comparison and the effect's statistics)."""
