"""`learnerhub eval`: the evaluation record is written, survives publish and pull, and leads the card."""

import json

from huggingface_hub import ModelCard
from model_helpers import WORDS, synthetic_documents
from registry_helpers import isolated_learnerhub_home  # noqa: F401 (autouse fixture)

import registry
from learnerhub.cli.main import main
from learners.base_models import load_base_model

TINY = ["--context-length", "16", "--objective-size", "4", "--test-size", "4"]
RUN = ["--seeds", "3", "--steps", "2", "--batch-size", "4", "--eval-every", "1"]


def write(path, texts):
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts))
    return path


def test_eval_records_the_effect_and_publish_and_pull_keep_it(tmp_path, tiny_model_folder, documents, capsys):
    target = write(tmp_path / "bible.jsonl", documents)
    off = write(tmp_path / "code.jsonl", synthetic_documents(40, seed=5, vocabulary=[w[::-1] for w in WORDS]))
    folder = tmp_path / "learner"
    common = ["--corpus", str(target), str(off), "--target", str(target), "--base-model", str(tiny_model_folder), *TINY]
    assert main(["build", *common, "--out", str(folder), "--pairs", "40", "--head", "bag_of_tokens"]) == 0
    capsys.readouterr()
    assert main(["eval", str(folder), *common, *RUN]) == 0
    printed = capsys.readouterr().out
    assert "igf / standard, last step:" in printed and "paired seeds" in printed and "igf / random" in printed
    record = json.loads((folder / "learner.json").read_text())["evaluations"][0]
    assert record["regime"]["target"]["name"] == "bible" and record["regime"]["pool"]["name"] == "bible+code"
    assert set(record["arms"]) == {"standard", "igf", "random", "standard-target"}
    assert all(len(arm["final_perplexity"]) == 3 for arm in record["arms"].values())
    assert record["effect"]["final"]["seeds"] == 3 and record["protocol"]["steps"] == 2
    assert (folder / "assets" / "eval_plot.png").read_bytes()[:4] == b"\x89PNG"

    store = tmp_path / "store"
    registry.publish(folder, version="1.0.0", store=store)
    model, tokenizer, ref = load_base_model(str(tiny_model_folder))
    learner, resolution = registry.pull("bible", base_model=ref.model_id, store=store, model=model, tokenizer=tokenizer)
    assert learner.metadata.evaluations[0]["id"] == record["id"]
    card = ModelCard((resolution.folder / "README.md").read_text())
    ratio = {r.metric_type: r for r in card.data.eval_results}["test_perplexity_ratio"]
    assert ratio.metric_value == round(record["effect"]["final"]["median_ratio"], 4)
    assert card.text.index("assets/eval_plot.png") < card.text.index("assets/build_plot.png")


def test_eval_auto_publishes_a_fresh_learner_with_its_record(tmp_path, tiny_model_folder, documents, capsys):
    target = write(tmp_path / "bible.jsonl", documents)
    off = write(tmp_path / "code.jsonl", synthetic_documents(40, seed=5, vocabulary=[w[::-1] for w in WORDS]))
    assert main(["eval", "auto", "--corpus", str(target), str(off), "--target", str(target), "--base-model",
                 str(tiny_model_folder), "--pairs", "40", "--head", "bag_of_tokens", "--store", str(tmp_path / "s"),
                 "--json", *TINY, *RUN]) == 0
    record = json.loads(capsys.readouterr().out)
    model, tokenizer, ref = load_base_model(str(tiny_model_folder))
    learner, _ = registry.pull("bible", base_model=ref.model_id, store=tmp_path / "s", model=model, tokenizer=tokenizer)
    assert [e["id"] for e in learner.metadata.evaluations] == [record["id"]]
