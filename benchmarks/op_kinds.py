"""Instructions per MAC of each op kind, per model and board, next to TFLM + CMSIS-NN's figure.

Runs the MLPerf-Tiny-shaped zoo models (random weights) under QEMU with per-layer instruction
counts, sums them per op kind (CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, ADD, ...) and prints
instructions per MAC (per output element for ops without MACs), the share of the model, and the
whole model against TFLM + CMSIS-NN's count on the Cortex-M4 (tflm_baselines.py; on other boards
the ratio is left out, TFLM was measured on the M4 only). Every output is checked bit-exact
against the TFLM interpreter.

    python benchmarks/op_kinds.py [--models ds_cnn,mobilenet_v1,resnet8,fc_autoencoder]
                                  [--boards mps2-an386] [--samples 1]
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tflm_baselines import TFLM_M4  # noqa: E402

from tinypipe.check.validate import validate_on_board  # noqa: E402
from tinypipe.compiler.graph import read_tflite  # noqa: E402
from tinypipe.compiler.summary import op_macs  # noqa: E402
from tinypipe.model.zoo import REFERENCE_MODELS, make_int8_model  # noqa: E402

MLPERF = "ds_cnn,mobilenet_v1,resnet8,fc_autoencoder"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=MLPERF)
    ap.add_argument("--boards", default="mps2-an386")
    ap.add_argument("--samples", type=int, default=1)
    args = ap.parse_args()
    ratios: dict[str, list[float]] = defaultdict(list)
    print(f"{'board':<11} {'model':<15} {'op':<18} {'MACs':>10} {'instr':>11} {'i/MAC':>7} "
          f"{'share':>6}")  # fmt: skip
    print("-" * 84)
    for label in args.models.split(","):
        name, kw = REFERENCE_MODELS[label]
        g = read_tflite(make_int8_model(name, **kw))
        x = np.random.default_rng(0).integers(
            -128, 128, (args.samples, *g.input_tensors[0].shape), dtype=np.int8
        )
        for board in args.boards.split(","):
            verdict, _ = validate_on_board(g, x, board)
            if not verdict.bit_exact:
                sys.exit(f"{label} on {board} is not bit-exact with TFLM: {verdict.summary()}")
            total = int(np.mean(verdict.instructions))
            kinds: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
            for op, count in zip(g.operators, verdict.extra["layer_counts"]):
                k = kinds[op.opcode]
                k[0] += int(count or 0)  # shape-only ops run no code: None
                k[1] += op_macs(op, g)
                k[2] += int(g.tensors[op.outputs[0]].size) if op.outputs else 0
            for op, (instr, macs, elems) in sorted(kinds.items(), key=lambda kv: -kv[1][0]):
                per = f"{instr / macs:7.2f}" if macs else f"{instr / max(elems, 1):6.1f}e"
                print(f"{board:<11} {label:<15} {op:<18} {macs:>10,} {instr:>11,} {per} "
                      f"{100 * instr / total:5.1f}%")  # fmt: skip
            line = f"{board:<11} {label:<15} {'(whole model)':<18} {'':>10} {total:>11,}"
            if board == "mps2-an386" and label in TFLM_M4:
                ratio = total / TFLM_M4[label]["instr"][1]
                ratios[board].append(ratio)
                line += f"   {ratio:.2f}x TFLM+CMSIS-NN ({TFLM_M4[label]['instr'][1]:,})"
            print(line)
    for board, rs in ratios.items():
        print(f"\n{board}: geomean {np.exp(np.mean(np.log(rs))):.2f}x TFLM+CMSIS-NN instructions "
              f"over {len(rs)} models")  # fmt: skip
    print("i/MAC: instructions per multiply-accumulate; NNe: per output element (ops without "
          "MACs). Exact under QEMU -icount to one SysTick tick (40 instructions).")  # fmt: skip


if __name__ == "__main__":
    main()
