"""IGF as a drop-in for a Hugging Face Trainer script."""

import torch
from conftest import ForwardRecorder
from transformers import Trainer, TrainingArguments

from learners.filters import ConstantThreshold, InformationGainFilter
from learners.trainer import FilteredDataset


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
