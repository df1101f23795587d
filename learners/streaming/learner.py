"""A streaming learner: the meta predictor and loss threshold of a streaming run, saved to be reused.

Building one runs the three-stage filter once over a slice of the corpus (the model's weights are
restored afterwards) and keeps what it learned: the frozen loss threshold and the warm predictor. A
user who pulls it skips the warm-up and starts in stage `start_stage` directly. The folder has the
IGF learner's layout and safety: config.json (the predictor's config, the threshold, the start
stage), model.safetensors (the predictor's tensors, never a pickle) and learner.json (kind
`streaming`, the base model's tokenizer and embedding fingerprints, the corpus, the build settings).

Example:
    >>> learner = StreamingLearner.load("streaming-smollm2-pydocs", model, tokenizer)
    >>> result = finetune(model, examples, test, learner.make_filter(), FinetuneConfig(steps=None))
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import safetensors.torch
import torch
from torch import nn

from cards.format.errors import LearnerFormatError
from cards.format.metadata_schema import validated
from cards.format.constants import BUILD_PLOT, CONFIG_FILE, WEIGHTS_FILE
from cards.format.metadata_sections import CorpusInfo, RunInfo
from cards.format.metadata import LearnerMetadata

from ..base_models import BaseModelRef
from ..constants import DEFAULT_CONTEXT_LENGTH
from ..corpora.examples import Examples
from ..fingerprint import embedding_fingerprint, tokenizer_fingerprint
from ..learner import Learner, load_safetensors_into
from ..plots import plot_streaming_build
from .filter import LOSS_THRESHOLD, PREDICTOR, WARMUP, StreamingConfig, StreamingFilter
from .meta_predictors import DEFAULT_PREDICTOR, MetaPredictor, make_predictor, predictor_from_config

STREAMING_KIND = "streaming"
#: Where a pulled learner starts. Measured (benchmarks/results/streaming.json): starting in stage 2 saved
#: more (LM 4.1x fewer backward passes vs 2.7x) but lost more quality (perplexity 45.2 vs 41.1 against
#: 31.2 standard; accuracy 0.62 vs 0.69 against 0.88); no arm met the quality goal, so quality decides.
DEFAULT_START_STAGE = LOSS_THRESHOLD


class StreamingLearner(Learner):
    """A warm meta predictor plus the loss threshold it was trained against."""

    kind = STREAMING_KIND
    #: A context's score is the predictor's probability that its loss is above the threshold (worth a backward).
    scores_contexts = True

    def __init__(self, predictor: MetaPredictor, threshold: float, metadata: LearnerMetadata, *,
                 start_stage: int = DEFAULT_START_STAGE, filter_config: StreamingConfig | None = None) -> None:
        if start_stage not in (LOSS_THRESHOLD, PREDICTOR):
            raise ValueError(f"A streaming learner starts in stage 1 or 2, not {start_stage}.")
        super().__init__(metadata)
        self.predictor = predictor
        self.threshold = float(threshold)
        self.start_stage = start_stage
        self.filter_config = filter_config or StreamingConfig()
        self.build_trace: list[dict] | None = None   # set by the build; saved as a plot, not as data

    def make_filter(self, *, start_stage: int | None = None, config: StreamingConfig | None = None) -> StreamingFilter:
        """A streaming filter that starts after the warm-up, with this threshold and (a copy of) this predictor.

        The copy keeps learning during the run; the learner itself is left as it was loaded.
        """
        if not self.attached:
            raise RuntimeError("Attach the learner to its base model first: learner.attach(model, tokenizer).")
        predictor = predictor_from_config(self.predictor.config())
        predictor.load_state_dict(self.predictor.state_dict())
        return StreamingFilter(predictor, config or self.filter_config, threshold=self.threshold,
                               start_stage=self.start_stage if start_stage is None else start_stage)

    @torch.no_grad()
    def _score_contexts(self, input_ids: torch.Tensor) -> torch.Tensor:
        return self.predictor.predict_proba(input_ids).float().cpu()

    def config(self) -> dict:
        return {"predictor": self.predictor.config(), "threshold": self.threshold, "start_stage": self.start_stage,
                "filter": self.filter_config.to_dict()}

    def _write_files(self, staging: Path) -> None:
        """config.json, model.safetensors (the predictor's tensors) and the build's plot."""
        (staging / CONFIG_FILE).write_text(json.dumps(self.config(), indent=2) + "\n")
        tensors = {name: t.contiguous() for name, t in self.predictor.state_dict().items()}
        safetensors.torch.save_file(tensors, str(staging / WEIGHTS_FILE), metadata={"format": "pt"})
        if self.build_trace:
            plot_streaming_build(self.build_trace, self.threshold, staging / BUILD_PLOT,
                                 title=f"Streaming learner build on {self.metadata.corpus.name}")

    @classmethod
    def _from_folder(cls, folder: Path, metadata: LearnerMetadata, config: dict) -> StreamingLearner:
        try:
            predictor = predictor_from_config(config["predictor"])
            threshold, start_stage = float(config["threshold"]), int(config["start_stage"])
            filter_config = StreamingConfig(**config.get("filter", {}))
        except (KeyError, TypeError, ValueError) as error:
            raise LearnerFormatError(f"{folder / CONFIG_FILE} is not a streaming learner's config ({error!r}); "
                                     "the learner is corrupted.") from None
        load_safetensors_into(predictor, folder)
        return cls(predictor, threshold, metadata, start_stage=start_stage, filter_config=filter_config)


@dataclass
class StreamingBuildConfig:
    """What `learnerhub build --kind streaming` does; recorded in learner.json."""

    predictor: str = DEFAULT_PREDICTOR
    examples: int = 1024
    batch_size: int = 16
    lr: float = 5e-5
    seed: int = 0
    context_length: int = DEFAULT_CONTEXT_LENGTH   # tokens per example; what score_texts cuts documents into
    start_stage: int = DEFAULT_START_STAGE
    filter: StreamingConfig = field(default_factory=StreamingConfig)

    def to_dict(self) -> dict:
        return asdict(self)


def build_streaming_learner(model: nn.Module, tokenizer, train: Examples, *, base_model: BaseModelRef,
                            corpus: CorpusInfo | dict, config: StreamingBuildConfig | None = None, task=None,
                            progress: bool = False) -> StreamingLearner:
    """Run the streaming filter over `train` (one epoch) and keep its threshold and predictor.

    `model` is fine-tuned during the run and restored to its initial weights afterwards. `corpus`
    is learner.json's corpus record (a CorpusInfo, or its dict: at least `name`). `task` defaults to causal
    language modelling.

    Example:
        >>> examples = Examples(split.train.sample(1024, torch.Generator().manual_seed(0)))
        >>> learner = build_streaming_learner(model, tokenizer, examples, base_model=ref, corpus={"name": "pydocs"})
    """
    from ..finetuning.training.loop import FinetuneConfig, finetune

    config = config or StreamingBuildConfig()
    pad_token_id = getattr(tokenizer, "pad_token_id", None) if train.attention_mask is not None else None
    embeddings = model.get_input_embeddings().weight
    predictor = make_predictor(config.predictor, vocab_size=int(embeddings.shape[0]), pad_token_id=pad_token_id)
    streaming = StreamingFilter(predictor, config.filter, start_stage=WARMUP, record_trace=True)
    initial = {name: tensor.detach().clone() for name, tensor in model.state_dict().items()}
    started = time.perf_counter()
    try:
        result = finetune(model, train, train[:1], streaming, FinetuneConfig(
            steps=None, batch_size=config.batch_size, lr=config.lr, eval_every=10 ** 9, seed=config.seed,
            candidates_per_draw=config.batch_size),   # one batch at a time: the warm-up is exact
            task=task, progress=progress)
    finally:
        model.load_state_dict(initial)
        torch.set_grad_enabled(True)
    if streaming.threshold is None:
        raise LearnerFormatError(f"{len(train)} examples did not fill the {config.filter.warmup_steps}-step warm-up "
                                 f"at batch size {config.batch_size}: build on more examples.")
    stats = result.filter_stats
    run = RunInfo(name="loss-threshold", task=type(task).__name__ if task else "CausalLMTask",
                  examples=result.contexts_seen, trained_examples=result.lm_backward_contexts,
                  skipped_forward=result.skipped_before_forward, skipped_backward=result.skipped_after_forward,
                  final_stage=stats["stage"], transitions=stats["transitions"])
    metrics = {"threshold": streaming.threshold, "predictor_accuracy": stats["predictor_accuracy"],
               "positive_rate": stats["positive_rate"], "build_seconds": round(time.perf_counter() - started, 2)}
    metadata = LearnerMetadata(
        kind=STREAMING_KIND,
        base_model=base_model.info(model),
        tokenizer_fingerprint=tokenizer_fingerprint(tokenizer),
        embedding_fingerprint=embedding_fingerprint(embeddings),
        corpus=corpus if isinstance(corpus, CorpusInfo) else validated(CorpusInfo, corpus, source="the corpus",
                                                                       where="corpus"),
        run=run,
        hyperparameters=config.to_dict(),
        metrics=metrics,
    )
    learner = StreamingLearner(predictor, streaming.threshold, metadata, start_stage=config.start_stage,
                               filter_config=config.filter)
    learner.build_trace = streaming.trace
    return learner.attach(model, tokenizer, check=False)
