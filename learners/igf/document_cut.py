"""Where the default score places whole target documents: the cut for filtering documents, not contexts.

Why: a data pipeline keeps or drops a document by the mean of its contexts' default scores. A mean varies
less than one context's score, so the contexts' cut (the target contexts' 10% quantile) is looser for
documents: on R5 it kept 54% of the near-domain pages (74% of their tokens) where the loop keeps 57% of their
contexts; the same quantile of target *documents'* means kept 15.5% (benchmarks/results/regimes_R5_documents.json).
Calibrated at build on target documents the word-order model did not see, recorded in learner.json;
`InformationGainLearner.default_document_cut` reads it.
"""

from __future__ import annotations

import numpy as np
import torch

from .learner import DOCUMENT_QUANTILES, InformationGainLearner

DOCUMENT_COUNT = "target_calibration_documents"
#: Fewer calibration documents than this give no document cut (a 10% quantile of a handful is noise).
MIN_DOCUMENTS = 10


def calibrate_document_cut(learner: InformationGainLearner, documents: list[str]) -> None:
    """Record where `documents` (held-out target text, whole) fall on the default score, averaged over each one's
    contexts as `score_documents` averages them; nothing when fewer than MIN_DOCUMENTS have a score."""
    means = learner.score_documents(documents, score="default").mean
    means = means[~np.isnan(means)]
    if len(means) >= MIN_DOCUMENTS:
        percentiles = torch.quantile(torch.from_numpy(means).float(), torch.linspace(0, 1, 101)).tolist()
        learner.metadata.metrics.update({DOCUMENT_QUANTILES: [round(q, 5) for q in percentiles],
                                         DOCUMENT_COUNT: len(means)})
