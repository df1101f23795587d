"""Text-level information gain filtration: a learner that reads a context's text, not a base model's token
ids, so one learner works next to any base model. Hashed word and character n-grams (`features`), a ridge
head over them (`head`), the build from a labelling model's measured gains (`build`) and the learner
(`learner`). The kind `igf_text` is registered here, with its behaviour (`plugin`); nothing heavy is imported
until a learner of this kind is loaded or built."""

from cards.format.kinds import LearnerKind, register_learner_kind
from cards.format.metadata_sections import ProbeInfo

from ..igf import plugin as igf_plugin
from . import plugin

register_learner_kind(LearnerKind(
    "igf_text", "learners.text_igf.learner:TextInformationGainLearner", card_template="igf_text_learner.md",
    method_tag="information-gain-filtration", task=("information-gain-prediction", "Information gain prediction"),
    quality_metrics=("test_spearman",), needs_evaluation=True, any_base_model=True,
    section="probe", section_type=ProbeInfo, builder=plugin.build, check_options=plugin.check_options,
    build_summary=plugin.build_summary, make_filter=igf_plugin.make_filter,
    usage_python=igf_plugin.USAGE, example=plugin.example, evaluable=True))
