"""The lightweighting trade-off: each [optimize] step's accuracy against flash, RAM and
instructions on the measured board, as a Markdown section and a plot with the board's budget."""

from __future__ import annotations

from pathlib import Path

PLOT_FILE = "tradeoff.png"


def _n(x) -> str:
    return "-" if x is None else f"{int(x):,}"


def _pct(x) -> str:
    return "-" if x is None else f"{100 * x:.2f} %"


def tradeoff_markdown(opt: dict) -> list[str]:
    """Lines of the report's "Lightweighting" section for `opt` (the optimize stage's result)."""
    board = opt.get("board")
    out = [
        "## Lightweighting",
        "",
        f"Each step of [optimize] after the plain int8 baseline; flash, RAM and instructions on "
        f"{board or 'no board (no Cortex-M board in [deploy])'}; accuracy on the test split "
        f"(int8 on the TFLM interpreter). Fine-tuning took {opt.get('train_seconds', 0):.1f} s. "
        f"Plot: {PLOT_FILE}.",
        "",
        "| step | float | int8 (TFLM) | MACs | weights (B, compiled) | 4-bit layers | arena (B) "
        "| flash (B) | RAM (B) | instructions | fits | bit-exact |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in opt["steps"]:
        b = s.get("boards", {}).get(board, {}) if board else {}
        est = " (est.)" if b.get("estimated") else ""
        fits = "-" if not b else ("yes" if b["fits"] else "**NO**")
        exact = "-" if b.get("bit_exact") is None else ("yes" if b["bit_exact"] else "**NO**")
        out.append(
            f"| {s['step']} | {_pct(s.get('float_accuracy'))} | {_pct(s['int8_accuracy'])} "
            f"| {s['macs']:,} | {s['compiled_weight_bytes']:,} | {s['packed_layers']} "
            f"| {s['arena_bytes']:,} | {_n(b.get('flash_used'))}{est} | {_n(b.get('ram_used'))}{est} "
            f"| {_n(b.get('instructions'))} | {fits} | {exact} |"
        )
    if board and opt["steps"] and opt["steps"][0].get("boards", {}).get(board):
        first = opt["steps"][0]["boards"][board]
        out.append("")
        out.append(
            f"{board} budget: flash {_n(first.get('flash_size'))} B, RAM {_n(first.get('ram_size'))} B."
        )
    out.append("")
    return out


def tradeoff_plot(opt: dict, path: Path) -> Path:
    """int8 accuracy against flash, RAM and instructions per step, the budget as a line."""
    from .pareto import Panel, accuracy_plot

    board = opt.get("board")
    points = []
    for s in opt["steps"]:
        row = s.get("boards", {}).get(board, {}) if board else {}
        points.append({
            "label": s["step"], "accuracy": 100 * s["int8_accuracy"],
            "weights": s["compiled_weight_bytes"], "flash": row.get("flash_used"),
            "ram": row.get("ram_used"), "instructions": row.get("instructions"),
        })  # fmt: skip
    panels = [Panel("compiled weights (B)", "weights")]
    if board:
        first = opt["steps"][0].get("boards", {}).get(board, {}) if opt["steps"] else {}
        panels = [
            Panel(f"flash on {board} (B)", "flash", first.get("flash_size")),
            Panel(f"RAM on {board} (B)", "ram", first.get("ram_size")),
            Panel(f"instructions / inference on {board}", "instructions"),
        ]
    return accuracy_plot(points, panels, path, "Accuracy against size and cost, per lightweighting step")
