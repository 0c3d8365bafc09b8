"""Instructions per MAC of the sequence kernels (UNIDIRECTIONAL_SEQUENCE_LSTM int8, SVDF int8
with int16 and int8 state) on the emulated Cortex-M4F (QEMU mps2-an386, -icount: exact).

Each shape is also measured as the int8 FULLY_CONNECTED with the same MACs in the same run
(rows x depth -> outputs), so the ratio says what the gate and cell arithmetic (LSTM) or the
memory shift and time filter (SVDF) cost on top of a plain matrix product. Every output is
checked bit-exact against the TFLM interpreter; several samples run through one program, so
the state carried between calls is checked too.

    python benchmarks/sequence.py [--samples 3]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from op_cases import random_int8_inputs  # noqa: E402
from test_op_lstm import build_lstm  # noqa: E402
from test_op_svdf import build_svdf  # noqa: E402

from tinypipe.check.validate import validate_on_board  # noqa: E402
from tinypipe.compiler.graph import read_tflite  # noqa: E402
from tinypipe.compiler.summary import op_macs  # noqa: E402
from tinypipe.compiler.tflite_writer import ModelBuilder  # noqa: E402

BOARD = "mps2-an386"

# name -> (kind, config): LSTMs the size of small keyword / gesture models, SVDFs like the
# keyword-spotting SVDF layers (40 features in, memory of 8 to 16 frames)
SHAPES = {
    "lstm 16x8->16": ("lstm", {"batches": 1, "steps": 16, "n_input": 8, "n_cell": 16}),
    "lstm 49x10->64": ("lstm", {"batches": 1, "steps": 49, "n_input": 10, "n_cell": 64}),
    "lstm 28x28->32": ("lstm", {"batches": 1, "steps": 28, "n_input": 28, "n_cell": 32}),
    "svdf 40->64 r1 m8 s16": ("svdf", {"n_input": 40, "rank": 1, "units": 64, "memory": 8, "state": "int16"}),
    "svdf 32->32 r2 m16 s16": ("svdf", {"n_input": 32, "rank": 2, "units": 32, "memory": 16, "state": "int16"}),
    "svdf 40->64 r1 m8 s8": ("svdf", {"n_input": 40, "rank": 1, "units": 64, "memory": 8, "state": "int8"}),
}  # fmt: skip


def build(kind: str, cfg: dict, rng: np.random.Generator) -> bytes:
    if kind == "lstm":
        return build_lstm({"time_major": False, "clip": 0.0, "cell_scale": 2.0**-11, **cfg}, rng)
    return build_svdf({"batches": 1, **cfg}, rng)


def fc_same_macs(rows: int, depth: int, outputs: int, rng: np.random.Generator) -> bytes:
    b = ModelBuilder()
    x = b.tensor((rows, depth), scale=0.05, zero_point=-3)
    w = b.tensor(
        (outputs, depth), scale=0.01, zero_point=0, data=rng.integers(-127, 128, (outputs, depth))
    )
    bias = b.tensor(
        (outputs,), "int32", scale=0.0005, zero_point=0, data=rng.integers(-999, 999, outputs)
    )
    y = b.tensor((rows, outputs), scale=0.2, zero_point=5)
    b.op("FULLY_CONNECTED", [x, w, bias], [y], "FullyConnectedOptions")
    return b.build([x], [y])  # fmt: skip


def fc_shape(kind: str, cfg: dict) -> tuple[int, int, int]:
    """(rows, depth, outputs) of the FULLY_CONNECTED with the op's MACs."""
    if kind == "lstm":
        return cfg["steps"], cfg["n_input"] + cfg["n_cell"], 4 * cfg["n_cell"]
    filters = cfg["rank"] * cfg["units"]
    return 1, cfg["n_input"] + cfg["memory"], filters


def op_instructions(model: bytes, samples: int) -> tuple[int, int]:
    """(instructions of the model's first op in the last inference, its MACs)."""
    g = read_tflite(model)
    verdict, _ = validate_on_board(g, random_int8_inputs(g, 1, samples), BOARD)
    if not verdict.bit_exact:
        sys.exit(f"not bit-exact with TFLM: {verdict.summary()}")
    return int(verdict.extra["layer_counts"][0]), op_macs(g.operators[0], g)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=3)
    args = ap.parse_args()
    print(
        f"{'shape':<24} {'MACs':>9} {'instr':>11} {'i/MAC':>7} {'FC instr':>10} {'i/MAC':>7} {'x FC':>6}"
    )
    print("-" * 80)
    for name, (kind, cfg) in SHAPES.items():
        rng = np.random.default_rng(0)
        instr, macs = op_instructions(build(kind, cfg, rng), args.samples)
        fc_instr, fc_macs = op_instructions(fc_same_macs(*fc_shape(kind, cfg), rng), args.samples)
        assert fc_macs == macs, (fc_macs, macs)
        print(f"{name:<24} {macs:>9,} {instr:>11,} {instr / macs:7.2f} {fc_instr:>10,} "
              f"{fc_instr / macs:7.2f} {instr / fc_instr:6.2f}")  # fmt: skip
    print(
        "\ninstructions exact under QEMU -icount; every output bit-exact with the TFLM interpreter"
    )


if __name__ == "__main__":
    main()
