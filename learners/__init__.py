"""Secondary learners that choose which contexts a language model should fine-tune on.

Example:
    >>> from learners import load_base_model, load_learner, InformationGainFilter, finetune
    >>> model, tokenizer, ref = load_base_model("smollm2")
    >>> learner = load_learner("igf-smollm2-kjv", model, tokenizer)
"""

from .base_models import BaseModelRef, load_base_model
from .build import BuildConfig, build_information_gain_learner
from .corpus import Corpus, load_corpus
from .errors import (
                     BaseModelMismatchError,
                     BaseModelNotFoundError,
                     CorpusError,
                     LearnerFormatError,
                     LearnerHubError,
)
from .filters import (
                     ConstantThreshold,
                     ContextFilter,
                     InformationGainFilter,
                     ShiftingThreshold,
)
from .finetune import FinetuneConfig, FinetuneResult, finetune
from .learner import InformationGainLearner
from .loading import load_learner
from .probes import ExactInformationGainProbe, FastInformationGainProbe

__all__ = [
    "BaseModelMismatchError", "BaseModelNotFoundError", "BaseModelRef", "BuildConfig", "ConstantThreshold",
    "ContextFilter", "Corpus", "CorpusError", "ExactInformationGainProbe", "FastInformationGainProbe",
    "FinetuneConfig", "FinetuneResult", "InformationGainFilter", "InformationGainLearner", "LearnerFormatError",
    "LearnerHubError", "ShiftingThreshold", "build_information_gain_learner", "finetune", "load_base_model",
    "load_corpus", "load_learner",
]
