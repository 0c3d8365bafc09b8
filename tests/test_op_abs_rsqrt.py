"""ABS and RSQRT: tinypipe's int8 tables against the TFLM interpreter, bit for bit.

Randomized models built directly: ABS alone (equal and different input/output scales) and
ABS -> RSQRT (RSQRT is only defined on inputs at or above the zero point, which ABS's output
always is). Each sample holds 256 elements, so the 8 samples of a case cover nearly every int8
input, i.e. nearly the whole table.
"""

from __future__ import annotations

import numpy as np
from op_cases import run_random_cases

from tinypipe.compiler.ops.unary_lut import inv_sqrt_multiplier_exp
from tinypipe.compiler.tflite_writer import ModelBuilder


def random_unary(rng):
    s_in = float(10 ** rng.uniform(-2.5, 0))
    same = bool(rng.random() < 0.3)
    s_abs = s_in if same else s_in * float(10 ** rng.uniform(-0.5, 0.5))
    return {
        "rsqrt": bool(rng.random() < 0.6), "s_in": s_in, "zp_in": int(rng.integers(-128, 128)),
        "s_abs": s_abs, "zp_abs": int(rng.integers(-128, 0)),
        "s_out": float(10 ** rng.uniform(-0.5, 0.5)) / np.sqrt(s_abs) / 255, "zp_out": int(rng.integers(-128, 0)),
    }  # fmt: skip


def build_unary(cfg, rng):
    b = ModelBuilder()
    x = b.tensor((1, 16, 16), scale=cfg["s_in"], zero_point=cfg["zp_in"])
    a = b.tensor((1, 16, 16), scale=cfg["s_abs"], zero_point=cfg["zp_abs"])
    b.op("ABS", [x], [a])
    if not cfg["rsqrt"]:
        return b.build([x], [a])
    y = b.tensor((1, 16, 16), scale=cfg["s_out"], zero_point=cfg["zp_out"])
    b.op("RSQRT", [a], [y])
    return b.build([x], [y])


def test_abs_rsqrt_random_bit_exact() -> None:
    run_random_cases(random_unary, build_unary, 9300, 9)


def test_inv_sqrt_multiplier_matches_the_real_value() -> None:
    """The fixed-point 1/sqrt(x) is within a few ulps of numpy's, over the int8 input range."""
    for x in range(2, 256):
        m, s = inv_sqrt_multiplier_exp(x)
        assert abs(m * 2.0 ** (s - 31) - 1 / np.sqrt(x)) < 1e-6
