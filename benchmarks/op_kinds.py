"""Instructions per MAC of each op kind, per model and board, with the whole model's
instructions, flash and static RAM next to TFLM + CMSIS-NN's where a baseline exists.

Runs the MLPerf-Tiny-shaped zoo models and the digits CNN (random weights) under QEMU with
per-layer instruction counts, sums them per op kind (CONV_2D, DEPTHWISE_CONV_2D,
FULLY_CONNECTED, ADD, ...) and prints instructions per MAC (per output element for ops without
MACs) and the share of the model. Layers computed inside another (fused row by row, or patch by
patch) have no count of their own: their kinds and MACs join the layer that runs them, as one
row named "A+B". Every output is checked bit-exact against the TFLM interpreter; a model the
board's fit check refuses is listed as such.

Ratios to TFLM + CMSIS-NN (tflm_baselines.py, BASELINES.md) are printed on mps2-an386 only: TFLM
was measured on that Cortex-M4F alone, for whole models (no per-op-kind figures), so the other
boards (Cortex-M7 mps2-an500, Cortex-M3 mps2-an385, Cortex-M0 microbit) get absolute figures.
Flash is the whole ELF against TFLM's runtime + libc plus the model's .tflite; RAM is .data +
.bss without the stack against TFLM's (benchmarks/ram.py).

    python benchmarks/op_kinds.py [--models digits_cnn,ds_cnn,mobilenet_v1,resnet8,fc_autoencoder]
                                  [--boards mps2-an386,mps2-an500,microbit,mps2-an385] [--samples 1]
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ram import TFLM_CMSIS_STATIC_RAM, static_ram  # noqa: E402
from tflm_baselines import TFLM_M4  # noqa: E402

from tinypipe.check.validate import validate_on_board  # noqa: E402
from tinypipe.compiler.codegen import generate_c  # noqa: E402
from tinypipe.compiler.graph import read_tflite  # noqa: E402
from tinypipe.compiler.summary import op_macs  # noqa: E402
from tinypipe.errors import DoesNotFitError  # noqa: E402
from tinypipe.model.zoo import REFERENCE_MODELS, make_int8_model  # noqa: E402

MODELS = "digits_cnn,ds_cnn,mobilenet_v1,resnet8,fc_autoencoder"
BOARDS = "mps2-an386,mps2-an500,microbit,mps2-an385"
BASELINE_BOARD = "mps2-an386"


def op_kind_rows(g, layer_counts: list) -> dict[str, list[int]]:
    """kind -> [instructions, MACs, output elements]; a layer run inside another (fused_into)
    adds its kind and MACs to that layer's row."""
    lowered = generate_c(g).lowered
    group = {k: {k} for k in range(len(g.operators))}
    for k, low in enumerate(lowered):
        if low.fused_into is not None:
            group[low.fused_into].add(k)
    kinds: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for k, count in enumerate(layer_counts):
        if count is None:  # fused into another layer, or a shape-only op that runs no code
            continue
        ops = [g.operators[i] for i in sorted(group[k])]
        row = kinds["+".join(dict.fromkeys(op.opcode for op in ops))]
        row[0] += int(count)
        row[1] += sum(op_macs(op, g) for op in ops)
        row[2] += int(g.tensors[g.operators[k].outputs[0]].size) if g.operators[k].outputs else 0
    return kinds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=MODELS)
    ap.add_argument("--boards", default=BOARDS)
    ap.add_argument("--samples", type=int, default=1)
    args = ap.parse_args()
    ratios: dict[str, list[float]] = defaultdict(list)
    wide = 40
    print(f"{'board':<11} {'model':<15} {'op':<{wide}} {'MACs':>10} {'instr':>11} {'i/MAC':>7} "
          f"{'share':>6}")  # fmt: skip
    print("-" * (wide + 66))
    summary = []
    for label in args.models.split(","):
        name, kw = REFERENCE_MODELS[label]
        model = make_int8_model(name, **kw)
        g = read_tflite(model)
        x = np.random.default_rng(0).integers(
            -128, 128, (args.samples, *g.input_tensors[0].shape), dtype=np.int8
        )
        macs = sum(op_macs(op, g) for op in g.operators)
        for board in args.boards.split(","):
            try:
                verdict, _ = validate_on_board(g, x, board)
            except DoesNotFitError as exc:
                print(f"{board:<11} {label:<15} refused by the fit check: {exc.message}")
                continue
            if not verdict.bit_exact:
                sys.exit(f"{label} on {board} is not bit-exact with TFLM: {verdict.summary()}")
            total = int(np.mean(verdict.instructions))
            kinds = op_kind_rows(g, verdict.extra["layer_counts"])
            for op, (instr, op_mac, elems) in sorted(kinds.items(), key=lambda kv: -kv[1][0]):
                per = f"{instr / op_mac:7.2f}" if op_mac else f"{instr / max(elems, 1):6.1f}e"
                print(f"{board:<11} {label:<15} {op:<{wide}} {op_mac:>10,} {instr:>11,} {per} "
                      f"{100 * instr / total:5.1f}%")  # fmt: skip
            print(f"{board:<11} {label:<15} {'(whole model)':<{wide}} {macs:>10,} {total:>11,} "
                  f"{total / macs:7.2f}")  # fmt: skip
            build = verdict.extra["build"]
            row = {"board": board, "model": label, "instr": total, "i/MAC": total / macs,
                   "flash": build["flash_used"], "ram": static_ram(build)}  # fmt: skip
            if board == BASELINE_BOARD and label in TFLM_M4:
                base = TFLM_M4[label]
                row["x instr"] = total / base["instr"][1]
                row["x flash"] = row["flash"] / (base["flash"][1] + len(model))
                if label in TFLM_CMSIS_STATIC_RAM:
                    row["x RAM"] = row["ram"] / TFLM_CMSIS_STATIC_RAM[label]
                ratios[board].append(row["x instr"])
            summary.append(row)
    print(f"\n{'board':<11} {'model':<15} {'instr':>11} {'i/MAC':>7} {'x TFLM':>7} {'flash B':>9} "
          f"{'x TFLM':>7} {'RAM B':>8} {'x TFLM':>7}")  # fmt: skip
    for r in summary:

        def x(key: str, r: dict = r) -> str:
            return f"{r[key]:7.2f}" if key in r else f"{'-':>7}"

        print(f"{r['board']:<11} {r['model']:<15} {r['instr']:>11,} {r['i/MAC']:7.2f} "
              f"{x('x instr')} {r['flash']:>9,} {x('x flash')} {r['ram']:>8,} {x('x RAM')}")  # fmt: skip
    for board, rs in ratios.items():
        print(f"\n{board}: geomean {np.exp(np.mean(np.log(rs))):.2f}x TFLM+CMSIS-NN instructions "
              f"over {len(rs)} models")  # fmt: skip
    print("x TFLM: tinypipe / TFLM + CMSIS-NN on mps2-an386 (instructions; flash: runtime + libc + "
          ".tflite; RAM: .data + .bss, no stack); '-': no TFLM baseline for that core in "
          "BASELINES.md. i/MAC: instructions per multiply-accumulate; NNe: per output element "
          "(ops without MACs). Exact under QEMU -icount to one SysTick tick (40 instructions).")  # fmt: skip


if __name__ == "__main__":
    main()
