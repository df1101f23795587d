"""Secondary learners that choose which contexts a language model should fine-tune on.

Example:
    >>> from learners import load_base_model, load_learner, InformationGainFilter, finetune
    >>> model, tokenizer, ref = load_base_model("smollm2")
    >>> learner = load_learner("igf-smollm2-kjv", model, tokenizer)

Names are imported on first use, so `import learners.errors` (as the registry does) stays cheap and
does not pull in torch.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "BaseModelRef": "base_models", "load_base_model": "base_models",
    "BuildConfig": "build", "build_information_gain_learner": "build",
    "Corpus": "corpus", "load_corpus": "corpus",
    "BaseModelMismatchError": "errors", "BaseModelNotFoundError": "errors", "CorpusError": "errors",
    "LearnerFormatError": "errors", "LearnerHubError": "errors",
    "ConstantThreshold": "filters", "ContextFilter": "filters", "InformationGainFilter": "filters",
    "ShiftingThreshold": "filters", "TopFraction": "filters",
    "EvaluationConfig": "evaluation", "evaluate_learner": "evaluation",
    "RandomFilter": "reference_filters", "HighLossFilter": "reference_filters", "OracleFilter": "reference_filters",
    "BagOfTokensHead": "bag_of_tokens_head", "join_corpora": "corpus",
    "FinetuneConfig": "finetuning", "FinetuneResult": "finetuning", "finetune": "finetuning",
    "InformationGainLearner": "learner", "load_learner": "loading",
    "ExactInformationGainProbe": "probes", "FastInformationGainProbe": "probes",
    "FilteredDataset": "trainer", "FilteringTrainer": "trainer",
    "BernoulliNaiveBayes": "meta_predictors", "HashedLogisticRegression": "meta_predictors",
    "make_predictor": "meta_predictors",
    "StreamingConfig": "streaming", "StreamingFilter": "streaming",
    "StreamingBuildConfig": "streaming_learner", "StreamingLearner": "streaming_learner",
    "build_streaming_learner": "streaming_learner",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'learners' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    globals()[name] = value
    return value
