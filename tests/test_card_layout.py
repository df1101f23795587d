"""The card reads like a good Hub card: install and use first, model details, training data, evaluation,
limitations in plain words from its own evaluations, a citation of the method; valid markdown that renders the
same on the server's page as on the Hub (every table whole, no raw HTML), and `datasets:` only for real ids."""

from __future__ import annotations

import re
import subprocess

from huggingface_hub import ModelCard
from registry_helpers import evaluation_record, isolated_learnerhub_home, make_learner_folder  # noqa: F401

from registry import publish
from cards.model_card.render import render_card
from server.browse.pages import render_card as render_card_html


def published_card(tmp_path, model, tokenizer, **options) -> str:
    source = make_learner_folder(tmp_path / "learner", model, tokenizer, **options)
    published = publish(source, version="1.0.0", store=tmp_path / "store")
    return subprocess.run(["git", f"--git-dir={tmp_path / 'store/models' / published.repo_id}", "show",
                           "v1.0.0:README.md"], capture_output=True, text=True, check=True).stdout


def assert_renders_whole(text: str) -> None:
    """Every markdown table becomes an HTML table (a blank line inside one leaves its rows as a `|` paragraph),
    and no HTML is left for the page to escape into literal text."""
    html = render_card_html(text, file_url="/x/")
    tables = len(re.findall(r"^\| *---", text, flags=re.MULTILINE))
    assert tables >= 3 and html.count("<table>") == tables
    assert not re.search(r"<p>\s*\|", html) and "&lt;" not in html.replace("&lt;lambda", "")
    assert "<details" not in text


def test_an_evaluated_card_leads_with_install_and_use_and_says_where_it_helps(tmp_path, tiny_gpt2, tokenizer):
    clean = evaluation_record(1.011, (0.990, 1.030), target="kjv", pool="kjv", vs_random=1.02)
    mixed = evaluation_record(0.914, (0.897, 0.933), vs_random=0.95, seeds=10)
    text = published_card(tmp_path, tiny_gpt2, tokenizer, evaluations=[clean, mixed])
    card = ModelCard(text)
    assert card.data.datasets is None and "datasets:" not in text.split("\n---\n")[0]   # `kjv` is a local corpus
    body = card.text
    headings = re.findall(r"^## (.+)$", body, flags=re.MULTILINE)
    assert headings == ["Install and use", "Model details", "Training data", "Evaluation", "Limitations",
                        "How it was built", "Citation"]
    assert "**Measured effect** (target kjv, pool kjv+pydocs): igf / standard test perplexity ratio 0.914" in body
    install = body.index("```bash\npip install learnerhub")
    assert install < body.index("FilteredDataset(train_dataset") < body.index("## Model details")
    assert 'registry.pull("kjv", base_model="tiny/gpt2", version="1.0.0",\n' in body
    assert "- `model`, `tokenizer`: the base model `tiny/gpt2`" in body and "- `train_dataset`: your training" in body
    assert "| head | `conv`: Conv1d over the base model's frozen input embeddings" in body
    assert re.search(r"\| parameters \| [\d,]+ \(in `model.safetensors`\) \|", body)
    assert "| context length | 32 tokens |" in body and "| base model | `tiny/gpt2` (revision not recorded) |" in body
    assert ("| target | `kjv` | not recorded | local corpus (not on the Hub) | public domain (King James Bible) |"
            in body)
    limits = body[body.index("## Limitations"):body.index("## How it was built")]
    assert ("- On a pool with off-target text (target `kjv`, pool `kjv+pydocs`): helps, ratio 0.914 "
            "[95% CI 0.897-0.933], 10 seeds; 0.950 of random filtering at its own rate.") in limits
    assert ("- On a clean pool (target `kjv` alone): no measurable effect, ratio 1.011 [95% CI 0.990-1.030], "
            "5 seeds; it lost to random filtering at its own rate (1.020).") in limits
    citation = body[body.index("## Citation"):]
    assert "@inproceedings{antonello-etal-2021-selecting" in citation
    assert "title     = {Selecting Informative Contexts Improves Language Model Fine-tuning}" in citation
    assert "Antonello, Richard and Beckage, Nicole and Turek, Javier and Huth, Alexander" in citation
    assert "doi       = {10.18653/v1/2021.acl-long.87}" in citation
    assert_renders_whole(text)


def test_a_real_dataset_id_is_kept_and_an_unevaluated_card_still_renders_whole(tmp_path, tiny_gpt2, tokenizer):
    text = published_card(tmp_path, tiny_gpt2, tokenizer, dataset_id="org/kjv-bible")
    card = ModelCard(text)
    assert card.data.datasets == ["org/kjv-bible"]
    assert "[org/kjv-bible](https://huggingface.co/datasets/org/kjv-bible)" in card.text
    assert "**Measured effect:** not measured yet." in card.text
    assert "- Its effect on fine-tuning is unmeasured." in card.text
    assert_renders_whole(text)


def test_a_streaming_card_cites_multistage_filtering_and_renders_whole(tiny_gpt2, tokenizer):
    from model_helpers import metadata_for

    metadata = metadata_for(tiny_gpt2, tokenizer)
    metadata.kind, metadata.probe = "streaming", None
    text = str(render_card(metadata, repo_id="local/streaming-gpt2-kjv", version="1.0.0", parameters=512))
    assert "## Install and use" in text and "FilteringTrainer(model=model" in text
    assert text.index("pip install learnerhub") < text.index("## Model details")
    assert "title     = {Efficient NLP Model Finetuning via Multistage Data Filtering}" in text
    assert "Ouyang, Xu and Ansari, Shahina Mohd Azam and Lin, Felix Xiaozhu and Ji, Yangfeng" in text
    assert "datasets:" not in text.split("\n---\n")[0]
    assert_renders_whole(text)
