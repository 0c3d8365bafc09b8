"""SOFTMAX, int8 -> int8 over the last axis, as TFLM's reference kernel computes it.

TFLM rescales each difference d = x - max(row) (an integer in [-255, 0]) by beta * input_scale
into Q5.26 and takes gemmlowp's fixed-point exp of it. That exp depends on d only, so tinypipe
evaluates it here for the 256 possible differences (table `exp`, Q0.31, 0 where TFLM skips the
element because d < diff_min). The device does the rest in integers, like TFLM: sum the exps in
Q12.19, take the fixed-point reciprocal of the sum, scale each exp by it (tp_softmax_s8).
"""

from __future__ import annotations

import numpy as np

from tinypipe.compiler.graph import Graph, Operator

from . import fixedpoint as fp
from .base import C, Lowered, T, io, require_int8, unsupported

SCALED_DIFF_INTEGER_BITS = 5  # exp() input format Q5.26
MAX_DEPTH = 4095  # more terms can overflow TFLM's Q12.19 sum (each exp(0) adds 2^19)


def softmax_input_params(beta: float, in_scale: float) -> tuple[int, int, int]:
    """TFLM PreprocessSoftmaxScaling + CalculateInputRadius (int8, double precision):
    real = min(beta * in_scale * 2^26, 2^31 - 1) -> (multiplier, left_shift), and
    diff_min = -floor(31 * 2^26 / 2^left_shift)."""
    real = float(beta) * float(in_scale) * float(1 << (31 - SCALED_DIFF_INTEGER_BITS))
    real = min(real, float((1 << 31) - 1))
    if not real > 1.0:  # QuantizeMultiplierGreaterThanOne's check
        raise ValueError(
            f"beta * input scale = {float(beta) * float(in_scale):g} is at most 2^-26, which "
            "TFLM's int8 SOFTMAX rejects"
        )
    mult, left_shift = fp.quantize_multiplier(real)
    diff_min = -fp.calculate_input_radius(SCALED_DIFF_INTEGER_BITS, left_shift, 31)
    return mult, left_shift, diff_min


def softmax_exp_table(beta: float, in_scale: float) -> np.ndarray:
    """exp(beta * in_scale * d) in Q0.31 for d = 0, -1, ..., -255 (entry k is d = -k), computed
    by TFLM's integer pipeline: MultiplyByQuantizedMultiplierGreaterThanOne to Q5.26, then
    gemmlowp::exp_on_negative_values. Differences below diff_min are 0 (TFLM skips them, which
    yields the same sum and output as a zero exp)."""
    mult, left_shift, diff_min = softmax_input_params(beta, in_scale)
    table = []
    for k in range(256):
        d = -k
        if d < diff_min:
            table.append(0)
            continue
        scaled = fp.srdhm(fp.wrap(d * (1 << left_shift)), mult)
        table.append(fp.exp_on_negative_values(scaled, SCALED_DIFF_INTEGER_BITS))
    return np.asarray(table, dtype=np.int32)


def lower(op: Operator, g: Graph) -> Lowered:
    ins, (out,) = io(g, op)
    inp = ins[0]
    require_int8(op, inp, out)
    if inp.quant.per_channel or out.quant.per_channel:
        raise unsupported(op, "per-channel quantized activations are not supported")
    if inp.size != out.size or not inp.shape:
        raise unsupported(op, f"input {list(inp.shape)} and output {list(out.shape)} differ")
    if out.zero_point != -128 or np.float32(out.scale) != np.float32(1.0 / 256.0):
        raise unsupported(
            op,
            f"the output is quantized with scale {out.scale:g} and zero point {out.zero_point}; "
            "TFLM's int8 SOFTMAX requires scale 1/256 and zero point -128",
            "Convert the model with the TFLite converter, which emits these parameters.",
        )
    depth = int(inp.shape[-1])
    if depth > MAX_DEPTH:
        raise unsupported(
            op,
            f"the softmax axis has {depth} elements; TFLM's fixed-point sum of exps can overflow "
            f"beyond {MAX_DEPTH}",
            "Reduce the number of classes, or take the softmax on the host.",
        )
    try:
        table = softmax_exp_table(op.options.get("beta", 1.0), inp.scale)
    except ValueError as exc:
        raise unsupported(op, str(exc)) from None
    return Lowered(
        func="tp_softmax_s8",
        source="tp_softmax",
        params_type="tp_softmax_params",
        params={"rows": inp.size // depth, "depth": depth, "exp": C("exp")},
        args=[T(inp.index), T(out.index)],
        consts={"exp": table},
    )
