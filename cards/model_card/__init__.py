"""The model card of a published learner, and what its pages share with it: the headline evaluation, the usage."""
