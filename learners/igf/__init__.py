"""Information gain filtration: where information gain is computed (`information_gain`), the heads that
predict it (`conv_head`, `bag_of_tokens_head`) and their training, the build, the thresholds, the filter
and the learner."""
