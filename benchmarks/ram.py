"""RAM benchmark: static RAM and instructions laid out apart, with in-place layers, with
fused layers too, and with the first layers run patch by patch as well.

For ds_cnn, mobilenet_v1 and resnet8 (MLPerf Tiny shapes, random int8 weights), and tiny_cnn
on 32x32 RGB images (whose high-resolution first layers patches shrink), it builds the
firmware for QEMU mps2-an386 up to four times: every layer apart from its input
(`inplace=False`), with in-place layers only (`fuse=False`, no patches), with layer pairs and
residual blocks fused as well (no patches), and the default build, which also runs the first
layers patch by patch where that lowers the peak within 10 % extra MACs (built only when the
compiler chooses patches for the model; otherwise it is the fused build).
It runs the same inputs through each, checks them bit for bit against TFLM, and prints static
RAM without the stack (.data + .bss: arena, input/output buffers, runtime state) next to TFLM +
CMSIS-NN's .bss + .data on the same board, and the instruction cost of each technique against
the build laid out apart. Every build runs its layers in the order the compiler searches for
(benchmarks/order.py compares it with the file's order). Models whose RAM (with stack) now fits the micro:bit's 16 KB are then
validated on the micro:bit too.

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
from tinypipe.compiler.patches import DEFAULT_MAX_RECOMPUTE
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
# A model whose first layers all run at the input's resolution (conv, depthwise, pointwise, two
# pools): where patches pay. No TFLM + CMSIS-NN baseline is recorded for it.
EXTRA_MODELS = {"tiny_cnn_32x32x3": ("tiny_cnn", {"input_shape": (32, 32, 3), "num_classes": 10})}
MODELS = ["ds_cnn", "mobilenet_v1", "resnet8", "tiny_cnn_32x32x3"]


def static_ram(build: dict) -> int:
    """RAM sections of the ELF without the stack reservation."""
    return sum(
        size
        for region in build["regions"]
        if region["name"].upper().startswith("RAM") or "ram" in region["name"].lower()
        for name, size in region["sections"].items()
        if name != ".stack"
    )


def run(
    graph, x: np.ndarray, board: str, inplace: bool, fuse: bool = True, max_recompute: float = 0
) -> dict:
    cm = generate_c(graph, inplace=inplace, fuse=fuse, max_recompute=max_recompute)
    verdict = run_c(graph, cm, x, board)
    build = verdict.extra["build"]
    return {
        "exact": verdict.bit_exact,
        "samples": verdict.samples,
        "instr": int(np.mean(verdict.instructions)),
        "ram": static_ram(build),
        "ram_with_stack": build["ram_used"],
        "arena": cm.arena_size,
        "inplace_layers": sum(low.inplace_of is not None for low in cm.lowered),
        "fused_layers": sum(low.fused_into is not None for low in cm.lowered),
        "grid": "x".join(map(str, cm.patches.grid)) if cm.patches else "-",
        "recompute": cm.patches.recompute if cm.patches else 0.0,
    }


def run_c(graph, cm, x: np.ndarray, board: str):
    """Firmware for `board` from the compiled model `cm`, validated on `x`: the verdict."""
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "c"
        src.mkdir()
        for name, text in cm.files.items():
            (src / name).write_text(text)
        create_project(src, [board], Path(tmp) / "fw")
        verdict, _ = validate_on_board(graph, x, board, project=Path(tmp) / "fw")
    return verdict


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--samples", type=int, default=64, help="inputs per model and build")
    ap.add_argument("--models", nargs="+", default=MODELS, choices=[*REFERENCE_MODELS, *EXTRA_MODELS])
    args = ap.parse_args()

    print(f"static RAM without stack (.data + .bss) on {BOARD}, {args.samples} inputs per build, "
          "all checked bit for bit against TFLM")
    head = (f"{'model':<14}{'exact':>6}{'RAM apart':>11}{'in place':>10}{'+ fused':>9}"
            f"{'+ patches':>11}{'x TFLM+CMSIS':>14}{'in-place':>10}{'fused':>7}{'patches':>9}"
            f"{'instr apart':>13}{'in place':>10}{'+ fused':>9}{'+ patches':>11}")
    print(head)
    print("-" * len(head))
    fits = []
    microbit = get_board("microbit")
    for label in args.models:
        name, kw = {**REFERENCE_MODELS, **EXTRA_MODELS}[label]
        graph = read_tflite(make_int8_model(name, **kw))
        x = np.random.default_rng(0).integers(
            -128, 128, (args.samples, *graph.input_tensors[0].shape), dtype=np.int8
        )
        before = run(graph, x, BOARD, False)
        middle = run(graph, x, BOARD, True, fuse=False)
        fused = run(graph, x, BOARD, True)
        patched = fused
        default = generate_c(graph, max_recompute=DEFAULT_MAX_RECOMPUTE)
        if default.patches is not None:
            patched = run(graph, x, BOARD, True, max_recompute=DEFAULT_MAX_RECOMPUTE)
        after = patched
        tflm = TFLM_CMSIS_STATIC_RAM.get(label)
        exact = all(r["exact"] for r in (before, middle, fused, patched))
        print(f"{label:<14}{'yes' if exact else 'NO':>6}"
              f"{before['ram']:>11,}{middle['ram']:>10,}{fused['ram']:>9,}{patched['ram']:>11,}"
              f"{after['ram'] / tflm if tflm else '-':>14{'.2f' if tflm else ''}}"
              f"{after['inplace_layers']:>10}{after['fused_layers']:>7}"
              f"{patched['grid']:>9}{before['instr']:>13,}"
              f"{middle['instr'] / before['instr'] - 1:>+10.1%}"
              f"{fused['instr'] / before['instr'] - 1:>+9.1%}"
              f"{patched['instr'] / before['instr'] - 1:>+11.1%}")
        print(f"{'':<14}{default.patches_summary}")
        print(f"{'':<14}{default.order_summary}")
        # The micro:bit build has the same arena; its stack reservation decides the fit.
        need = after["ram"] + microbit.stack_size
        if need <= microbit.ram_size and before["ram"] + microbit.stack_size > microbit.ram_size:
            fits.append((label, graph, x, need))
    print("\nx TFLM+CMSIS: the default build (+ patches) vs TFLM + CMSIS-NN's .bss + .data on "
          "the same board (BASELINES.md); in-place/fused: layers computed over their input / "
          "inside a fused or patched call; patches: the grid (- when the compiler runs no layer "
          "patch by patch: that build is the fused one); instructions: per inference, vs apart")
    for label, graph, x, _need in fits:
        r = run(graph, x, "microbit", True, max_recompute=DEFAULT_MAX_RECOMPUTE)
        print(f"micro:bit (16 KB RAM): {label} now fits ({r['ram_with_stack']:,} B with its "
              f"{microbit.stack_size:,} B stack) and is {'bit-exact' if r['exact'] else 'NOT bit-exact'} "
              f"on {r['samples']} inputs")


if __name__ == "__main__":
    main()
