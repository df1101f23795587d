"""Information gain filtration: where information gain is computed (`information_gain`), the heads that
predict it (`conv_head`, `bag_of_tokens_head`) and their training, the build, the thresholds, the filter
and the learner. The kind `igf` is registered here, with its behaviour (`plugin`)."""

from cards.format.kinds import LearnerKind, register_learner_kind
from cards.format.metadata_sections import ProbeInfo

from . import plugin

register_learner_kind(LearnerKind(
    "igf", "learners.igf.learner:InformationGainLearner", card_template="igf_learner.md",
    method_tag="information-gain-filtration", task=("information-gain-prediction", "Information gain prediction"),
    quality_metrics=("test_spearman",), needs_evaluation=True, description=" (information gain filtration)",
    section="probe", section_type=ProbeInfo, builder=plugin.build, build_summary=plugin.build_summary,
    make_filter=plugin.make_filter, usage_python=plugin.USAGE, example=plugin.example, evaluable=True))
