"""RAM benchmark: static RAM and instructions with and without tinypipe's in-place layers.

For ds_cnn, mobilenet_v1 and resnet8 (MLPerf Tiny shapes, random int8 weights) it builds the
firmware for QEMU mps2-an386 twice, with every layer apart from its input (`inplace=False`) and
with in-place layers (the default), runs the same inputs through both, checks them bit for bit
against TFLM, and prints static RAM without the stack (.data + .bss: arena, input/output
buffers, runtime state) next to TFLM + CMSIS-NN's .bss + .data on the same board, and the
instruction cost of computing in place. Models whose RAM (with stack) now fits the micro:bit's
16 KB are then validated on the micro:bit too.

    python benchmarks/ram.py [--samples 64] [--models ds_cnn resnet8]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from tinypipe.check.validate import validate_on_board
from tinypipe.compiler.codegen import generate_c
from tinypipe.compiler.graph import read_tflite
from tinypipe.device.boards import get_board
from tinypipe.device.firmware import create_project
from tinypipe.model.zoo import REFERENCE_MODELS, make_int8_model

BOARD = "mps2-an386"
# TFLM + CMSIS-NN's .bss + .data on mps2-an386 (arena + runtime state, no stack), BASELINES.md.
TFLM_CMSIS_STATIC_RAM = {
    "digits_cnn": 5_224,
    "ds_cnn": 24_296,
    "mobilenet_v1": 102_104,
    "resnet8": 56_472,
    "fc_autoencoder": 21_732,
}
MODELS = ["ds_cnn", "mobilenet_v1", "resnet8"]


def static_ram(build: dict) -> int:
    """RAM sections of the ELF without the stack reservation."""
    return sum(
        size
        for region in build["regions"]
        if region["name"].upper().startswith("RAM") or "ram" in region["name"].lower()
        for name, size in region["sections"].items()
        if name != ".stack"
    )


def run(graph, x: np.ndarray, board: str, inplace: bool) -> dict:
    cm = generate_c(graph, inplace=inplace)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "c"
        src.mkdir()
        for name, text in cm.files.items():
            (src / name).write_text(text)
        create_project(src, [board], Path(tmp) / "fw")
        verdict, _ = validate_on_board(graph, x, board, project=Path(tmp) / "fw")
    build = verdict.extra["build"]
    return {
        "exact": verdict.bit_exact,
        "samples": verdict.samples,
        "instr": int(np.mean(verdict.instructions)),
        "ram": static_ram(build),
        "ram_with_stack": build["ram_used"],
        "arena": cm.arena_size,
        "inplace_layers": sum(low.inplace_of is not None for low in cm.lowered),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--samples", type=int, default=64, help="inputs per model and build")
    ap.add_argument("--models", nargs="+", default=MODELS, choices=list(REFERENCE_MODELS))
    args = ap.parse_args()

    print(f"static RAM without stack (.data + .bss) on {BOARD}, {args.samples} inputs per build, "
          "all checked bit for bit against TFLM")
    head = (f"{'model':<14}{'exact':>6}{'RAM before':>12}{'RAM after':>11}{'saved':>8}"
            f"{'x TFLM+CMSIS':>14}{'in-place':>10}{'instr before':>14}{'instr after':>13}{'cost':>8}")
    print(head)
    print("-" * len(head))
    fits = []
    microbit = get_board("microbit")
    for label in args.models:
        name, kw = REFERENCE_MODELS[label]
        graph = read_tflite(make_int8_model(name, **kw))
        x = np.random.default_rng(0).integers(
            -128, 128, (args.samples, *graph.input_tensors[0].shape), dtype=np.int8
        )
        before, after = run(graph, x, BOARD, False), run(graph, x, BOARD, True)
        tflm = TFLM_CMSIS_STATIC_RAM[label]
        print(f"{label:<14}{'yes' if before['exact'] and after['exact'] else 'NO':>6}"
              f"{before['ram']:>12,}{after['ram']:>11,}{before['ram'] - after['ram']:>8,}"
              f"{after['ram'] / tflm:>14.2f}{after['inplace_layers']:>10}"
              f"{before['instr']:>14,}{after['instr']:>13,}{after['instr'] / before['instr'] - 1:>+8.1%}")
        # The micro:bit build has the same arena; its stack reservation decides the fit.
        need = after["ram"] + microbit.stack_size
        if need <= microbit.ram_size and before["ram"] + microbit.stack_size > microbit.ram_size:
            fits.append((label, graph, x, need))
    print("\nx TFLM+CMSIS: vs TFLM + CMSIS-NN's .bss + .data on the same board (BASELINES.md)")
    for label, graph, x, _need in fits:
        r = run(graph, x, "microbit", True)
        print(f"micro:bit (16 KB RAM): {label} now fits ({r['ram_with_stack']:,} B with its "
              f"{microbit.stack_size:,} B stack) and is {'bit-exact' if r['exact'] else 'NOT bit-exact'} "
              f"on {r['samples']} inputs")


if __name__ == "__main__":
    main()
