"""Measuring a filter: the paired arms a learner is evaluated in, the reference filters it must beat, and the effect."""
