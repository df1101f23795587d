"""Multistage streaming filtering: the three-stage filter, the meta predictors and the saved learner. The kind
`streaming` is registered here, with its behaviour (`plugin`)."""

from cards.format.kinds import LearnerKind, register_learner_kind
from cards.format.metadata_sections import RunInfo

from . import plugin

register_learner_kind(LearnerKind(
    "streaming", "learners.streaming.learner:StreamingLearner", card_template="streaming_learner.md",
    method_tag="multistage-data-filtering", task=("loss-threshold-prediction", "Meta predictor (loss above threshold)"),
    quality_metrics=("predictor_accuracy",), description=" (multistage streaming data filter)",
    section="run", section_type=RunInfo, builder=plugin.build, build_summary=plugin.build_summary,
    cli_arguments=plugin.cli_arguments, make_filter=plugin.make_filter, extra_arms=plugin.extra_arms,
    usage_python=plugin.USAGE, example=plugin.example))
