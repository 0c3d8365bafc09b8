"""Run reports: report.json for machines, report.md and a self-contained report.html for people
(laid out section by section in report_html), and memory.png, the arena over the layers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from tinypipe.compiler.memory_report import timeline_markdown

from . import charts
from .report_html import estimate_notes, io_rows, layer_inputs, render_html


def memory_plot(layers: list[dict], arena: int, tflm_arena: int | None, path: Path) -> Path:
    """Bar chart of the arena bytes live during each layer, with the plan's and TFLM's arena."""
    path.write_bytes(charts.live_arena(layers, arena, tflm_arena))
    return path


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.2f} %"


def _n(x) -> str:
    return "-" if x is None else f"{int(x):,}"


def _f(x, fmt: str) -> str:
    return "-" if x is None else format(x, fmt)


def _stack_note(ram: dict) -> str:
    return f" (incl. {ram['stack']:,} B stack)" if ram.get("stack") else ""


def render_markdown(r: dict) -> str:
    acc = r.get("accuracy", {})
    mem = r["memory"]
    drop = "-" if acc.get("drop_points") is None else f"{acc['drop_points']:.2f} points"
    out = [f"# tinypipe report: {r['name']}", "", f"Run {r.get('run_date', '-')}.", ""]
    out += [
        f"Model `{r['model']['tflite']}` (sha256 `{r['model']['sha256'][:16]}`), "
        f"{r['model']['macs']:,} MACs, {r['model']['param_bytes']:,} parameter bytes.",
        "",
    ]
    if io := io_rows(r):
        out += [
            "## Inputs and outputs",
            "",
            "| | tensor | shape | type | quantization |",
            "|---|---|---|---|---|",
        ]
        out += ["| " + " | ".join(row) + " |" for row in io] + [""]
    if acc.get("int8") is not None:
        out += [
            "## Accuracy",
            "",
            f"| | float | {acc.get('activations', 'int8')} (TFLM) | drop |",
            "|---|---|---|---|",
            f"| test split ({acc.get('samples', '-')} samples) | {_pct(acc.get('float'))} | "
            f"{_pct(acc.get('int8'))} | {drop} |",
            "",
        ]
    else:
        out += [
            "No labelled test split: accuracy not measured (the boards are checked against TFLM).",
            "",
        ]
    cm = acc.get("confusion_matrix")
    if cm:
        classes = acc.get("classes") or [str(i) for i in range(len(cm))]
        kind = acc.get("activations", "int8")
        out += [f"Confusion matrix of the {kind} model (rows: true class, columns: predicted):", ""]
        out.append("| true \\ predicted | " + " | ".join(classes) + " |")
        out.append("|---" * (len(classes) + 1) + "|")
        for name, row in zip(classes, cm):
            out.append(f"| {name} | " + " | ".join(str(v) for v in row) + " |")
        out.append("")
    out += ["## Boards", "", "| board | bit-exact vs TFLM | samples | mismatches | instructions / inference "
            "| ms / inference (est.) | µJ / inference (est.) "
            "| flash used / budget | RAM used / budget | fits |", "|---|---|---|---|---|---|---|---|---|---|"]
    for name, b in r["boards"].items():
        fit = b.get("fit", {})
        e = b.get("estimate") or {}
        out.append(
            f"| {name} | {'**yes**' if b.get('bit_exact') else '**NO**'} | {b.get('samples', '-')} | "
            f"{b.get('mismatches', '-')} | {_n(b.get('instructions'))} | "
            f"{_f(e.get('time_ms'), ',.3f')} | {_f(e.get('energy_uj'), ',.2f')} | "
            f"{_n(b.get('flash', {}).get('used'))} / {_n(b.get('flash', {}).get('budget'))} | "
            f"{_n(b.get('ram', {}).get('used'))} / {_n(b.get('ram', {}).get('budget'))}"
            f"{_stack_note(b.get('ram', {}))} | "
            f"{fit.get('verdict', '-')} |"
        )
    notes = estimate_notes(r["boards"])
    if notes:
        out += ["", "Estimates, not measurements: " + " ".join(notes)]
    out += ["", "### Flash split", "", "| board | weights | kernels | rest | total |", "|---|---|---|---|---|"]
    for name, b in r["boards"].items():
        f = b.get("flash", {})
        if f.get("used") is not None:
            out.append(
                f"| {name} | {_n(f.get('weights'))} | {_n(f.get('kernels'))} | {_n(f.get('rest'))} | {_n(f.get('used'))} |"
            )
    if r.get("optimize"):  # the [optimize] steps (tradeoff.py)
        from .tradeoff import tradeoff_markdown

        out += [""] + tradeoff_markdown(r["optimize"])
    if r.get("npu"):
        out += [""] + npu_markdown(r["npu"], r["boards"])
    out += [
        "",
        "## Memory",
        "",
        f"tinypipe arena: **{mem['arena_bytes']:,} B** (+ {mem['io_bytes']:,} B of input/output buffers); "
        f"TFLM's smallest arena for the same model: {_n(mem.get('tflm_arena_bytes'))} B.",
        *([f"{mem['order']}."] if mem.get("order") else []),
        "",
        "![arena over the layers](memory.png)",
        "",
        *weights_markdown(r.get("weights")),
        "## Layers",
        "",
        f"| # | op | input | output | MACs | params (B) | live arena (B) | instructions ({r.get('layer_instructions_board') or 'not measured'}) "
        "| ms (est.) | µJ (est.) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in r["layers"]:
        out.append(
            f"| {row['index']} | {row['op']} | {layer_inputs(row)} | {'x'.join(map(str, row['output']))} "
            f"| {row['macs']:,} | {row['param_bytes']:,} | {row['live_bytes']:,} | {_n(row.get('instructions'))} "
            f"| {_f(row.get('time_ms'), ',.4f')} | {_f(row.get('energy_uj'), ',.3f')} |"
        )
    if r.get("inplace_timeline"):
        out += ["", timeline_markdown(r["inplace_timeline"])]
    out += ["", "## Provenance", ""]
    for k, v in r.get("toolchain", {}).items():
        out.append(f"- {k}: {v}")
    out.append("")
    return "\n".join(out)


def weights_markdown(weights: dict | None) -> list[str]:
    """The weight layout of each layer that could take int16-expanded weights (flash_budget.py):
    the summary line and, per layer, what int16 weights cost in flash and save in instructions."""
    if not weights:
        return []
    out = ["### Weight layouts", "", f"{weights['summary']}.", ""]
    if not weights["layers"]:
        return out
    out += [
        "| # | op | MACs | layout | int16: extra flash (B) | int16: instructions saved (est.) |",
        "|---|---|---|---|---|---|",
    ]
    for x in weights["layers"]:
        out.append(
            f"| {x['op']} | {x['opcode']} | {x['macs']:,} | {x['layout']} | "
            f"{x['extra_bytes']:,} | {x['instructions_saved']:,} |"
        )
    return out + [""]


def npu_markdown(npu: dict, boards: dict) -> list[str]:
    """Vela's Ethos-U estimates next to the measured Cortex-M instructions of the same model."""
    out = [
        "## Ethos-U NPU estimate",
        "",
        "Vela's performance-model estimates (not measurements) for the same int8 model.",
        "",
        "| accelerator | NPU clock | cycles | ms / inference | SRAM (B) | flash (B) | DRAM (B) | ops on CPU |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for acc, e in npu.items():
        out.append(
            f"| {acc} | {e['clock_hz'] / 1e6:g} MHz | {e['cycles_total']:,} | {e['time_ms']:.4f} "
            f"| {e['sram_bytes']:,} | {e['flash_bytes']:,} | {e['dram_bytes']:,} | {e['cpu_ops']} |"
        )
    measured = [(n, b["instructions"]) for n, b in boards.items() if b.get("instructions")]
    if measured:
        out += [
            "",
            "Cortex-M, measured: "
            + "; ".join(f"{n} {i:,} instructions" for n, i in measured)
            + ".",
        ]
    return out


def write_report(report: dict, out_dir: Path) -> list[Path]:
    out_dir = Path(out_dir)
    png = memory_plot(
        report["layers"],
        report["memory"]["arena_bytes"],
        report["memory"].get("tflm_arena_bytes"),
        out_dir / "memory.png",
    )
    md = render_markdown(report)
    paths = [out_dir / "report.json", out_dir / "report.md", out_dir / "report.html", png]
    paths[0].write_text(json.dumps(report, indent=2, default=_json_default) + "\n")
    paths[1].write_text(md)
    paths[2].write_text(render_html(report))
    if report.get("optimize"):
        from .tradeoff import PLOT_FILE, tradeoff_plot

        paths.append(tradeoff_plot(report["optimize"], out_dir / PLOT_FILE))
    return paths


def _json_default(o):
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o)}")
