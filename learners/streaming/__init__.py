"""Multistage streaming filtering: the three-stage filter, the meta predictors and the saved learner."""
