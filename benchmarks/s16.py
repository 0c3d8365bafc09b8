"""16x8 kernels (int16 activations, int8 weights) on the emulated Cortex-M4F (mps2-an386).

Converts the same Keras models (random weights, unit-variance layers) twice, full int8 and
16x8, runs both compiled models under QEMU with per-layer instruction counts, and prints the
instructions per MAC of each op kind in 16x8 next to the int8 kernels measured in the same run
(the ratio is 16x8 / int8). Every output is checked bit-exact against the TFLM interpreter.

    python benchmarks/s16.py [--models ds_cnn,conv1d] [--samples 2]
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict

import numpy as np

from tinypipe.check.reference import quantize_input
from tinypipe.check.validate import validate_on_board
from tinypipe.compiler.graph import Graph, read_tflite
from tinypipe.compiler.summary import op_macs
from tinypipe.model.zoo import build_model, convert_int8, import_keras, unit_variance_init

BOARD = "mps2-an386"


def convert_both(name: str, seed: int = 0) -> dict[str, bytes]:
    keras = import_keras()
    keras.utils.set_random_seed(seed)
    model = build_model(name, None, None, batch_size=1)
    shape = tuple(model.inputs[0].shape[1:])
    rep = np.random.default_rng(seed).uniform(0.0, 1.0, (8, *shape)).astype(np.float32)
    unit_variance_init(model, rep)
    return {a: convert_int8(model, rep, activations=a) for a in ("int8", "int16")}


def per_op_kind(g: Graph, layer_counts: list[int]) -> dict[str, tuple[int, int]]:
    """opcode -> (instructions, MACs) summed over the model's layers of that kind."""
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for op, count in zip(g.operators, layer_counts):
        out[op.opcode][0] += int(count or 0)  # shape-only ops run no code: None
        out[op.opcode][1] += op_macs(op, g)
    return {k: (v[0], v[1]) for k, v in out.items()}


def run(model: bytes, samples: int) -> tuple[Graph, dict, int]:
    g = read_tflite(model)
    t = g.input_tensors[0]
    x = np.random.default_rng(1).uniform(0, 1, (samples, *t.shape))
    x = quantize_input(x, t.scale, t.zero_point, np.dtype(t.dtype))
    verdict, _ = validate_on_board(g, x, BOARD)
    if not verdict.bit_exact:
        sys.exit(f"not bit-exact with TFLM: {verdict.summary()}")
    counts = verdict.extra["layer_counts"]
    return g, per_op_kind(g, counts), int(np.mean(verdict.instructions))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="ds_cnn,conv1d")
    ap.add_argument("--samples", type=int, default=2)
    args = ap.parse_args()
    print(f"{'model':<10} {'op':<18} {'MACs':>10} {'16x8 instr':>12} {'i/MAC':>7} "
          f"{'int8 instr':>12} {'i/MAC':>7} {'x int8':>7}")  # fmt: skip
    print("-" * 90)
    for name in args.models.split(","):
        models = convert_both(name)
        _, k8, total8 = run(models["int8"], args.samples)
        _, k16, total16 = run(models["int16"], args.samples)
        for op in k16:
            i16, macs = k16[op]
            i8 = k8.get(op, (0, 0))[0]

            def per(i: int, macs: int = macs) -> str:
                return f"{i / macs:7.2f}" if macs else f"{'-':>7}"

            ratio = f"{i16 / i8:7.2f}" if i8 else f"{'-':>7}"
            print(
                f"{name:<10} {op:<18} {macs:>10,} {i16:>12,} {per(i16)} {i8:>12,} {per(i8)} {ratio}"
            )
        print(f"{name:<10} {'(whole model)':<18} {'':>10} {total16:>12,} {'':>7} {total8:>12,} "
              f"{'':>7} {total16 / total8:7.2f}")  # fmt: skip
    print("\ninstructions exact under QEMU -icount (one SysTick tick = 40 instructions); "
          "every output bit-exact with the TFLM interpreter")  # fmt: skip


if __name__ == "__main__":
    main()
