"""The results of `tinypipe search`: search.json (every trial), search.md with the Pareto front
and every trial as tables, pareto.png, and best/ (the most accurate model that fits)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

from tinypipe.outdir import write_atomic

from .pareto import Panel, accuracy_plot, pareto_front

RESULT_FILE = "search.json"
REPORT_FILE = "search.md"
PLOT_FILE = "pareto.png"
BEST_DIR = "best"


def verdict(r: dict, max_instructions: int) -> tuple[bool, str]:
    """(feasible, why): a measured trial is feasible when it fits the board, its outputs are
    bit-exact with TFLM and it stays within the instruction budget."""
    if r["status"] != "measured":
        return False, r["status"]
    b = r["board"]
    if not b["fits"]:
        return False, "does not fit"
    if not b["bit_exact"]:
        return False, "device outputs differ from TFLM"
    if max_instructions and (b["instructions"] or 0) > max_instructions:
        return False, f"{b['instructions']:,} instructions > {max_instructions:,}"
    return True, "fits"


def _costs(r: dict) -> tuple[float, int, int, int]:
    b = r["board"]
    return (-r["int8_accuracy"], b["instructions"] or 0, b["flash_used"], b["ram_used"])


def summarize(plan, ledger: dict[str, dict], ray_run: dict | None) -> dict:
    """search.json: the plan's finished trials in the space's order, each with its verdict;
    the Pareto front and the best trial among the feasible ones."""
    from tinypipe.device.boards import get_board

    board = get_board(plan.settings.board)
    trials = []
    for trial_id in plan.trials:
        if trial_id in ledger:
            r = dict(ledger[trial_id])
            r["feasible"], r["verdict"] = verdict(r, plan.max_instructions)
            trials.append(r)
    feasible = [r for r in trials if r["feasible"]]
    # The front spans the instruction budget: it shows what accuracy more time would buy.
    working = [
        r
        for r in trials
        if r["status"] == "measured" and r["board"]["fits"] and r["board"]["bit_exact"]
    ]
    front = [working[i]["id"] for i in pareto_front([_costs(r) for r in working])]
    best = min(feasible, key=lambda r: (_costs(r), r["id"]), default=None)
    counts = {s: sum(r["status"] == s for r in trials) for s in ("measured", "rejected", "stopped")}
    counts["feasible"] = len(feasible)
    return {
        "config": str(plan.cfg.path),
        "board": {
            "name": board.name,
            "flash_size": board.flash_region.size,
            "ram_size": board.ram_region.size,
            "clock_hz": board.clock_hz,
        },  # fmt: skip
        "max_instructions": plan.max_instructions or None,
        "space_size": plan.space_size,
        "planned": len(plan.trials),
        "settings": plan.settings.as_dict(),
        "counts": counts,
        "pareto": front,
        "best": best["id"] if best else None,
        "last_run": ray_run,
        "trials": trials,
    }


def _n(x) -> str:
    return "-" if x is None else f"{int(x):,}"


def _ms(instructions, clock_hz: int) -> str:
    return "-" if not instructions or not clock_hz else f"{instructions / clock_hz * 1e3:.2f}"


def render_markdown(summary: dict) -> str:
    b = summary["board"]
    by_id = {r["id"]: r for r in summary["trials"]}
    c = summary["counts"]
    limit = summary["max_instructions"]
    out = [
        f"# tinypipe search: {b['name']}",
        "",
        f"Board {b['name']}: flash {b['flash_size']:,} B, RAM {b['ram_size']:,} B, "
        f"{b['clock_hz'] / 1e6:g} MHz" + (f"; at most {limit:,} instructions per inference" if limit else "")
        + ".",
        "",
        f"{len(summary['trials'])} of {summary['planned']} planned trials finished "
        f"({summary['space_size']} candidates in the space): {c['measured']} measured, "
        f"{c['rejected']} rejected by the fit check, {c['stopped']} stopped early; "
        f"{c['feasible']} feasible.",
        "",
    ]  # fmt: skip
    run = summary.get("last_run")
    if run and run.get("trials_run"):
        per_min = 60 * run["trials_run"] / run["seconds"] if run["seconds"] else 0
        out += [
            f"Last run: {run['trials_run']} trials in {run['seconds']:.0f} s on {run['address']} "
            f"Ray ({run['cpus']} CPUs, {run['concurrent']} at once): {per_min:.1f} trials per minute.",
            "",
        ]
    out += [
        "## Pareto front",
        "",
        "Measured trials that fit the board and are bit-exact, which no other such trial beats "
        "on int8 accuracy, instructions, flash and RAM at once (whether they keep the "
        f"instruction budget is in the last column); plot: {PLOT_FILE}.",
        "",
    ]
    out += _table([by_id[i] for i in summary["pareto"]], b["clock_hz"], with_verdict=True)
    if summary["best"]:
        best = by_id[summary["best"]]
        out += [
            "",
            f"Best: `{best['id']}` ({best['label']}), int8 accuracy "
            f"{100 * best['int8_accuracy']:.2f} %, in `{BEST_DIR}/model.tflite`:",
            "",
            f"    tinypipe firmware {BEST_DIR}/model.tflite --board {b['name']} -o firmware",
            "",
        ]
        if best["candidate"].get("input_size"):
            out += [
                f"Its input is resampled to {best['input_shape']} "
                "(tinypipe.model.datasets.resample): feed the device data of that size.",
                "",
            ]
    else:
        out += ["", "No trial is feasible: widen the space towards smaller or faster models.", ""]
    out += ["## All trials", ""]
    out += _table(summary["trials"], b["clock_hz"], with_verdict=True)
    out.append("")
    return "\n".join(out)


def _table(rows: list[dict], clock_hz: int, with_verdict: bool = False) -> list[str]:
    head = "| trial | candidate | int8 acc. | instructions | ms | flash (B) | RAM (B) | bit-exact |"
    sep = "|---|---|---|---|---|---|---|---|"
    if with_verdict:
        head, sep = head + " verdict |", sep + "---|"
    out = [head, sep]
    for r in rows:
        b = r.get("board") or {}
        fc = r.get("fit_check") or {}
        acc = "-" if r.get("int8_accuracy") is None else f"{100 * r['int8_accuracy']:.2f} %"
        flash, ram = _n(b.get("flash_used")), _n(b.get("ram_used"))
        if not b and fc.get("flash_needed"):  # not measured: the fit check's estimate
            flash, ram = f"{_n(fc['flash_needed'])} (est.)", f"{_n(fc['ram_needed'])} (est.)"
        exact = "-" if b.get("bit_exact") is None else ("yes" if b["bit_exact"] else "**NO**")
        line = (
            f"| `{r['id']}` | {r['label']} | {acc} | {_n(b.get('instructions'))} "
            f"| {_ms(b.get('instructions'), clock_hz)} | {flash} | {ram} | {exact} |"
        )
        if with_verdict:
            why = r["verdict"] if r["status"] == "measured" else f"{r['status']}: {r.get('reason')}"
            line += f" {why} |"
        out.append(line)
    if not rows:
        out.append("| - |" + " |" * (sep.count("|") - 2))
    return out


def pareto_plot(summary: dict, path: Path) -> Path:
    """Accuracy against instructions, flash and RAM for every measured trial that fits; the
    Pareto front in blue, labelled with the trial ids."""
    b = summary["board"]
    rows = [r for r in summary["trials"] if r["status"] == "measured" and r["board"]["fits"]]
    points = [
        {"label": r["id"][:6], "accuracy": 100 * r["int8_accuracy"],
         "instructions": r["board"]["instructions"], "flash": r["board"]["flash_used"],
         "ram": r["board"]["ram_used"]}
        for r in rows
    ]  # fmt: skip
    front = {i for i, r in enumerate(rows) if r["id"] in summary["pareto"]}
    panels = [
        Panel(
            f"instructions / inference on {b['name']}", "instructions", summary["max_instructions"]
        ),
        Panel(f"flash on {b['name']} (B)", "flash", b["flash_size"]),
        Panel(f"RAM on {b['name']} (B)", "ram", b["ram_size"]),
    ]
    title = f"Search on {b['name']}: every measured trial (grey), the Pareto front (blue)"
    return accuracy_plot(points, panels, path, title, highlight=front)


def export_best(plan, summary: dict) -> Path | None:
    """best/: the best trial's model.tflite and report.json (or nothing when none is feasible)."""
    best_dir = plan.out / BEST_DIR
    shutil.rmtree(best_dir, ignore_errors=True)
    if not summary["best"]:
        return None
    src = plan.trial_dir(summary["best"])
    best_dir.mkdir(parents=True)
    shutil.copyfile(src / "model.tflite", best_dir / "model.tflite")
    shutil.copyfile(src / "report.json", best_dir / "report.json")
    return best_dir / "model.tflite"


def write_results(
    plan, ledger: dict[str, dict], ray_run: dict | None, log: Callable[[str], None]
) -> dict:
    summary = summarize(plan, ledger, ray_run)
    out = plan.out
    write_atomic(out / RESULT_FILE, (json.dumps(summary, indent=2) + "\n").encode())
    write_atomic(out / REPORT_FILE, render_markdown(summary).encode())
    pareto_plot(summary, out / PLOT_FILE)
    best = export_best(plan, summary)
    log(f"Wrote {out / RESULT_FILE}, {out / REPORT_FILE}, {out / PLOT_FILE}")
    for trial_id in summary["pareto"]:
        r = next(t for t in summary["trials"] if t["id"] == trial_id)
        log(f"  pareto {trial_id}  {r['label']}")
    if best:
        log(f"Best for {plan.settings.board}: {summary['best']} -> {best}")
    else:
        log(f"No feasible model for {plan.settings.board} among the finished trials.")
    return summary
