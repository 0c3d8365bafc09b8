"""16x8 ADD, MUL and TRANSPOSE_CONV against their int8 kernels on the emulated Cortex-M4F (QEMU
mps2-an386, -icount: deterministic).

Each op runs as a one-op model twice, int8 and 16x8, with the same shapes; the count is the
instructions its kernel call took (per output element, and per MAC for TRANSPOSE_CONV: every
input element times every tap of its channel, some falling off the edge). Outputs are checked
bit-exact against the TFLM interpreter. The last column is 16x8 / int8.

    python benchmarks/s16_ops.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from tinypipe.check.validate import validate_on_board  # noqa: E402
from tinypipe.compiler.graph import read_tflite  # noqa: E402
from tinypipe.compiler.tflite_writer import ModelBuilder  # noqa: E402

BOARD = "mps2-an386"


def binary_model(opcode: str, dtype: str, shape=(1, 16, 16, 8)) -> bytes:
    """in (op) a per-channel constant, broadcast over the last dim."""
    b = ModelBuilder()
    rng = np.random.default_rng(0)
    info = np.iinfo(dtype)
    zp = 0 if dtype == "int16" else 3
    x = b.tensor(shape, dtype, scale=1e-3, zero_point=zp)
    c = b.tensor(shape[-1:], dtype, scale=2e-3, zero_point=zp,
                 data=rng.integers(info.min, info.max + 1, shape[-1:]))  # fmt: skip
    out_scale = 1e-3 * 2e-3 * (info.max + 1) / 4 if opcode == "MUL" else 3e-3
    y = b.tensor(shape, dtype, scale=out_scale, zero_point=zp)
    options = {"MUL": "MulOptions", "ADD": "AddOptions"}[opcode]
    b.op(opcode, [x, c], [y], options, version=4 if dtype == "int16" else 2)
    return b.build([x], [y])


def tconv_model(dtype: str) -> bytes:
    """8x8x16 -> 16x16x8, 3x3, stride 2, SAME, with bias."""
    b = ModelBuilder()
    rng = np.random.default_rng(1)
    zp, bias_type = (0, "int64") if dtype == "int16" else (-7, "int32")
    x = b.tensor((1, 8, 8, 16), dtype, scale=0.05 if dtype == "int8" else 2e-4, zero_point=zp)
    w_scale = np.full(8, 0.01)
    w = b.tensor((8, 3, 3, 16), scale=w_scale, zero_point=np.zeros(8, np.int64),
                 data=rng.integers(-127, 128, (8, 3, 3, 16)))  # fmt: skip
    bias = b.tensor((8,), bias_type, scale=w_scale * (0.05 if dtype == "int8" else 2e-4),
                    zero_point=np.zeros(8, np.int64), data=rng.integers(-5000, 5000, 8))  # fmt: skip
    shape = b.tensor((4,), "int32", data=np.array([1, 16, 16, 8], np.int32))
    y = b.tensor((1, 16, 16, 8), dtype, scale=0.2 if dtype == "int8" else 1e-3, zero_point=zp)
    b.op("TRANSPOSE_CONV", [shape, w, x, bias], [y], "TransposeConvOptions", version=3,
         padding="SAME", stride_h=2, stride_w=2)  # fmt: skip
    return b.build([x], [y])


def count(model: bytes) -> int:
    g = read_tflite(model)
    t = g.input_tensors[0]
    info = np.iinfo(t.dtype)
    x = np.random.default_rng(2).integers(info.min, info.max + 1, (1, *t.shape)).astype(t.dtype)
    verdict, _ = validate_on_board(g, x, BOARD)
    assert verdict.bit_exact, verdict.summary()
    assert verdict.extra["count_unit"] == "instructions"
    return int(verdict.extra["layer_counts"][0])


def main() -> None:
    rows = [
        ("ADD 16x16x8 + 8", lambda d: binary_model("ADD", d), 16 * 16 * 8, None),
        ("MUL 16x16x8 * 8", lambda d: binary_model("MUL", d), 16 * 16 * 8, None),
        ("TRANSPOSE_CONV 8x8x16->16x16x8", tconv_model, 16 * 16 * 8, 8 * 8 * 16 * 3 * 3 * 8),
    ]
    print(f"{'op':32} {'kind':5} {'instr':>9} {'/elem':>7} {'/MAC':>6} {'x int8':>7}")
    for label, build, elems, macs in rows:
        base = None
        for dtype in ("int8", "int16"):
            n = count(build(dtype))
            base = base or n
            per_mac = f"{n / macs:6.2f}" if macs else " " * 6
            kind = "16x8" if dtype == "int16" else "int8"
            print(f"{label:32} {kind:5} {n:>9} {n / elems:7.1f} {per_mac} {n / base:7.2f}")


if __name__ == "__main__":
    main()
