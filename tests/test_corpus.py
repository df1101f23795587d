"""Corpora in every supported format, and clear errors for unusable ones."""

import gzip
import json

import pytest

from learners.corpora.contexts import TokenizedCorpus
from learners.corpora.corpus import load_corpus
from learners.errors import CorpusError


def test_jsonl_gz_text_and_folder_give_the_same_documents(tmp_path, documents):
    jsonl = tmp_path / "bible.jsonl.gz"
    with gzip.open(jsonl, "wt") as handle:
        for text in documents[:3]:
            handle.write(json.dumps({"text": text}) + "\n")
    text_file = tmp_path / "bible.txt"
    text_file.write_text("\n\n".join(documents[:3]) + "\n")
    folder = tmp_path / "pages"
    folder.mkdir()
    for i, text in enumerate(documents[:3]):
        (folder / f"{i}.txt").write_text(text)
    loaded = [load_corpus(p) for p in (jsonl, text_file, folder)]
    assert [c.documents for c in loaded] == [tuple(documents[:3])] * 3
    assert loaded[0].name == "bible" and loaded[2].name == "pages"
    assert len({c.fingerprint for c in loaded}) == 1


def test_datasets_formats(tmp_path, documents):
    import datasets

    dataset = datasets.Dataset.from_dict({"body": documents[:4]})
    dataset.save_to_disk(str(tmp_path / "saved"))
    dataset.to_parquet(str(tmp_path / "corpus.parquet"))
    assert load_corpus(tmp_path / "saved", text_field="body").documents == tuple(documents[:4])
    assert load_corpus(tmp_path / "corpus.parquet", text_field="body").documents == tuple(documents[:4])
    with pytest.raises(CorpusError, match="no column 'text'.*--text-field"):
        load_corpus(tmp_path / "saved")


@pytest.mark.parametrize("content, message", [
    ("", "no non-empty document"),
    ('{"text": "fine"}\nnot json\n', r":2 is not valid JSON"),
    ('{"body": "no text field"}\n', "no string field 'text'"),
])
def test_bad_jsonl_is_a_clear_error(tmp_path, content, message):
    path = tmp_path / "bad.jsonl"
    path.write_text(content)
    with pytest.raises(CorpusError, match=message):
        load_corpus(path)


def test_missing_and_binary_corpora(tmp_path):
    with pytest.raises(CorpusError, match="does not exist"):
        load_corpus(tmp_path / "nope.jsonl")
    binary = tmp_path / "weights.bin"
    binary.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(CorpusError, match="not UTF-8"):
        load_corpus(binary)
    (tmp_path / "empty-folder").mkdir()
    with pytest.raises(CorpusError, match="holds no text file"):
        load_corpus(tmp_path / "empty-folder")


def test_short_documents_are_skipped_and_all_short_is_an_error(tmp_path, tokenizer, documents):
    path = tmp_path / "mixed.jsonl"
    path.write_text(json.dumps({"text": "too short"}) + "\n" + json.dumps({"text": documents[0]}) + "\n")
    tokenized = TokenizedCorpus.from_corpus(load_corpus(path), tokenizer, context_length=32)
    assert len(tokenized.documents) == 1
    path.write_text(json.dumps({"text": "too short"}) + "\n")
    with pytest.raises(CorpusError, match="at least 32 tokens long"):
        TokenizedCorpus.from_corpus(load_corpus(path), tokenizer, context_length=32)


def test_split_holds_out_whole_documents(tokenizer, jsonl_corpus):
    tokenized = TokenizedCorpus.from_corpus(load_corpus(jsonl_corpus), tokenizer, context_length=16)
    split = tokenized.split(objective_size=5, test_size=5, seed=0)
    assert split.objective.shape == (5, 16) and split.test.shape == (5, 16)
    assert len(split.train.documents) == len(tokenized.documents) - 10
    with pytest.raises(CorpusError, match="usable documents"):
        tokenized.split(objective_size=30, test_size=30, seed=0)
