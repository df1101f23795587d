"""What the streaming kind does for the rest of learnerhub (registered in `learners/streaming/__init__.py`):
its command-line flags, the build from them, the pulled and the fresh filter arms, its usage snippet and a tiny
example. Nothing here imports torch until it is called."""

from __future__ import annotations

import argparse
from typing import Any

from ..argument_types import choice_of, positive_int

#: learners.streaming.meta_predictors.PREDICTORS, without importing torch
PREDICTOR_NAMES = ("bernoulli_nb", "hashed_logistic")

USAGE = ("from transformers import TrainingArguments\n"
         "from learners import FilteringTrainer, load_base_model\n"
         "from learners.corpora.tasks import CausalLMTask\nimport registry\n\n{load}"
         "learner, _ = registry.pull(\"{corpus}\", base_model=\"{base}\", kind=\"streaming\"{pinned},\n"
         "                          model=model, tokenizer=tokenizer)\n"
         "trainer = FilteringTrainer(model=model, args=args, train_dataset=train_dataset,\n"
         "                           context_filter=learner.make_filter(), task=CausalLMTask())\n"
         "trainer.train()")


def cli_arguments(parser: argparse.ArgumentParser, command: str) -> None:
    """The streaming filter's flags on `build` and `finetune` (`--streaming` adds a fresh filter's arm)."""
    if command not in ("build", "finetune"):
        return
    if command == "finetune":
        parser.add_argument("--streaming", action="store_true",
                            help="Add an arm with a fresh streaming filter (warm-up, loss threshold, meta predictor).")
    group = parser.add_argument_group("streaming filter (build --kind streaming, finetune --streaming)")
    group.add_argument("--predictor", type=choice_of(sorted(PREDICTOR_NAMES)), choices=sorted(PREDICTOR_NAMES),
                       default=None,
                       help="Meta predictor: hashed_logistic (hashed uni+bigram logistic regression, the default) "
                            "or bernoulli_nb (the paper's naive Bayes over token presence).")
    group.add_argument("--examples", type=positive_int, default=1024,
                       help="build --kind streaming: contexts streamed once through the filter to train the predictor.")
    group.add_argument("--warmup-steps", type=int, default=None, help="Stage-0 optimizer steps (default 8).")
    group.add_argument("--warmup-plateau", type=float, default=None, metavar="TOLERANCE",
                       help="Go on warming up past --warmup-steps until the loss falls by less than this fraction "
                            "per window of 128 examples (e.g. 0.05), so the threshold is a converged loss.")
    group.add_argument("--max-warmup-steps", type=int, default=None, help="Cap on a --warmup-plateau warm-up.")
    group.add_argument("--min-predictor-balanced-accuracy", type=float, default=None, metavar="ACCURACY",
                       help="Stage 2 also waits until the predictor's recent balanced accuracy reaches this "
                            "(e.g. 0.75); a weaker predictor would skip important examples.")
    group.add_argument("--cutoff-ratio", type=float, default=None,
                       help="Stage 2 starts when the recent loss falls to this x the threshold (default 1.0).")
    group.add_argument("--start-stage", type=int, choices=[1, 2], default=None,
                       help="Where a pulled streaming learner starts: 1 (loss threshold, warm predictor) or 2 "
                            "(meta predictor). Default 1: it kept more quality in benchmarks/results/streaming.json.")


def filter_config(options) -> Any:
    """The StreamingConfig the flags ask for (the defaults where a flag is unset)."""
    from .filter import StreamingConfig

    config = StreamingConfig()
    for flag, name in (("warmup_steps", "warmup_steps"), ("cutoff_ratio", "cutoff_ratio"),
                       ("warmup_plateau", "plateau_tolerance"), ("max_warmup_steps", "max_warmup_steps"),
                       ("min_predictor_balanced_accuracy", "min_predictor_balanced_accuracy")):
        if getattr(options, flag, None) is not None:
            setattr(config, name, getattr(options, flag))
    return config


def build(request) -> Any:
    """A streaming learner: fine-tune once over `--examples` contexts with the three-stage filter."""
    import torch

    from ..corpora.examples import Examples
    from ..igf.build import split_corpus
    from .learner import StreamingBuildConfig, build_streaming_learner

    corpus, options, seed = request.corpus, request.options, request.config.seed
    tokenized, split = split_corpus(corpus, request.tokenizer, request.config)
    examples = request.option("examples", 1024)
    config = StreamingBuildConfig(examples=examples, seed=seed, context_length=request.config.context_length,
                                  filter=filter_config(options))
    if request.option("predictor"):
        config.predictor = request.option("predictor")
    if request.option("start_stage"):
        config.start_stage = request.option("start_stage")
    train = Examples(split.train.sample(examples, torch.Generator().manual_seed(seed + 3)))
    record = {"name": corpus.name, "fingerprint": corpus.fingerprint, "documents": len(corpus),
              "usable_documents": len(tokenized.documents)}
    return build_streaming_learner(request.model, request.tokenizer, train, base_model=request.ref, corpus=record,
                                   config=config, progress=request.progress)


def build_summary(learner, request) -> str:
    metrics, run = learner.metadata.metrics, learner.metadata.run
    return (f"Wrote {learner.kind} learner for corpus {request.corpus.name!r} on {request.ref.model_id} to "
            f"{learner.folder}\n"
            f"  threshold {metrics['threshold']:.3f}, predictor {learner.predictor.name} (online accuracy "
            f"{metrics['predictor_accuracy']:.3f}), trained on {run.trained_examples} of {run.examples} "
            f"contexts, ended in stage {run.final_stage}")


def make_filter(learner, options) -> tuple[str, Any]:
    """The pulled learner's filter, starting in `--start-stage` (default: the stage it was saved with)."""
    start_stage = getattr(options, "start_stage", None) or learner.start_stage
    return f"streaming-pulled-s{start_stage}", learner.make_filter(start_stage=start_stage)


def extra_arms(options, model) -> dict[str, Any]:
    """`finetune --streaming`: an arm with a fresh streaming filter (warm-up, loss threshold, meta predictor)."""
    if not getattr(options, "streaming", False):
        return {}
    from .filter import StreamingFilter
    from .meta_predictors import DEFAULT_PREDICTOR, make_predictor

    predictor = make_predictor(getattr(options, "predictor", None) or DEFAULT_PREDICTOR,
                               vocab_size=int(model.get_input_embeddings().weight.shape[0]))
    return {"streaming": StreamingFilter(predictor, filter_config(options))}


def example(model, tokenizer) -> Any:
    """A tiny streaming learner (a hashed logistic predictor fitted on 16 random contexts), for tests."""
    import dataclasses

    import torch

    from ..igf.plugin import example as igf_example
    from .learner import StreamingLearner
    from .meta_predictors import make_predictor

    predictor = make_predictor("hashed_logistic", vocab_size=len(tokenizer), buckets=256)
    generator = torch.Generator().manual_seed(0)
    predictor.update(torch.randint(0, len(tokenizer), (16, 12), generator=generator),
                     torch.randint(0, 2, (16,), generator=generator))
    metadata = dataclasses.replace(igf_example(model, tokenizer).metadata, kind="streaming", probe=None)
    return StreamingLearner(predictor, 2.5, metadata)
