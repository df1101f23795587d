"""Pictures people would rather see than read: perplexity curves, and how a learner did when built."""

from __future__ import annotations

from pathlib import Path
from collections.abc import Mapping, Sequence


def plot_perplexity_curves(curves: Mapping[str, Sequence[Sequence[dict]]], path: str | Path, *,
                           title: str = "Test perplexity during fine-tuning") -> Path:
    """One line per arm (the median over its runs, with the min-max band when there are several).

    `curves` maps an arm's name to a list of runs, each a list of {"step", "test_perplexity"}.
    """
    plt = _pyplot()
    import numpy as np

    figure, axes = plt.subplots(figsize=(6, 4), dpi=120)
    for name, runs in curves.items():
        steps = [point["step"] for point in runs[0]]
        values = np.array([[point["test_perplexity"] for point in run] for run in runs])
        axes.plot(steps, np.median(values, axis=0), marker="o", label=f"{name} (median of {len(runs)})"
                  if len(runs) > 1 else name)
        if len(runs) > 1:
            axes.fill_between(steps, values.min(axis=0), values.max(axis=0), alpha=0.2)
    axes.set_xlabel("optimizer step")
    axes.set_ylabel("test perplexity")
    axes.set_title(title)
    axes.grid(alpha=0.3)
    axes.legend()
    return _save(figure, path)


def plot_held_out_gains(predicted: Sequence[float], measured: Sequence[float], path: str | Path, *,
                        spearman: float | None = None, title: str = "IGF learner on held-out contexts") -> Path:
    """Predicted against measured information gain (both z-scored) on the pairs the learner never trained on."""
    plt = _pyplot()

    figure, axes = plt.subplots(figsize=(5, 4.5), dpi=120)
    axes.scatter(measured, predicted, s=14, alpha=0.7)
    low, high = min(min(measured), min(predicted)), max(max(measured), max(predicted))
    axes.plot([low, high], [low, high], color="grey", linewidth=1, linestyle="--", label="perfect prediction")
    axes.set_xlabel("measured information gain (z-score)")
    axes.set_ylabel("predicted (z-score)")
    subtitle = f"{len(measured)} held-out contexts" + (f", Spearman {spearman:.2f}" if spearman is not None else "")
    axes.set_title(f"{title}\n{subtitle}", fontsize=10)
    axes.grid(alpha=0.3)
    axes.legend(loc="upper left")
    return _save(figure, path)


def plot_streaming_build(trace: Sequence[dict], threshold: float, path: str | Path, *,
                         title: str = "Streaming learner build") -> Path:
    """Per-batch mean loss over the build stream, coloured by stage, with the frozen threshold.

    `trace` is StreamingFilter.trace: one {"step", "loss", "stage", "examples", "trained"} per batch.
    """
    plt = _pyplot()

    from .streaming.filter import STAGE_NAMES

    figure, axes = plt.subplots(figsize=(6, 4), dpi=120)
    for stage, name in STAGE_NAMES.items():
        points = [point for point in trace if point["stage"] == stage and point["loss"] is not None]
        if points:
            axes.scatter([p["step"] for p in points], [p["loss"] for p in points], s=12,
                         label=f"stage {stage}: {name}")
    axes.axhline(threshold, color="black", linestyle="--", linewidth=1, label=f"threshold {threshold:.3g}")
    seen, trained = sum(p["examples"] for p in trace), sum(p["trained"] for p in trace)
    axes.set_xlabel("optimizer step")
    axes.set_ylabel("mean loss of the batch's examples")
    axes.set_title(f"{title}\ntrained on {trained:,} of {seen:,} examples", fontsize=10)
    axes.grid(alpha=0.3)
    axes.legend()
    return _save(figure, path)


def _pyplot():
    """matplotlib's pyplot on the file-only Agg backend (imported late: plotting is rare, matplotlib is slow)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(figure, path: str | Path) -> Path:
    import matplotlib.pyplot as plt

    figure.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, bbox_inches="tight")   # a long title widens the picture instead of being cut
    plt.close(figure)
    return path


def plot_arm_curves(curves: Mapping[str, Sequence[tuple[Sequence[float], Sequence[float]]]], path: str | Path, *,
                    title: str, xlabel: str = "backward passes (contexts trained on)",
                    ylabel: str = "test perplexity") -> Path:
    """One line per arm: the median over paired seeds, with a bootstrap 95% CI band of the median.

    `curves` maps an arm's name to its runs, each (x values, y values) at the same x positions.
    """
    plt = _pyplot()
    from .finetuning.evaluation.effect import median_band

    figure, axes = plt.subplots(figsize=(6.4, 4.2), dpi=120)
    for name, runs in curves.items():
        if not runs:
            continue
        xs = runs[0][0]
        median, low, high = median_band([list(y) for _, y in runs])
        axes.plot(xs, median, marker="o", markersize=3, label=f"{name} ({len(runs)} seeds)")
        axes.fill_between(xs, low, high, alpha=0.18)
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.set_title(title, fontsize=10)
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8)
    return _save(figure, path)


def plot_evaluation(record: dict, path: str | Path, *, title: str) -> Path:
    """An evaluation record's arms: test perplexity against backward passes, median and 95% CI band."""
    curves = {name: [([x for x, _ in run], [y for _, y in run]) for run in arm["curves"]]
              for name, arm in record["arms"].items()}
    return plot_arm_curves(curves, path, title=title)
