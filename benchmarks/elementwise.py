"""Instructions per output element of the int8 two-input elementwise kernels (ADD, SUB, MUL) on
the emulated Cortex-M4F (mps2-an386), Cortex-M3 (mps2-an385) and Cortex-M0 (micro:bit), under
QEMU -icount (deterministic).

Each case is a one-op model over an 8x8x16 activation (1,024 outputs) whose second operand is a
constant: of the same shape (one contiguous row, as residual blocks have them), one value per
channel (rows of 16, both inputs contiguous) or one per pixel (broadcast along C, element by
element); and a 4x4x16 one with a same-shape constant (256 outputs: ADD and SUB below the table
kernel's 512). The count is the instructions its kernel call took; every output is checked bit-exact
against the TFLM interpreter.

    python benchmarks/elementwise.py [--boards mps2-an386,mps2-an385,microbit]
"""

from __future__ import annotations

import argparse

import numpy as np

from tinypipe.check.validate import validate_on_board
from tinypipe.compiler.codegen import lower_all
from tinypipe.compiler.graph import read_tflite
from tinypipe.compiler.tflite_writer import ModelBuilder

SMALL = (1, 4, 4, 16)
SHAPE = (1, 8, 8, 16)
# label -> (activation shape, constant operand shape)
CASES = {
    "same": (SHAPE, SHAPE),
    "per channel": (SHAPE, SHAPE[-1:]),
    "per pixel": (SHAPE, (*SHAPE[:-1], 1)),
    "small, same": (SMALL, SMALL),
}
OPTIONS = {"ADD": "AddOptions", "SUB": "SubOptions", "MUL": "MulOptions"}


def model(opcode: str, shape: tuple[int, ...], operand: tuple[int, ...]) -> bytes:
    b = ModelBuilder()
    rng = np.random.default_rng(0)
    x = b.tensor(shape, scale=0.02, zero_point=-5)
    c = b.tensor(operand, scale=0.03, zero_point=7, data=rng.integers(-128, 128, operand))
    y = b.tensor(shape, scale=0.05 if opcode != "MUL" else 0.02 * 0.03 * 64, zero_point=-128)
    b.op(opcode, [x, c], [y], OPTIONS[opcode], fused_activation_function="RELU")
    return b.build([x], [y])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--boards", default="mps2-an386,mps2-an385,microbit")
    args = ap.parse_args()
    boards = args.boards.split(",")
    print(f"{'op':4} {'operand':12} {'kernel':16}" + "".join(f" {b:>11}" for b in boards))
    for opcode in OPTIONS:
        for label, (shape, operand) in CASES.items():
            g = read_tflite(model(opcode, shape, operand))
            (low,) = [low for low in lower_all(g) if low.emits_code]
            x = np.random.default_rng(1).integers(-128, 128, (1, *shape), dtype=np.int8)
            cells = []
            for board in boards:
                verdict, _ = validate_on_board(g, x, board)
                assert verdict.bit_exact, verdict.summary()
                n = int(verdict.extra["layer_counts"][0])
                cells.append(f"{n / np.prod(shape):11.1f}")
            print(f"{opcode:4} {label:12} {low.func:16}" + "".join(cells))
    print("instructions per output element (the kernel call, exact to one 40-instruction tick)")


if __name__ == "__main__":
    main()
