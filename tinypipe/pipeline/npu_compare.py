"""Ethos-U estimate next to tinypipe's own Cortex-M figures for the same model.

The NPU side is Vela's performance model (`tinypipe.device.npu`); the CPU side is measured:
tinypipe's compiled model is built for the board, run under QEMU on seeded random inputs,
checked bit-exact against TFLM, and its instructions, flash and RAM are read off the run.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tinypipe.check.validate import validate_on_board
from tinypipe.compiler.graph import read_tflite
from tinypipe.device.boards import get_board
from tinypipe.device.npu import NpuEstimate, estimate_npu
from tinypipe.errors import TinypipeError


def cortex_m_figures(model: str | Path, board: str, samples: int = 1, seed: int = 0) -> dict:
    """Build and run tinypipe's compiled model on `board`; its instructions, time, flash, RAM."""
    b = get_board(board)
    if not b.emulated:
        raise TinypipeError(
            f"Board '{board}' has no instruction counter to compare with the NPU.",
            "Pick a Cortex-M board, e.g. --board mps2-an386 (see `tinypipe boards`).",
        )
    graph = read_tflite(model)
    rng = np.random.default_rng(seed)
    shape = graph.input_tensors[0].shape
    x = rng.integers(-128, 128, size=(samples, *shape), dtype=np.int8)
    verdict, _ = validate_on_board(graph, x, board)
    instructions = int(np.mean(verdict.instructions)) if verdict.instructions else None
    build = verdict.extra.get("build", {})
    return {
        "board": board,
        "cpu": b.cpu,
        "clock_hz": b.clock_hz,
        "bit_exact": verdict.bit_exact,
        "instructions": instructions,
        # One instruction per cycle: QEMU counts instructions, not cycles (an estimate).
        "time_ms": instructions / b.clock_hz * 1e3 if instructions else None,
        "flash_bytes": build.get("flash_used"),
        "ram_bytes": build.get("ram_used"),
    }


def side_by_side(npu: NpuEstimate, cpu: dict) -> str:
    """A two-column table: the NPU estimate and the Cortex-M measurement."""

    def num(v, fmt="{:,}"):
        return "-" if v is None else fmt.format(v)

    rows = [
        ("", f"{npu.accelerator} (Vela estimate)", f"{cpu['board']} {cpu['cpu']} (tinypipe, QEMU)"),
        ("clock", f"{npu.clock_hz / 1e6:g} MHz", f"{cpu['clock_hz'] / 1e6:g} MHz"),
        ("cycles / inference", num(npu.cycles_total), num(cpu["instructions"]) + " instr."),
        ("time / inference", f"{npu.time_ms:.4f} ms", num(cpu["time_ms"], "{:.3f} ms")),
        ("SRAM / RAM", f"{npu.sram_bytes:,} B", num(cpu["ram_bytes"], "{:,} B") + " (incl. stack)"),
        (
            "flash / DRAM",
            f"{npu.flash_bytes:,} B / {npu.dram_bytes:,} B (weights)",
            num(cpu["flash_bytes"], "{:,} B") + " (whole firmware)",
        ),
        ("ops on CPU", str(npu.cpu_ops), "all"),
        ("bit-exact with TFLM", "not run", "yes" if cpu["bit_exact"] else "NO"),
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows
    )


def compare_npu(model: str | Path, accelerator: str, board: str | None) -> dict:
    """Vela's estimate for `model`, plus the board's measured figures when `board` is given."""
    npu = estimate_npu(model, accelerator)
    result = {"npu": npu.to_dict(), "estimate": npu}
    if board:
        result["cortex_m"] = cortex_m_figures(model, board)
    return result
