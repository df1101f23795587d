"""Secondary learners that choose which contexts a language model should fine-tune on.

Example:
    >>> from learners import load_base_model, load_learner, InformationGainFilter, finetune
    >>> model, tokenizer, ref = load_base_model("smollm2")
    >>> learner = load_learner("igf-smollm2-kjv", model, tokenizer)

Names are imported on first use, so `import learners` stays cheap and does not pull in torch. Importing it
registers the shipped learner kinds (`igf`, `streaming`, `igf_text`) in the kinds table of the file format
below it (`cards.format.kinds`), which the store's cards and listings read; a kind's hooks import torch
only when called.
"""

from __future__ import annotations

import importlib

from . import igf, streaming, text_igf  # noqa: F401 (each registers its kind)

_EXPORTS = {
    "BaseModelRef": "base_models", "load_base_model": "base_models",
    "BuildConfig": "igf.build", "build_information_gain_learner": "igf.build",
    "Corpus": "corpora.corpus", "load_corpus": "corpora.corpus",
    "BaseModelMismatchError": "errors", "BaseModelNotFoundError": "errors", "CorpusError": "errors",
    "LearnerFormatError": "cards.format.errors", "LearnerHubError": "cards.format.errors",
    "ConstantThreshold": "igf.thresholds", "ContextFilter": "context_filter", "InformationGainFilter": "igf.filter",
    "ShiftingThreshold": "igf.thresholds", "TopFraction": "igf.thresholds", "Learner": "learner",
    "EvaluationConfig": "finetuning.evaluation.arms", "evaluate_learner": "finetuning.evaluation.arms",
    "RandomFilter": "finetuning.evaluation.reference_filters",
    "HighLossFilter": "finetuning.evaluation.reference_filters",
    "OracleFilter": "finetuning.evaluation.reference_filters",
    "BagOfTokensHead": "igf.bag_of_tokens_head", "join_corpora": "corpora.corpus",
    "FinetuneConfig": "finetuning.training.loop", "FinetuneResult": "finetuning.training.loop",
    "finetune": "finetuning.training.loop",
    "InformationGainLearner": "igf.learner", "load_learner": "loading",
    "ExactInformationGainProbe": "igf.information_gain", "FastInformationGainProbe": "igf.information_gain",
    "FilteredDataset": "finetuning.training.trainer", "FilteringTrainer": "finetuning.training.trainer",
    "BernoulliNaiveBayes": "streaming.meta_predictors", "HashedLogisticRegression": "streaming.meta_predictors",
    "make_predictor": "streaming.meta_predictors",
    "StreamingConfig": "streaming.filter", "StreamingFilter": "streaming.filter",
    "StreamingBuildConfig": "streaming.learner", "StreamingLearner": "streaming.learner",
    "build_streaming_learner": "streaming.learner",
    "TextInformationGainLearner": "text_igf.learner", "build_text_learner": "text_igf.build",
    "LearnerMetadata": "cards.format.metadata", "BaseModelInfo": "cards.format.metadata_sections",
    "CorpusInfo": "cards.format.metadata_sections", "ProbeInfo": "cards.format.metadata_sections",
    "RunInfo": "cards.format.metadata_sections", "DocumentScores": "document_scores",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'learners' has no attribute {name!r}")
    module = _EXPORTS[name]   # a module of this package, or of the file format below it (`cards.format.*`)
    value = getattr(importlib.import_module(module if module.startswith("cards.") else f".{module}", __name__), name)
    globals()[name] = value
    return value
