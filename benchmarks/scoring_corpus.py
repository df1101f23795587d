"""The scoring benchmark's corpus and its reference speeds (bench_scoring.py).

- `make_corpus`: a corpus of any size made reproducibly from two JSONL(.gz) corpora (their documents
  alternated, then the whole repeated; each copy's ids are suffixed), written as plain JSONL shards of equal
  size. A marker records what made it, so a second run reuses it instead of writing a gigabyte again.
- `tokenizer_pass`: the fast tokenizer's batch call over the same shards and batches `learnerhub score`
  reads, the speed no token-level learner can beat; it also counts the corpus' tokens for every rate.
- `dsir_pass`: DSIR (PyPI `data-selection`, fitted as benchmarks/peer_selectors.py fits it) scoring the
  same text toward the same target, the model-agnostic peer a user would pick instead.
"""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Iterator
from pathlib import Path

from learners.corpora.shard_reader import iter_shard

MB = 1 << 20
BATCH_SIZE = 512   # `learnerhub score`'s default --batch-size: the reference reads what scoring reads


def read_documents(path: Path) -> list[dict]:
    """The documents ({"id", "text"}) of a JSONL(.gz) corpus, in file order."""
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def interleaved(corpora: list[list[dict]]) -> list[dict]:
    """The corpora's documents alternated (one of each in turn), so every shard mixes them alike."""
    longest = max(len(c) for c in corpora)
    return [c[i] for i in range(longest) for c in corpora if i < len(c)]


def repeated_lines(documents: list[dict]) -> Iterator[bytes]:
    """JSONL lines of the documents, repeated without end; copy k's ids end in `~k`, so ids stay unique."""
    copy = 0
    while True:
        for doc in documents:
            yield (json.dumps({"id": f"{doc.get('id', '')}~{copy}", "text": doc["text"]}) + "\n").encode()
        copy += 1


def make_corpus(sources: list[Path], work: Path, size_mb: int, shards: int) -> list[Path]:
    """`shards` plain JSONL shards of about `size_mb / shards` MB each in `work`, reused when already made."""
    recipe = {"sources": [str(p.resolve()) for p in sources], "source_bytes": [p.stat().st_size for p in sources],
              "size_mb": size_mb, "shards": shards}
    marker = work / "corpus.json"
    paths = [work / f"shard-{i:03d}.jsonl" for i in range(shards)]
    if marker.exists() and json.loads(marker.read_text()) == recipe and all(p.exists() for p in paths):
        return paths
    work.mkdir(parents=True, exist_ok=True)
    lines = repeated_lines(interleaved([read_documents(p) for p in sources]))
    per_shard = size_mb * MB // shards
    for path in paths:
        written = 0
        with path.open("wb") as handle:
            while written < per_shard:
                line = next(lines)
                handle.write(line)
                written += len(line)
    marker.write_text(json.dumps(recipe, indent=2) + "\n")
    return paths


def load_tokenizer(name: str = "smollm2"):
    """SmolLM2's fast tokenizer alone (the model's weights are not needed to count or cut tokens)."""
    from transformers import AutoTokenizer

    from learners.base_models import resolve_base_model

    return AutoTokenizer.from_pretrained(resolve_base_model(name)[0])


def tokenizer_pass(tokenizer, shards: list[Path]) -> dict:
    """Tokens, documents, bytes, and the seconds of the tokenizer's batch calls alone (reading excluded)."""
    tokens = documents = text_bytes = 0
    seconds = 0.0
    per_shard = []
    for shard in shards:
        shard_tokens = 0
        for batch in iter_shard(shard, batch_size=BATCH_SIZE):
            started = time.perf_counter()
            encoded = tokenizer(batch.texts, add_special_tokens=False, return_attention_mask=False)["input_ids"]
            seconds += time.perf_counter() - started
            shard_tokens += sum(len(ids) for ids in encoded)
            documents += len(batch.texts)
            text_bytes += sum(len(t.encode()) for t in batch.texts)
        per_shard.append(shard_tokens)
        tokens += shard_tokens
    return {"tokens": tokens, "documents": documents, "text_bytes": text_bytes, "seconds": round(seconds, 3),
            "tokens_per_second": round(tokens / seconds, 1), "tokens_per_shard": per_shard}


def shard_texts(shards: list[Path], limit_bytes: int) -> list[str]:
    """The texts of the shards in order, up to about `limit_bytes` of text."""
    texts, size = [], 0
    for shard in shards:
        for batch in iter_shard(shard, batch_size=BATCH_SIZE):
            for text in batch.texts:
                if size >= limit_bytes:
                    return texts
                texts.append(text)
                size += len(text.encode())
    return texts


def dsir_pass(texts: list[str], target_texts: list[str], tokenizer, fit_texts: int = 2000) -> dict:
    """DSIR's log importance weight of every text toward the target: its fit and scoring seconds, tokens/s."""
    from data_selection import HashedNgramDSIR

    pool = texts[:fit_texts]   # the raw distribution: a sample of the corpus, as DSIR fits it
    started = time.perf_counter()
    dsir = HashedNgramDSIR(raw_datasets=["pool"], target_datasets=["target"], cache_dir="/tmp/unused-dsir-cache",
                           raw_load_dataset_fn=lambda _: pool, raw_parse_example_fn=None,
                           target_load_dataset_fn=lambda _: target_texts, target_parse_example_fn=None,
                           num_proc=1, ngrams=2, num_buckets=10000, min_example_length=0)
    dsir.fit_importance_estimator(num_tokens_to_fit="all")
    fit_seconds = time.perf_counter() - started
    started = time.perf_counter()
    for text in texts:
        dsir.importance_estimator(dsir.featurizer(text))
    seconds = time.perf_counter() - started
    encoded = tokenizer(texts, add_special_tokens=False, return_attention_mask=False)["input_ids"]
    tokens = sum(len(ids) for ids in encoded)
    return {"documents": len(texts), "text_bytes": sum(len(t.encode()) for t in texts), "tokens": tokens,
            "fit_seconds": round(fit_seconds, 3), "seconds": round(seconds, 3),
            "tokens_per_second": round(tokens / seconds, 1)}
