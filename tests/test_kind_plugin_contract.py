"""A kind is a plug-in: a throw-away fourth kind, defined in this file alone and registered once, goes through
build, save, publish, pull, filter (finetune), eval, its card and its web page, with nothing else told of it.

Its learner keeps a context when the mean of its token ids, times a learned scale, is at least a cut: a rule
that needs no training, so the test measures the plumbing, not a method. The registration is undone after.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import safetensors.torch
import torch
from registry_helpers import isolated_learnerhub_home  # noqa: F401 (autouse fixture)

from learnerhub.cli.main import main
from learners.context_filter import ContextFilter
from cards.format.errors import LearnerFormatError
from learners.fingerprint import embedding_fingerprint, tokenizer_fingerprint
from cards.format.kinds import LearnerKind, learner_kind, learner_kinds, register_learner_kind, registered_kind
from learners.learner import Learner
from cards.format.metadata_sections import BaseModelInfo, CorpusInfo, Section
from cards.format.metadata import LearnerMetadata
from cards.model_card.render import card_warnings, render_card
from server import create_app
from server.testing import running_server

TINY = ["--context-length", "16", "--objective-size", "4", "--test-size", "4"]
NAME = "mean_id"
WARNING = "A mean_id learner keeps contexts by their mean token id alone."


@dataclass(kw_only=True)
class MeanIdInfo(Section):
    """The kind's own learner.json section: what its build saw."""

    contexts: int | None = None
    mean_token_id: float | None = None


class MeanIdLearner(Learner):
    """Scores a context by its mean token id times `scale`."""

    kind = NAME
    scores_contexts = True

    def __init__(self, scale: torch.Tensor, metadata: LearnerMetadata) -> None:
        super().__init__(metadata)
        self.scale = scale

    def _score_contexts(self, input_ids: torch.Tensor) -> torch.Tensor:
        return input_ids.float().mean(dim=1) * self.scale

    def _write_files(self, staging: Path) -> None:
        (staging / "config.json").write_text(json.dumps({"rule": "mean token id"}))
        safetensors.torch.save_file({"scale": self.scale}, str(staging / "model.safetensors"))

    @classmethod
    def _from_folder(cls, folder: Path, metadata: LearnerMetadata, config: dict) -> MeanIdLearner:
        try:
            scale = safetensors.torch.load_file(str(folder / "model.safetensors"))["scale"]
        except Exception as error:   # noqa: BLE001 (any damage is the learner's format error)
            raise LearnerFormatError(f"{folder}: unreadable weights ({error})") from None
        return cls(scale, metadata)


class MeanIdFilter(ContextFilter):
    """Keeps a context whose score is at least the cut (default: the learner's build-time mean)."""

    name = NAME

    def __init__(self, learner: MeanIdLearner, cut: float) -> None:
        self.learner, self.cut = learner, cut

    def select_before_forward(self, input_ids: torch.Tensor, step: int) -> torch.Tensor:
        return self.learner._score_contexts(input_ids) >= self.cut

    def describe(self) -> dict:
        return {"name": self.name, "threshold": {"kind": "mean_id", "value": self.cut}}


def _metadata(model, tokenizer, corpus, ref, section: dict, split: dict) -> LearnerMetadata:
    return LearnerMetadata(kind=NAME, base_model=BaseModelInfo(model_id=ref.model_id, name_or_path=ref.model_id),
                           tokenizer_fingerprint=tokenizer_fingerprint(tokenizer),
                           embedding_fingerprint=embedding_fingerprint(model.get_input_embeddings().weight),
                           corpus=CorpusInfo(name=corpus.name, fingerprint=corpus.fingerprint),
                           hyperparameters=split, metrics={"mean_token_id": section["mean_token_id"]},
                           extra={"mean_id": section})


def build(request) -> MeanIdLearner:
    ids = request.tokenizer(list(request.corpus.documents[:8]))["input_ids"]
    mean = sum(sum(row) for row in ids) / sum(len(row) for row in ids)
    section = {"contexts": len(ids), "mean_token_id": mean}
    scale = torch.tensor(float(request.option("mean_id_scale", 1.0)))
    config = request.config   # the split the command line asked for, which `eval` reuses
    split = {"context_length": config.context_length, "objective_size": config.objective_size,
             "test_size": config.test_size, "seed": config.seed}
    return MeanIdLearner(scale, _metadata(request.model, request.tokenizer, request.corpus, request.ref, section,
                                          split))


def cli_arguments(parser, command: str) -> None:
    parser.add_argument("--mean-id-scale", type=float, default=None, help="mean_id learners: the score's scale.")


def make_filter(learner: MeanIdLearner, options) -> tuple[str, ContextFilter]:
    section = learner.metadata.kind_section()
    return NAME, MeanIdFilter(learner, float(learner.scale) * section.mean_token_id)


MEAN_ID = LearnerKind(
    NAME, MeanIdLearner, card_template="", method_tag="mean-token-id-filtering",
    task=("mean-token-id", "Mean token id"), quality_metrics=("mean_token_id",), description=" (a test's own kind)",
    section="mean_id", section_type=MeanIdInfo, builder=build, cli_arguments=cli_arguments,
    build_summary=lambda learner, request: f"Wrote {NAME} learner to {learner.folder}", make_filter=make_filter,
    card_warnings=lambda metadata: [WARNING], evaluable=True,
    usage_python="{load}learner = load_learner(\"{corpus}\")   # a {kind} learner, MeanIdFilter(learner)")


@pytest.fixture()
def mean_id_kind(tmp_path):
    """The fourth kind, registered for the test (with a card template of its own), unregistered after."""
    template = tmp_path / "mean_id.md"
    template.write_text("---\n{{ card_data }}\n---\n\n# {{ repo_id }}\n\nA **mean id learner** of kind `{{ kind }}`.\n"
                        "{% for warning in warnings %}\n> **Warning:** {{ warning }}\n{% endfor %}\n"
                        "```python\n{{ usage_python }}\n```\n")
    kind = LearnerKind(**{**MEAN_ID.__dict__, "card_template": str(template)})
    with registered_kind(kind):
        yield kind
    assert NAME not in learner_kinds()


def test_a_fourth_kind_runs_end_to_end_from_one_registration(mean_id_kind, tmp_path, tiny_model_folder, jsonl_corpus,
                                                             capsys):
    common = ["--corpus", str(jsonl_corpus), "--base-model", str(tiny_model_folder), *TINY]
    out, store = tmp_path / "learner", tmp_path / "store"
    # build (its own builder and flag), save with its card and its card warning said at build time
    assert main(["build", "--kind", NAME, "--out", str(out), "--mean-id-scale", "1.0", *common]) == 0
    said = capsys.readouterr()
    assert f"Wrote {NAME} learner to {out}" in said.out and WARNING in said.err
    metadata = LearnerMetadata.load(out)
    section = metadata.kind_section()
    assert metadata.kind == NAME and isinstance(section, MeanIdInfo) and section.contexts == 8
    card_text = (out / "README.md").read_text()   # its own template, with its own warning
    assert f"A **mean id learner** of kind `{NAME}`" in card_text and WARNING in card_text

    # publish to the local store, pull it back by corpus and base model
    assert main(["publish", str(out), "--version", "1.0.0", "--store", str(store), "--json"]) == 0
    published = json.loads(capsys.readouterr().out)
    repo_id = published["repo_id"]
    assert repo_id.startswith("local/mean-id-")
    assert main(["pull", "tiny-corpus", "--base-model", metadata.base_model.model_id, "--kind", NAME,
                 "--store", str(store), "--no-lock", "--json"]) == 0
    pulled = Path(json.loads(capsys.readouterr().out)["folder"])
    assert (pulled / "model.safetensors").read_bytes() == (out / "model.safetensors").read_bytes()

    # filter: finetune with the pulled learner uses its kind's filter, under its arm name
    assert main(["finetune", "--learner", str(pulled), "--steps", "2", "--batch-size", "4", "--eval-every", "1",
                 "--json", *common]) == 0
    results = json.loads(capsys.readouterr().out)["results"]
    assert set(results) == {"standard", NAME} and 0 < results[NAME]["acceptance_rate"] < 1

    # eval: the paired arms with its filter, recorded in learner.json
    assert main(["eval", str(out), "--seeds", "1", "--steps", "2", "--batch-size", "2", "--eval-every", "1",
                 "--json", *common]) == 0
    record = json.loads(capsys.readouterr().out)
    assert set(record["arms"]) == {"standard", NAME, "random"}
    assert record["protocol"]["threshold"]["kind"] == "mean_id"
    assert LearnerMetadata.load(out).evaluations[-1]["id"] == record["id"]

    # card: its template, tags, model-index and warnings
    card = render_card(LearnerMetadata.load(out), repo_id=repo_id, version="1.0.0")
    assert "mean-token-id-filtering" in card.data.tags and f"learner:{NAME}" in card.data.tags
    assert "A **mean id learner**" in str(card) and WARNING in card_warnings(metadata)

    # web page: the server shows its usage snippet and its warning
    with running_server(create_app(store)) as url:
        page = httpx.get(f"{url}/learners/{repo_id}", timeout=30)
    assert page.status_code == 200
    assert "MeanIdFilter(learner)" in page.text and WARNING in page.text


def test_a_taken_name_is_refused(mean_id_kind):
    with pytest.raises(ValueError, match="already registered"):
        register_learner_kind(MEAN_ID)
    with pytest.raises(ValueError, match="already registered"):
        register_learner_kind(LearnerKind(**{**MEAN_ID.__dict__, "name": "igf"}))


def test_an_unknown_kind_is_a_clear_error_never_igf(tmp_path, tiny_model_folder, jsonl_corpus, tokenizer, capsys):
    from model_helpers import make_tiny_gpt2

    with pytest.raises(LearnerFormatError, match="Unknown learner kind 'mean_id'"):
        learner_kind(NAME)
    folder = learner_kind("igf").behaviour("example")(make_tiny_gpt2(tokenizer), tokenizer).save(tmp_path / "x")
    data = json.loads((folder / "learner.json").read_text())
    (folder / "learner.json").write_text(json.dumps({**data, "kind": NAME}))
    assert main(["finetune", "--learner", str(folder), "--steps", "1", "--corpus", str(jsonl_corpus),
                 "--base-model", str(tiny_model_folder), *TINY]) == 2
    assert "Unknown learner kind 'mean_id'" in capsys.readouterr().err
    metadata = LearnerMetadata.load(folder)
    assert "unknown to this learnerhub" in card_warnings(metadata)[0]
    with pytest.raises(LearnerFormatError, match="Unknown learner kind"):
        render_card(metadata, repo_id="local/x", version="1.0.0")


@pytest.mark.parametrize("name", learner_kinds())
def test_every_registered_kind_registers_its_behaviour(name, tmp_path, tiny_gpt2, tokenizer):
    """timm-style: every kind, with no per-name code here, builds, filters and has a tiny example that saves."""
    kind = learner_kind(name)
    for hook in ("builder", "make_filter", "example", "build_summary"):
        assert callable(kind.behaviour(hook)), f"{name} registers no {hook}"
    learner = kind.behaviour("example")(tiny_gpt2, tokenizer).attach(tiny_gpt2, tokenizer)
    assert learner.kind == name
    arm, context_filter = kind.behaviour("make_filter")(learner, None)
    assert isinstance(arm, str) and isinstance(context_filter, ContextFilter)
    learner.save(tmp_path / "learner")
    assert LearnerMetadata.load(tmp_path / "learner").kind == name
