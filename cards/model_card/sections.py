"""The sections of a model card that need more than a template: model details, training data, and the
limitations said in plain words from the learner's own evaluation records.

Every cell is a one-line string (a table cell with a newline or a `|` would break the table on the page and
on the Hub), and a fact that is not recorded says so rather than being guessed.
"""

from __future__ import annotations

from ..format.effect_wording import effect_verdict
from ..format.evaluation_records import parse_record
from ..format.kinds import find_learner_kind
from ..format.metadata import LearnerMetadata
from ..format.metadata_sections import CorpusInfo

#: What each IGF head is, in words (config.json's `head`).
HEADS = {"bag_of_tokens": "`bag_of_tokens`: ridge regression over hashed uni- and bigrams of the context's tokens",
         "conv": "`conv`: Conv1d over the base model's frozen input embeddings, max-pooled, two dense layers"}
#: Licences of the corpora learnerhub ships (learners/data/README.md); any other corpus's licence is not recorded.
KNOWN_LICENCES = {"kjv-sample": "public domain (King James Bible)", "kjv": "public domain (King James Bible)",
                  "pydocs-sample": "PSF-2.0 (Python documentation)", "pydocs": "PSF-2.0 (Python documentation)"}


def cell(value: object) -> str:
    """A value as a markdown table cell: one line, pipes escaped."""
    return " ".join(str(value).split()).replace("|", "\\|")


def model_details(metadata: LearnerMetadata, *, head: str | None, parameters: int | None) -> list[tuple[str, str]]:
    """(field, value) rows: what the learner is, what it needs, where its labels came from."""
    base, facts = metadata.base_model, {**metadata.hyperparameters}
    model_id = base.model_id or base.name_or_path or "unknown"
    kind = find_learner_kind(metadata.kind)
    rows = [("kind", f"`{metadata.kind}`" + (kind.description if kind else " (unknown to this learnerhub)"))]
    if head:
        rows.append(("head", HEADS.get(head, f"`{head}`")))
    rows.append(("parameters", f"{parameters:,} (in `model.safetensors`)" if parameters else "see `model.safetensors`"))
    if "context_length" in facts:
        rows.append(("context length", f"{facts['context_length']} tokens"))
    rows.append(("base model", f"`{model_id}`" + (f" at revision `{base.revision}`" if base.revision else
                                                   " (revision not recorded)")))
    if metadata.probe is not None:
        probe = metadata.probe.to_dict()
        pairs = probe.get("pairs") or facts.get("pairs")
        rows.append(("labels", f"information gain of one fine-tuning step of `{model_id}`, measured with the "
                               f"`{probe.get('name') or probe.get('probe') or '?'}` probe"
                               + (f" on {pairs} contexts" if pairs else "")
                               + (f" against an objective set of {probe['objective_size']}"
                                  if probe.get("objective_size") else "")))
    elif metadata.run is not None:
        rows.append(("labels", f"loss above the frozen threshold of `{model_id}`, learned in one fine-tuning pass "
                               f"over {metadata.run.examples or '?'} examples"))
    default = default_score_description(metadata.metrics)
    if default:
        rows.append(("default threshold", default))
    rows.append(("licence", facts.get("license", "apache-2.0")))
    rows.append(("built with", f"learnerhub {metadata.learnerhub_version or '?'}, {metadata.created_at or '?'}"))
    return [(name, cell(value)) for name, value in rows]


def default_score_description(metrics: dict) -> str | None:
    """What the default threshold reads, from the build's calibration (None for kinds without one)."""
    if "affinity_target_quantiles" in metrics:
        return ("predicted gain + target affinity (a target-vs-pool classifier)"
                + (" - shortfall below the target in the base model's input embeddings (a target-vs-pool classifier"
                   " of each context's mean embedding)" if "embedding_target_mean" in metrics else "")
                + (" - shortfall below the target's word order (a word bigram model)" if "order_gate" in metrics
                   else "") + ", each standardised on held-out target text, cut at a low quantile of that text's")
    if "target_prediction_quantiles" in metrics:
        return "predicted gain, cut at a low quantile of held-out target text's"
    return None


def training_data(metadata: LearnerMetadata) -> list[dict[str, str]]:
    """One row per corpus the learner was built from: the target, and the pool when there is one."""
    rows = [_corpus_row("target (objective and test sets)" if metadata.pool else "target", metadata.corpus)]
    if metadata.pool:
        rows.append(_corpus_row("pool (training contexts)", metadata.pool))
    return rows


def _corpus_row(role: str, corpus: CorpusInfo) -> dict[str, str]:
    documents = "not recorded" if corpus.documents is None else f"{corpus.documents:,}"
    if corpus.usable_documents is not None:
        documents += f" ({corpus.usable_documents:,} long enough for a context)"
    parts = corpus.name.split("+")
    licences = [KNOWN_LICENCES.get(part) for part in parts]
    licence = "; ".join(f"{part}: {text}" if len(parts) > 1 else text for part, text in zip(parts, licences)
                        if text) if any(licences) else "not recorded"
    if any(licences) and not all(licences):
        licence += "; others not recorded"
    return {key: cell(value) for key, value in {
        "role": role, "name": f"`{corpus.name}`", "documents": documents,
        "dataset": f"[{corpus.dataset_id}](https://huggingface.co/datasets/{corpus.dataset_id})"
                   if corpus.dataset_id else "local corpus (not on the Hub)",
        "licence": licence, "fingerprint": f"`{str(corpus.fingerprint or '?')[:23]}`"}.items()}


_IN_WORDS = {"better": "helps", "better, too few seeds": "probably helps (CI below 1, too few seeds for p < 0.05)",
             "not significant": "no measurable effect", "too few seeds": "too few seeds to tell",
             "worse, too few seeds": "probably hurts (CI above 1, too few seeds for p < 0.05)", "worse": "hurts"}


def regime_limitations(records: list[dict]) -> list[str]:
    """Which regimes it helps in, from its own evaluations (newest per target and pool), in plain words:
    "On a pool with off-target text (target kjv, pool kjv+pydocs): helps, ratio 0.914 [95% CI 0.897-0.933]"."""
    newest: dict[tuple[str, str], dict] = {}
    for record in records:
        regime = record["regime"]
        newest[(regime["target"]["name"], regime["pool"]["name"])] = record
    lines = []
    for (target, pool), record in newest.items():
        effect = record["effect"]["final"]
        clean = record["regime"].get("target_is_pool", target == pool)
        where = f"On a clean pool (target `{target}` alone)" if clean else \
            f"On a pool with off-target text (target `{target}`, pool `{pool}`)"
        ratio = f"ratio {effect['median_ratio']:.3f}"
        if effect.get("ci_low") is not None and effect.get("ci_high") is not None:
            ratio += f" [95% CI {effect['ci_low']:.3f}-{effect['ci_high']:.3f}]"
        seeds = f", {effect['seeds']} seeds" if effect.get("seeds") else ""
        line = f"{where}: {_IN_WORDS[effect_verdict(effect)]}, {ratio}{seeds}"
        random = record["effect"].get("vs_random_final") or {}
        if isinstance(random.get("median_ratio"), (int, float)):
            line += (f"; it lost to random filtering at its own rate ({random['median_ratio']:.3f})"
                     if random["median_ratio"] >= 1 else f"; {random['median_ratio']:.3f} of random filtering at "
                                                          "its own rate")
        lines.append(line + peer_words(record.get("effect")) + ".")
    return lines


_PEER_NAMES = {"dsir": "DSIR", "classifier": "a hashed word n-gram classifier"}
#: How each verdict of learner / peer reads on the card (`effect_verdict`); {peer} and {ratio} are filled in.
_AGAINST_PEER = {
    "better": "ahead of {peer} at the learner's rate ({ratio})",
    "better, too few seeds": "probably ahead of {peer} at the learner's rate ({ratio}; CI below 1, too few seeds)",
    "not significant": "level with {peer} at the learner's rate ({ratio}), which needs no probe",
    "too few seeds": "too few seeds to compare with {peer} at the learner's rate ({ratio})",
    "worse, too few seeds": "probably behind {peer} at the learner's rate ({ratio}; CI above 1, too few seeds)",
    "worse": "behind {peer} at the learner's rate ({ratio}): the cheaper selector does better on this pool"}


def peer_effects(raw_effects: object) -> dict[str, dict]:
    """{peer name: effect summary} of the peers an evaluation ran (`eval --peers`), from the typed record, so a
    malformed entry is left out rather than breaking the card."""
    effects = parse_record({"effect": raw_effects}) if isinstance(raw_effects, dict) else None
    typed = effects.effect if effects is not None else None
    found = {}
    for peer, name in _PEER_NAMES.items():
        summary = getattr(typed, f"vs_{peer}_final", None) if typed is not None else None
        if summary is not None and summary.median_ratio is not None:
            found[name] = summary.summary()
    return found


def peer_words(raw_effects: object) -> str:
    """How it fared against the selectors a user could pick instead, at its own rate: "; level with DSIR at the
    learner's rate (0.996), which needs no probe"."""
    return "".join("; " + _AGAINST_PEER[effect_verdict(effect)].format(peer=name, ratio=f"{effect['median_ratio']:.3f}")
                   for name, effect in peer_effects(raw_effects).items())
