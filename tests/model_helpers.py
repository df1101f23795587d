"""Tiny random GPT-2, Llama and BERT models with a tokenizer trained here, synthetic documents, and the
other helpers tests share: fast and deterministic (the real SmolLM2 has a bounded test of its own).

Tests import these directly; conftest.py only turns some of them into fixtures.
"""

from __future__ import annotations

import random

import torch

WORDS = ("the lord said unto moses and aaron speak to the children of israel that they bring me an offering "
         "in the beginning god created heaven earth light darkness water day night firmament seed fruit tree "
         "def class import return yield lambda async await print list dict tuple module function argument").split()


def synthetic_documents(count: int = 40, words: int = 120, seed: int = 0, vocabulary=WORDS) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(vocabulary) for _ in range(words)) for _ in range(count)]


def train_tokenizer(texts: list[str], vocab_size: int = 200):
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE(unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.train_from_iterator(texts, trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["<unk>", "<eos>"]))
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, unk_token="<unk>", eos_token="<eos>")


def make_tiny_gpt2(tokenizer, seed: int = 0):
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(seed)
    config = GPT2Config(vocab_size=len(tokenizer), n_positions=64, n_embd=32, n_layer=2, n_head=2,
                        bos_token_id=tokenizer.eos_token_id, eos_token_id=tokenizer.eos_token_id)
    return GPT2LMHeadModel(config).eval()


def make_tiny_llama(tokenizer, seed: int = 0):
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=64,
                         tie_word_embeddings=True)
    return LlamaForCausalLM(config).eval()


def metadata_for(model, tokenizer, *, model_id: str = "tiny/gpt2", corpus: str = "tiny", **extra):
    """learner.json contents for a learner built on `model` (fingerprints computed, not faked)."""
    from learners.fingerprint import embedding_fingerprint, tokenizer_fingerprint
    from cards.format.metadata_sections import BaseModelInfo, CorpusInfo
    from cards.format.metadata import LearnerMetadata

    return LearnerMetadata(kind="igf", base_model=BaseModelInfo(model_id=model_id),
                           tokenizer_fingerprint=tokenizer_fingerprint(tokenizer),
                           embedding_fingerprint=embedding_fingerprint(model.get_input_embeddings().weight),
                           corpus=CorpusInfo(name=corpus, fingerprint="sha256:0"), **extra)


class ForwardRecorder:
    """Records every batch of token ids the language model's forward pass receives."""

    def __init__(self, model):
        self.batches = []
        self.handle = model.register_forward_pre_hook(self, with_kwargs=True)

    def __call__(self, module, args, kwargs):
        self.batches.append(kwargs["input_ids"].clone())

    @property
    def rows(self):
        return torch.cat(self.batches) if self.batches else torch.empty(0, dtype=torch.long)


def tiny_bert_classifier(tokenizer, seed: int = 0):
    """A two-label BERT sequence classifier small enough to train in seconds."""
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(seed)
    return BertForSequenceClassification(BertConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2,
                                                    num_attention_heads=2, intermediate_size=64, num_labels=2))


def marker_labelled_ids(count: int, length: int = 12, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Random token ids (3..99) whose label (0 or 1) is readable from the first token (100 + label)."""
    generator = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, 2, (count,), generator=generator)
    ids = torch.randint(3, 100, (count, length), generator=generator)
    ids[:, 0] = 100 + labels
    return ids, labels
