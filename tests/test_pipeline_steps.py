"""The learner in other pipelines: datatrove's scorer and filter steps on its local executor, and the
`datasets` one-liner the README shows; both must give exactly `score_texts`'s scores."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest
from scoring_helpers import build_vocabulary_learner, mixed_documents, write_jsonl


@pytest.fixture()
def learner_and_folder(tmp_path, tokenizer, tiny_model_folder):
    folder = tmp_path / "learner"
    return build_vocabulary_learner(tokenizer, tiny_model_folder, folder), folder


def test_datatrove_steps_on_the_local_executor_keep_what_score_texts_scores_high(tmp_path, learner_and_folder):
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter

    from learners.pipeline.datatrove_steps import LearnerFilter, LearnerScorer

    learner, folder = learner_and_folder
    documents = {}
    (tmp_path / "in").mkdir()
    for part in range(3):
        texts = mixed_documents(12, seed=part)
        write_jsonl(tmp_path / "in" / f"part-{part}.jsonl", texts, prefix=f"p{part}")
        documents.update({f"p{part}-{i}": text for i, text in enumerate(texts)})
    pipeline = [JsonlReader(str(tmp_path / "in")), LearnerScorer(str(folder), batch_size=5),
                LearnerFilter(str(folder), threshold=0.0, key="kept_score", batch_size=7),
                JsonlWriter(str(tmp_path / "out"), output_filename="${rank}.jsonl.gz")]
    LocalPipelineExecutor(pipeline, tasks=2, workers=1, logging_dir=str(tmp_path / "logs")).run()

    outputs = sorted((tmp_path / "out").glob("*.jsonl.gz"))
    assert len(outputs) == 2   # one per task
    kept = [json.loads(line) for path in outputs for line in gzip.decompress(path.read_bytes()).decode().splitlines()]
    ids = list(documents)
    expected = dict(zip(ids, learner.score_texts([documents[i] for i in ids])))
    assert sorted(doc["id"] for doc in kept) == sorted(i for i, score in expected.items() if score >= 0.0)
    assert 0 < len(kept) < len(ids)
    for doc in kept:
        assert doc["metadata"]["learner_score"] == pytest.approx(expected[doc["id"]], abs=1e-9)
        assert doc["metadata"]["kept_score"] == doc["metadata"]["learner_score"]


def test_the_datasets_one_liner_gives_score_texts_scores(learner_and_folder):
    from datasets import Dataset

    learner, _ = learner_and_folder
    texts = mixed_documents(25, seed=4)
    scored = Dataset.from_dict({"text": texts}).map(lambda b: {"score": learner.score_texts(b["text"])},
                                                    batched=True, batch_size=8, num_proc=2)
    assert np.allclose(scored["score"], learner.score_texts(texts))


def test_the_steps_need_no_loaded_learner_to_pickle(learner_and_folder):
    import pickle

    from learners.pipeline.datatrove_steps import LearnerFilter

    _, folder = learner_and_folder
    step = LearnerFilter(str(folder), threshold=1.0)
    step.learner()
    copy = pickle.loads(pickle.dumps(step))
    assert copy._learner is None and copy.threshold == 1.0 and Path(copy.learner_source) == folder


def test_the_filter_step_defaults_to_the_learners_default_threshold(learner_and_folder):
    from datatrove.data import Document

    from learners.pipeline.datatrove_steps import LearnerFilter

    learner, folder = learner_and_folder
    step = LearnerFilter(str(folder))
    assert step.threshold == "default" and step.cut() == pytest.approx(learner.default_cut())
    texts = mixed_documents(20, seed=5)
    kept = step.filter_batch([Document(text=t, id=str(i)) for i, t in enumerate(texts)])
    assert [k is True for k in kept] == list(learner.score_texts(texts) >= learner.default_cut())
    with pytest.raises(ValueError, match="score='default'"):
        LearnerFilter(str(folder), score="gain")
