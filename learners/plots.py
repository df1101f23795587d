"""Pictures people would rather see than read: test perplexity against fine-tuning step."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence


def plot_perplexity_curves(curves: Mapping[str, Sequence[Sequence[dict]]], path: str | Path, *,
                           title: str = "Test perplexity during fine-tuning") -> Path:
    """One line per arm (the median over its runs, with the min-max band when there are several).

    `curves` maps an arm's name to a list of runs, each a list of {"step", "test_perplexity"}.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
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
    figure.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)
    return path
