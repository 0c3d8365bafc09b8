"""SOFTMAX, int16 -> int16 over the last axis (16x8 models), as TFLM's reference SoftmaxInt16.

TFLM maps each difference d = x - max(row) onto [-10, 0] (a Q31 multiplier of
beta * s_in / (10 / 65535)), looks exp up in a 513-entry table with linear interpolation, sums
the exps, looks 1/(1 + x) up in a second table for the sum brought to [1, 2), and scales every
exp by it. Both tables are made here by TFLM's gen_lut, in float32 as TFLM runs it; the device
does the rest in integers (tp_softmax_s16.c). The output is fixed at scale 1/32768, zero point 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from tinypipe.compiler.graph import Graph, Operator

from .base import C, Lowered, T, io, unsupported
from .quantmath import quantize_multiplier
from .s16 import require_s16

LUT_STEPS = 512  # int16-input tables: 512 segments, plus one end value for the last slope
MAX_DEPTH = 65535  # more exps (each at most 32767) could overflow the int32 sum


def _round(x: np.float32) -> np.float32:
    """std::round on a float: half away from zero."""
    return np.float32(math.copysign(math.floor(abs(float(x)) + 0.5), float(x)))


def gen_lut(
    func: Callable[[np.float32], np.float32], lo: float, hi: float, out_lo: float, out_hi: float
) -> np.ndarray:
    """TFLM's gen_lut<float, int16_t, int16_t>: per segment the sample at its start, moved by
    half the error that linear interpolation makes at its midpoint; every step in float32."""
    f32 = np.float32
    lo, hi = f32(lo), f32(hi)
    step = f32(f32(hi - lo) / f32(LUT_STEPS))
    half_step = f32(step / f32(2))
    scale = f32(f32(65536) / f32(f32(out_hi) - f32(out_lo)))
    table = np.empty(LUT_STEPS + 1, np.int16)
    for i in range(LUT_STEPS):
        x = f32(lo + f32(f32(i) * step))
        val = func(x)
        val_mid = func(f32(x + half_step))
        val_next = func(f32(lo + f32(f32(i + 1) * step)))
        sample = _round(f32(val * scale))
        interp = _round(f32(f32(f32(val_next * scale) + sample) / f32(2)))
        err = f32(interp - _round(f32(val_mid * scale)))
        bias = _round(f32(err / f32(2)))
        table[i] = int(min(max(f32(sample - bias), -32768.0), 32767.0))
    table[LUT_STEPS] = int(min(max(_round(f32(func(hi) * scale)), -32768.0), 32767.0))
    return table


def _exp(x: np.float32) -> np.float32:
    return np.float32(math.exp(float(x)))  # expf, correctly rounded


def _one_over_one_plus(x: np.float32) -> np.float32:
    return np.float32(np.float32(1) / np.float32(np.float32(1) + x))


def lower(op: Operator, g: Graph) -> Lowered:
    ins, (out,) = io(g, op)
    inp = ins[0]
    require_s16(op, inp, out)
    if inp.size != out.size or not inp.shape:
        raise unsupported(op, f"input {list(inp.shape)} and output {list(out.shape)} differ")
    if abs(out.scale - 1 / 32768) > 0.001 / 32768:  # TFLM's own check
        raise unsupported(
            op,
            f"the output scale is {out.scale:g}; TFLM's int16 SOFTMAX requires 1/32768",
            "Convert the model with the TFLite converter, which emits this scale.",
        )
    depth = int(inp.shape[-1])
    if depth > MAX_DEPTH:
        raise unsupported(op, f"the softmax axis has {depth} elements, at most {MAX_DEPTH} fit")
    real = float(inp.scale) * float(op.options.get("beta", 1.0)) / (10.0 / 65535.0)
    mult, shift = quantize_multiplier(real)
    return Lowered(
        func="tp_softmax_s16",
        source="tp_softmax_s16",
        params_type="tp_softmax_s16_params",
        params={
            "rows": inp.size // depth,
            "depth": depth,
            "input_multiplier": mult,
            "input_shift": shift,
            "exp_lut": C("exp_lut"),
            "reciprocal_lut": C("reciprocal_lut"),
        },
        args=[T(inp.index), T(out.index)],
        consts={
            "exp_lut": gen_lut(_exp, -10.0, 0.0, -1.0, 1.0),
            "reciprocal_lut": gen_lut(_one_over_one_plus, 0.0, 1.0, -1.0, 1.0),
        },
    )
