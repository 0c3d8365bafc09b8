"""Accuracy against cost: the Pareto front of a set of measured models, and the plot both
`tinypipe optimize` (one point per lightweighting step) and `tinypipe search` (one point per
trial) draw: int8 accuracy against flash, RAM and instructions, with the board's budget."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

BLUE, GREY, RED = "#4C72B0", "#AAAAAA", "#C44E52"


def dominates(a: Sequence[float], b: Sequence[float]) -> bool:
    """Whether cost vector `a` is at least as good as `b` everywhere and better somewhere (every
    coordinate is minimised: pass accuracy negated)."""
    return all(x <= y for x, y in zip(a, b)) and any(x < y for x, y in zip(a, b))


def pareto_front(points: Sequence[Sequence[float]]) -> list[int]:
    """Indices of the points no other point dominates (all coordinates minimised), in order.
    Equal points are all kept."""
    return [i for i, p in enumerate(points) if not any(dominates(q, p) for q in points)]


@dataclass(frozen=True)
class Panel:
    """One subplot: `key` of each point on the x axis, `limit` drawn as the budget line."""

    xlabel: str
    key: str
    limit: int | None = None


def accuracy_plot(
    points: Sequence[dict],
    panels: Sequence[Panel],
    path: Path,
    title: str,
    highlight: set[int] | None = None,
) -> Path:
    """Accuracy (point["accuracy"], in %) against each panel's cost, one marker per point with
    its point["label"]. With `highlight` (indices, e.g. the Pareto front), only those are blue
    and labelled, the rest grey."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.6), dpi=100)
    axes = [axes] if len(panels) == 1 else list(axes)
    for ax, panel in zip(axes, panels):
        for i, p in enumerate(points):
            x = p.get(panel.key)
            if x is None or p.get("accuracy") is None:
                continue
            shown = highlight is None or i in highlight
            ax.scatter([x], [p["accuracy"]], color=BLUE if shown else GREY, s=28 if shown else 14,
                       zorder=3 if shown else 2)  # fmt: skip
            if shown:
                ax.annotate(p["label"], (x, p["accuracy"]), fontsize=7, xytext=(4, 4),
                            textcoords="offset points")  # fmt: skip
        if panel.limit:
            ax.axvline(panel.limit, color=RED, linestyle="--", label=f"budget {panel.limit:,}")
            ax.legend(fontsize=7, loc="lower right")
        ax.set_xlabel(panel.xlabel)
        ax.set_ylabel("int8 accuracy (%)")
        ax.grid(alpha=0.3)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, format="png", metadata={"Software": None})
    plt.close(fig)
    return path
