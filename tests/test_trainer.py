"""IGF as a drop-in for a Hugging Face Trainer script."""

import torch
from model_helpers import ForwardRecorder, marker_labelled_ids, tiny_bert_classifier
from transformers import Trainer, TrainingArguments

from learners.corpora.tasks import CausalLMTask
from learners.finetuning.training.trainer import FilteredDataset, FilteringTrainer
from learners.igf.filter import InformationGainFilter
from learners.igf.thresholds import ConstantThreshold
from learners.streaming.filter import LOSS_THRESHOLD, PREDICTOR, StreamingConfig, StreamingFilter
from learners.streaming.meta_predictors import make_predictor


def test_trainer_trains_only_on_accepted_examples(tmp_path, tiny_gpt2, tokenizer, random_learner):
    tiny_gpt2.get_input_embeddings().weight.requires_grad_(False)
    generator = torch.Generator().manual_seed(0)
    examples = [{"input_ids": ids, "labels": ids.clone()}
                for ids in torch.randint(0, len(tokenizer), (200, 16), generator=generator)]
    scores = random_learner.score(torch.stack([e["input_ids"] for e in examples]))
    threshold = float(scores.median())
    data = FilteredDataset(examples, InformationGainFilter(random_learner, ConstantThreshold(threshold)),
                           chunk_size=32)
    args = TrainingArguments(output_dir=str(tmp_path / "out"), max_steps=5, per_device_train_batch_size=4,
                             learning_rate=1e-3, report_to=[], save_strategy="no", logging_steps=1,
                             use_cpu=True, disable_tqdm=True)
    recorder = ForwardRecorder(tiny_gpt2)
    try:
        Trainer(model=tiny_gpt2, args=args, train_dataset=data, callbacks=[data.callback]).train()
    finally:
        recorder.handle.remove()
    seen = recorder.rows
    assert len(seen) == 20
    assert (random_learner.score(seen) >= threshold - 1e-6).all()
    counts = data.counts()
    assert counts["skipped"] > 0 and counts["seen"] == counts["accepted"] + counts["skipped"]
    assert data.step == 4   # the callback kept the filter in step with the Trainer


def trainer_args(tmp_path, steps: int, batch_size: int = 8):
    return TrainingArguments(output_dir=str(tmp_path / "out"), max_steps=steps, per_device_train_batch_size=batch_size,
                             learning_rate=1e-3, report_to=[], save_strategy="no", logging_steps=1,
                             use_cpu=True, disable_tqdm=True)


def lm_examples(tokenizer, count: int, seed: int = 0) -> list[dict]:
    ids = torch.randint(0, len(tokenizer), (count, 16), generator=torch.Generator().manual_seed(seed))
    return [{"input_ids": row, "labels": row.clone()} for row in ids]


class GradRecorder(ForwardRecorder):
    """Also records whether each forward pass builds a graph (training) or not (the filter's scoring)."""

    def __call__(self, module, args, kwargs):
        super().__call__(module, args, kwargs)
        self.batches[-1] = (self.batches[-1], torch.is_grad_enabled())


def test_streaming_filter_in_a_trainer_spares_backward_passes_under_the_threshold(tmp_path, tiny_gpt2, tokenizer):
    streaming = StreamingFilter(make_predictor("bernoulli_nb", vocab_size=len(tokenizer)),
                                StreamingConfig(warmup_steps=3, threshold_window=16, min_predictor_examples=10 ** 6))
    under_threshold = []
    original = streaming.select_after_forward

    def spy(input_ids, losses, step):
        keep = original(input_ids, losses, step)
        under_threshold.append(input_ids[~keep])
        return keep

    streaming.select_after_forward = spy
    recorder = GradRecorder(tiny_gpt2)
    trainer = FilteringTrainer(model=tiny_gpt2, args=trainer_args(tmp_path, 12),
                               train_dataset=lm_examples(tokenizer, 96), context_filter=streaming, task=CausalLMTask())
    try:
        trainer.train()
    finally:
        recorder.handle.remove()
    counts = trainer.filter_counts
    trained = torch.cat([batch for batch, grad in recorder.batches if grad])
    assert streaming.stage == LOSS_THRESHOLD and streaming.counts["warmup_trained"] == 24
    assert counts["seen"] == 96 and counts["forwarded_for_filter"] == 96 - 24
    assert counts["skipped_after_forward"] == streaming.counts["skipped_backward"] > 0
    assert len(trained) == counts["trained"] == 96 - counts["skipped_after_forward"]
    skipped = {tuple(row) for row in torch.cat(under_threshold).tolist()}
    assert not skipped & {tuple(row) for row in trained.tolist()}   # under the threshold: never a backward pass
    assert any(key.startswith("filter/") for key in trainer.state.log_history[0])


def test_pulled_streaming_filter_in_a_trainer_skips_forward_passes(tmp_path, tiny_gpt2, tokenizer):
    examples = lm_examples(tokenizer, 64, seed=1)
    ids = torch.stack([e["input_ids"] for e in examples])
    predictor = make_predictor("bernoulli_nb", vocab_size=len(tokenizer))
    predictor.update(ids, torch.rand(len(ids), generator=torch.Generator().manual_seed(0)) < 0.5)
    streaming = StreamingFilter(predictor, StreamingConfig(explore_fraction=0.0), start_stage=PREDICTOR, threshold=0.0)
    recorder = GradRecorder(tiny_gpt2)
    trainer = FilteringTrainer(model=tiny_gpt2, args=trainer_args(tmp_path, 8), train_dataset=examples,
                               context_filter=streaming, task=CausalLMTask())
    try:
        trainer.train()
    finally:
        recorder.handle.remove()
    counts = trainer.filter_counts
    expected = (predictor.predict_proba(ids) >= 0.5).sum()   # what the (frozen-in-decisions) predictor lets through
    forwarded = torch.cat([batch for batch, _ in recorder.batches])
    assert counts["skipped_before_forward"] > 10 and counts["skipped_after_forward"] == 0
    assert counts["forwarded_for_filter"] == counts["trained"] == 64 - counts["skipped_before_forward"]
    assert len(forwarded) == 2 * counts["trained"]   # a scoring forward and a training forward, nothing for the skipped
    assert abs(counts["trained"] - int(expected)) <= 16   # the predictor keeps learning online, so only roughly


def test_filtering_trainer_fine_tunes_a_sequence_classifier(tmp_path, tokenizer):
    from learners.corpora.tasks import SequenceClassificationTask

    model = tiny_bert_classifier(tokenizer)
    ids, labels = marker_labelled_ids(160)
    mask = torch.ones_like(ids)
    mask[::2, 8:] = 0            # every other example is padded
    ids[mask == 0] = 1
    examples = [{"input_ids": i, "attention_mask": m, "labels": y} for i, m, y in zip(ids, mask, labels)]
    streaming = StreamingFilter(make_predictor("hashed_logistic", vocab_size=len(tokenizer), pad_token_id=1),
                                StreamingConfig(warmup_steps=4, threshold_window=32, min_predictor_examples=10 ** 6))
    before = model.classifier.weight.detach().clone()
    args = TrainingArguments(output_dir=str(tmp_path / "out"), max_steps=20, per_device_train_batch_size=8,
                             learning_rate=3e-3, report_to=[], save_strategy="no", use_cpu=True, disable_tqdm=True)
    trainer = FilteringTrainer(model=model, args=args, train_dataset=examples, context_filter=streaming,
                               task=SequenceClassificationTask())
    trainer.train()
    counts = trainer.filter_counts
    assert counts["seen"] == 160 and streaming.stage == LOSS_THRESHOLD
    assert 0 < counts["trained"] < 160 and counts["skipped_after_forward"] == streaming.counts["skipped_backward"] > 0
    assert not torch.equal(model.classifier.weight, before)
    logits = model(input_ids=ids, attention_mask=mask).logits
    assert (logits.argmax(-1) == labels).float().mean() > 0.8   # it learned from the examples it kept
