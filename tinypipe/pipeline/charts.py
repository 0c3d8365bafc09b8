"""The report's charts as PNG bytes (matplotlib, Agg, no fonts or scripts from the network).

Each function takes plain data from report.json and returns the PNG, or None when there is
nothing to draw. PNG metadata carries no timestamp, so the same run draws the same bytes.
"""

from __future__ import annotations

import io

import numpy as np

BLUE, GREEN, RED, GREY, ORANGE = "#4C72B0", "#55A868", "#C44E52", "#8C8C8C", "#DD8452"


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=100, metadata={"Software": None})
    _plt().close(fig)
    return buf.getvalue()


def layer_costs(layers: list[dict], clock_hz: int | None, board: str | None) -> bytes | None:
    """Horizontal bars of instructions per layer (top: first layer), with the time at the
    board's clock on a second axis when the clock is known."""
    rows = [r for r in layers if r.get("instructions")]
    if not rows:
        return None
    plt = _plt()
    labels = [f"#{r['index']} {r['op']}" for r in rows]
    counts = np.array([r["instructions"] for r in rows], dtype=float)
    fig, ax = plt.subplots(figsize=(8.0, 0.32 * len(rows) + 1.4))
    y = np.arange(len(rows))
    ax.barh(y, counts, color=BLUE)
    ax.set_yticks(y, labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(f"instructions per inference on {board}")
    share = counts / counts.sum()
    for yi, c, s in zip(y, counts, share):
        ax.text(c, yi, f" {int(c):,} ({100 * s:.0f} %)", va="center", fontsize=7)
    ax.set_xlim(0, counts.max() * 1.3)
    if clock_hz:
        top = ax.secondary_xaxis("top", functions=(lambda n: n / clock_hz * 1e3, lambda ms: ms * clock_hz / 1e3))
        top.set_xlabel(f"ms at {clock_hz / 1e6:g} MHz (one instruction per cycle)", fontsize=8)
    ax.spines[["right"]].set_visible(False)
    return _png(fig)


def confusion(matrix: list[list[int]], classes: list[str]) -> bytes | None:
    """Heatmap of the int8 model's confusion matrix, each row shaded by its share of the class."""
    if not matrix:
        return None
    plt = _plt()
    cm = np.array(matrix, dtype=float)
    share = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    k = len(classes)
    size = min(5.0, 1.6 + 0.35 * k)
    fig, ax = plt.subplots(figsize=(size + 1.0, size))
    im = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(k), classes, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(k), classes, fontsize=8)
    ax.set_xlabel("predicted (int8 model)")
    ax.set_ylabel("true class")
    for i in range(k):
        for j in range(k):
            if cm[i, j]:
                ax.text(j, i, f"{int(cm[i, j])}", ha="center", va="center", fontsize=8,
                        color="white" if share[i, j] > 0.6 else "black")  # fmt: skip
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="share of the true class")
    return _png(fig)


def memory_budget(boards: dict[str, dict]) -> bytes | None:
    """Flash and RAM used against each board's budget, in bytes on a log scale (a 20 KB model
    on a 4 MB board still shows), with the stack reservation drawn apart inside RAM."""
    rows = []
    for name, b in boards.items():
        f, r = b.get("flash", {}), b.get("ram", {})
        if f.get("budget") and r.get("budget") and f.get("used") is not None:
            rows.append((f"{name} flash", f["used"], 0, f["budget"]))
            rows.append((f"{name} RAM", r["used"], r.get("stack") or 0, r["budget"]))
    if not rows:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8.0, 0.5 * len(rows) + 1.4))
    y = np.arange(len(rows))
    low = 2 ** int(np.floor(np.log2(max(1, min(u - s for _, u, s, _ in rows if u - s > 0) / 4))))
    budget = np.array([b for *_, b in rows])
    used = np.array([u for _, u, _, _ in rows])
    stack = np.array([s for _, _, s, _ in rows])
    ax.barh(y, budget - low, left=low, color="#EEEEEE", edgecolor=GREY, label="budget")
    ax.barh(y, used - stack - low, left=low, color=[RED if u > b else BLUE for u, b in zip(used, budget)],
            label="used")  # fmt: skip
    ax.barh(y, stack, left=used - stack, color=ORANGE, label="stack reserved")
    for yi, u, b in zip(y, used, budget):
        ax.text(b * 1.15, yi, f"{u:,} / {b:,} B ({100 * u / b:.1f} %)", va="center", fontsize=8)
    ax.set_xscale("log", base=2)
    ax.set_xlim(low, budget.max() * 40)
    ax.set_yticks(y, [r[0] for r in rows], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("bytes (log scale)")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.3 - 0.4 / len(rows)), ncol=3, frameon=False)
    ax.spines[["right", "top"]].set_visible(False)
    return _png(fig)


def arena_timeline(buffers: list[dict], arena: int, layers: list[dict]) -> bytes | None:
    """Which tensor lives where in the arena, and when: one rectangle per buffer spanning the
    layers it is live (x) and its bytes in the arena (y)."""
    if not buffers:
        return None
    plt = _plt()
    from matplotlib.patches import Rectangle

    fig, ax = plt.subplots(figsize=(9.0, 4.2))
    colors = plt.get_cmap("tab20").colors
    for i, b in enumerate(sorted(buffers, key=lambda b: (b["first"], b["offset"]))):
        x0, w = b["first"] - 0.45, b["last"] - b["first"] + 0.9
        ax.add_patch(Rectangle((x0, b["offset"]), w, b["size"], facecolor=colors[i % len(colors)],
                               edgecolor="black", linewidth=0.6, alpha=0.9))  # fmt: skip
        if b["size"] > 0.06 * arena:
            ax.text(x0 + w / 2, b["offset"] + b["size"] / 2, f"{b['label']}\n{b['size']:,} B",
                    ha="center", va="center", fontsize=7)  # fmt: skip
    n = len(layers)
    ax.set_xlim(-0.6, n - 0.4)
    ax.set_ylim(0, max(arena, 1) * 1.05)
    ax.axhline(arena, color=GREEN, linewidth=1, label=f"arena {arena:,} B")
    ax.set_xticks(range(n), [f"#{r['index']} {r['op']}" for r in layers], rotation=60, ha="right", fontsize=7)
    ax.set_ylabel("arena offset (bytes)")
    ax.legend(fontsize=8, loc="upper right")
    return _png(fig)


def live_arena(layers: list[dict], arena: int, tflm_arena: int | None) -> bytes:
    """Bars of the arena bytes live during each layer, with the plan's and TFLM's arena."""
    plt = _plt()
    labels = [f"#{r['index']} {r['op']}" for r in layers]
    live = [r["live_bytes"] for r in layers]
    fig, ax = plt.subplots(figsize=(max(6.0, 0.45 * len(labels) + 2), 4.0))
    ax.bar(range(len(live)), live, color=BLUE, label="live activations (bytes)")
    ax.axhline(arena, color=GREEN, linestyle="-", label=f"tinypipe arena {arena:,} B")
    if tflm_arena:
        ax.axhline(tflm_arena, color=RED, linestyle="--", label=f"TFLM smallest arena {tflm_arena:,} B")
    ax.set_xticks(range(len(labels)), labels, rotation=60, ha="right", fontsize=7)
    ax.set_ylabel("bytes")
    ax.set_title("Arena use over the layers")
    ax.legend(fontsize=8, loc="center right")
    return _png(fig)
