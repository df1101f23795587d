"""Training with a filter: the fine-tuning loop, the screening protocol it shares with the `Trainer` integration."""
