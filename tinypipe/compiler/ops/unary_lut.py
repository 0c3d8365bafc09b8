"""ABS and RSQRT (int8) as 256-entry tables, like the activations (see activations.py).

Each table entry is TFLM's integer pipeline for that op evaluated on one int8 input, with the
quantization constants derived in the precision of TFLM's Prepare (elementwise.cc):
- ABS: out = clamp(|x - zp_in| + zp_out) when the scales are equal, else
  clamp(MBQM(|x - zp_in|, M) + zp_out) with M = double(float(s_in / s_out)).
- RSQRT: 1/sqrt(x - zp_in) as a fixed-point multiplier (GetInvSqrtQuantizedMultiplierExp, a
  gemmlowp Newton-Raphson iteration), rescaled by M = 1 / double(float(sqrt(s_in) * s_out)).
  TFLM stops with an error on inputs below the zero point (negative reals); the table gives
  them 127, the value TFLM gives the zero point itself.
"""

from __future__ import annotations

import numpy as np

from tinypipe.compiler.graph import Graph, Operator

from . import fixedpoint as fp
from .activations import lut_call
from .base import Lowered, io, require_int8, unsupported

RSQRT_SHIFT = 20  # TFLM's kShift: keeps 1/sqrt(x) an integer before the output rescale


def abs_table(s_in: np.float32, zp_in: int, s_out: np.float32, zp_out: int) -> np.ndarray:
    rescale = s_in != s_out
    mult, shift = fp.quantize_multiplier(float(np.float32(s_in / s_out))) if rescale else (0, 0)
    table = []
    for x in fp.int8_inputs():
        v = abs(int(x) - zp_in)
        if rescale:
            v = fp.mul_by_quantized_multiplier(v, mult, shift)
        table.append(min(max(v + zp_out, -128), 127))
    return np.asarray(table, np.int8)


def inv_sqrt_multiplier_exp(x: int) -> tuple[int, int]:
    """TFLite GetInvSqrtQuantizedMultiplierExp(x, kReverseShift): 1/sqrt(x) as (Q31-style
    multiplier, left shift), by 5 Newton-Raphson steps in gemmlowp Q3.28 fixed point."""
    if x <= 1:
        return fp.INT32_MAX, 0
    shift = 11
    while x >= 1 << 29:
        x //= 4
        shift += 1
    clz = 32 - x.bit_length()
    pairs = (clz - 1) // 2 - 1
    shift -= pairs
    x <<= 2 * pairs
    f3_input = x >> 1
    half_input = fp.rdbpot(f3_input, 1)
    half_three = (1 << 28) + (1 << 27)
    r = 1 << 28  # F3 one
    for _ in range(5):
        r3 = fp.rescale(fp.srdhm(fp.srdhm(r, r), r), 9, 3)
        r = fp.rescale(fp.wrap(fp.srdhm(half_three, r) - fp.srdhm(half_input, r3)), 6, 3)
    r = fp.srdhm(r, 1518500250)  # times sqrt(2)/2 in Q0.31
    if shift < 0:
        r, shift = fp.wrap(r << -shift), 0
    return r, -shift


def rsqrt_table(s_in: np.float32, zp_in: int, s_out: np.float32, zp_out: int) -> np.ndarray:
    real = 1.0 / float(np.float32(np.sqrt(np.float32(s_in)) * np.float32(s_out)))
    mult, shift = fp.quantize_multiplier(real)
    table = []
    for x in fp.int8_inputs():
        v = int(x) - zp_in
        if v <= 0:  # zero: TFLM's "largest output"; below: TFLM refuses to run
            table.append(127)
            continue
        m, s = inv_sqrt_multiplier_exp(v)
        data = fp.mul_by_quantized_multiplier(1, m, s + RSQRT_SHIFT)
        out = fp.mul_by_quantized_multiplier(data, mult, shift - RSQRT_SHIFT) + zp_out
        table.append(min(max(out, -128), 127))
    return np.asarray(table, np.int8)


def lower(op: Operator, g: Graph) -> Lowered:
    ins, outs = io(g, op)
    if len(ins) != 1 or ins[0] is None or len(outs) != 1:
        raise unsupported(op, "expected one input and one output")
    inp, out = ins[0], outs[0]
    require_int8(op, inp, out)
    if inp.quant.per_channel or out.quant.per_channel:
        raise unsupported(op, "per-channel quantization")
    s_in, s_out = np.float32(inp.scale), np.float32(out.scale)
    make = abs_table if op.opcode == "ABS" else rsqrt_table
    return lut_call(op, inp, out, make(s_in, inp.zero_point, s_out, out.zero_point))
