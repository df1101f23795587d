"""A learner as datatrove pipeline steps: `LearnerScorer` writes its score into `doc.metadata`,
`LearnerFilter` keeps the documents at a threshold.

Why: datatrove is how large corpora are filtered in practice (readers, writers, sharded tasks on a
laptop or a cluster); a learner that plugs into it needs no pipeline of its own. Each step names the
learner by folder or published id and loads it (with its base model) once per task, inside the task,
so the step itself stays small to pickle for the executor. Scores are `Learner.score_documents` on
`doc.text`, in batches, with the same choice of score as `learnerhub score --score` (by default what the
learner's default threshold cuts), so they equal the library's on the same documents, and
`LearnerFilter`'s default threshold keeps what fine-tuning with the default keeps. An empty document's
score is None in the metadata, and the filter drops it.

Needs the optional extra: `pip install "learnerhub[datatrove]"`.

Example:
    >>> from datatrove.executor import LocalPipelineExecutor
    >>> from datatrove.pipeline.readers import JsonlReader
    >>> from datatrove.pipeline.writers import JsonlWriter
    >>> LocalPipelineExecutor([JsonlReader("corpus/"), LearnerScorer("igf-smollm2-kjv"),
    ...                        LearnerFilter("igf-smollm2-kjv"), JsonlWriter("kept/")],
    ...                       tasks=4, workers=2).run()
"""

from __future__ import annotations

import math

from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep
from datatrove.pipeline.filters.base_filter import BaseFilter
from datatrove.utils.batching import batched

from ..learner import SCORES, Learner
from .filter_shards import RECORDED_CUTS

SCORE_KEY = "learner_score"


class _LearnerLoader:
    """The learner a step names, loaded on first use in the task that runs it (never pickled)."""

    def _init_loader(self, learner: str, base_model: str | None, aggregate: str, key: str, score: str) -> None:
        if score not in SCORES:
            raise ValueError(f"score must be one of {SCORES}, not {score!r}.")
        self.learner_source, self.base_model, self.aggregate, self.key = str(learner), base_model, aggregate, key
        self.score_name = score
        self._learner: Learner | None = None

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_learner": None, "_cut": None}

    def learner(self) -> Learner:
        if self._learner is None:
            from .scoring_learner import learner_folder, load_scoring_learner

            self._learner = load_scoring_learner(learner_folder(self.learner_source), self.base_model)
        return self._learner

    def score(self, documents: list[Document]) -> list[float | None]:
        """Score `documents` and record each score in its metadata (None where there was nothing to score)."""
        scores = self.learner().score_documents([doc.text for doc in documents],
                                                score=self.score_name).aggregate(self.aggregate)
        recorded = [None if math.isnan(score) else float(score) for score in scores]
        for doc, score in zip(documents, recorded):
            doc.metadata[self.key] = score
        return recorded


class LearnerScorer(PipelineStep, _LearnerLoader):
    """Adds the learner's score of each document to `doc.metadata[key]` and passes every document on."""

    name = "🎓 learner score"
    type = "📊 - STATS"

    def __init__(self, learner: str, *, base_model: str | None = None, key: str = SCORE_KEY,
                 aggregate: str = "mean", score: str = "default", batch_size: int = 256) -> None:
        PipelineStep.__init__(self)
        self._init_loader(learner, base_model, aggregate, key, score)
        self.batch_size = batch_size

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        for batch in batched(data, self.batch_size):
            with self.track_time("batch"):
                self.score(batch)
            for doc in batch:
                self.stat_update("scored")
                yield doc


class LearnerFilter(BaseFilter, _LearnerLoader):
    """Keeps the documents the learner scores at least `threshold` (the score is kept in the metadata too);
    `threshold="default"` is the learner's default cut (`Learner.default_cut`), on the default's score;
    `threshold="documents"` the same quantile of whole target documents (`Learner.default_document_cut`)."""

    name = "🎓 learner filter"

    def __init__(self, learner: str, threshold: float | str = "default", *, base_model: str | None = None,
                 key: str = SCORE_KEY, aggregate: str = "mean", score: str = "default", batch_size: int = 256,
                 exclusion_writer=None) -> None:
        BaseFilter.__init__(self, exclusion_writer=exclusion_writer, batch_size=batch_size)
        if threshold in RECORDED_CUTS and score != "default":
            raise ValueError(f"threshold={threshold!r} is a cut on the default's score: leave score='default'.")
        self._init_loader(learner, base_model, aggregate, key, score)
        self.threshold = threshold if threshold in RECORDED_CUTS else float(threshold)
        self._cut: float | None = None

    def cut(self) -> float:
        """The threshold as a number (the learner's default cut when `threshold="default"`, its cut for documents
        when `"documents"`)."""
        if self.threshold not in RECORDED_CUTS:
            return self.threshold
        if self._cut is None:   # resolved once per task, not per batch
            learner = self.learner()
            self._cut = learner.default_cut() if self.threshold == "default" else learner.default_document_cut()
            if self._cut is None:
                raise ValueError(f"This {learner.kind} learner has no {RECORDED_CUTS[self.threshold][1]}: pass a "
                                 "number" + ("" if self.threshold == "default" else " or 'default'") + ".")
        return self._cut

    def filter_batch(self, batch: list[Document]) -> list[bool | tuple[bool, str]]:
        cut = self.cut()
        return [(score is not None and score >= cut) or (False, "below_threshold")
                for score in self.score(batch)]

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        return self.filter_batch([doc])[0]
