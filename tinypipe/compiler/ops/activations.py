"""Elementwise int8 activations (LOGISTIC, TANH, HARD_SWISH, RELU, RELU6, LEAKY_RELU) as tables.

An int8 input takes only 256 values, so each op is lowered to a 256-entry int8 lookup table
computed here by running TFLM's *integer* reference pipeline for that op (see fixedpoint.py) on
every possible input. The device then does `out[i] = table[(uint8_t)in[i]]` (tp_lut_s8): exact
by construction and faster than any of the fixed-point pipelines it replaces.

Each `*_table` function below documents the TFLM kernel it mirrors, including the quantization
parameters TFLM's Prepare derives (and in which precision), so the tables do not depend on
running TFLM or TensorFlow.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from tinypipe.compiler.graph import Graph, Operator, Tensor

from . import fixedpoint as fp
from .base import C, Lowered, T, io, require_int8, unsupported

TABLE_SIZE = 256


def _multiplier(real: float, what: str) -> tuple[int, int]:
    """QuantizeMultiplier, refusing shifts whose `x * (1 << shift)` is undefined in TFLM."""
    mult, shift = fp.quantize_multiplier(real)
    if shift > 31:
        raise ValueError(
            f"the {what} rescale factor {real:g} is >= 2^31, where TFLM's integer math is undefined"
        )
    return mult, shift


def _qparams(t: Tensor) -> tuple[np.float32, int]:
    return np.float32(t.quant.scale[0]), int(t.quant.zero_point[0])


def _to_int8_table(values: list[int]) -> np.ndarray:
    out = np.asarray(values, dtype=np.int64)
    if out.shape != (TABLE_SIZE,) or out.min() < -128 or out.max() > 127:  # guards the contract
        raise ValueError("table value outside int8")
    return out.astype(np.int8)


def relu_table(in_scale: float, in_zp: int, out_scale: float, out_zp: int) -> np.ndarray:
    """TFLM RELU (int8): out = clamp(out_zp + MBQM(x - in_zp, M, shift), max(-128, out_zp), 127)
    with M = double(in_scale) / double(out_scale)."""
    mult, shift = _multiplier(float(in_scale) / float(out_scale), "input-to-output")
    lo = max(-128, out_zp)  # out_zp + round(0 / out_scale)
    return _to_int8_table(
        [
            min(max(out_zp + fp.mul_by_quantized_multiplier(int(x) - in_zp, mult, shift), lo), 127)
            for x in fp.int8_inputs()
        ]
    )


def quantize_float_to_int8(value: float, scale: float, zero_point: int) -> int:
    """TFLM FloatToQuantizedType<int8_t>: clamp(round(float(value) / float(scale)) + zp)."""
    q = float(np.float32(value) / np.float32(scale))
    r = math.copysign(math.floor(abs(q) + 0.5), q) + zero_point
    return int(min(max(r, -128), 127))


def relu6_table(in_scale: float, in_zp: int) -> np.ndarray:
    """TFLM RELU6 (int8): out = clamp(x, in_zp, six) with six = quantize(6.0) on the *input*
    scale. TFLM ignores the output tensor's quantization, even where the TF converter gives it
    different parameters (a standalone RELU6, e.g. on the model input, gets output scale 6/255
    and zero point -128); tinypipe reproduces TFLM's result, not the requantized one."""
    six = quantize_float_to_int8(6.0, in_scale, in_zp)
    table = []
    for x in fp.int8_inputs():
        v = int(x)
        table.append(six if v > six else in_zp if v < in_zp else v)  # TFLM's order of tests
    return _to_int8_table(table)


def leaky_relu_table(
    in_scale: float, in_zp: int, out_scale: float, out_zp: int, alpha: float
) -> np.ndarray:
    """TFLM LEAKY_RELU (int8): d = x - in_zp; out = clamp(out_zp + MBQM(d, M_id or M_alpha)),
    M_alpha = double(float(in_scale * alpha) / out_scale), M_id = double(in_scale / out_scale),
    products and quotients in float32 as TFLM's Prepare computes them."""
    s_in, s_out, a = np.float32(in_scale), np.float32(out_scale), np.float32(alpha)
    m_alpha, sh_alpha = _multiplier(float(np.float32(s_in * a) / s_out), "alpha")
    m_id, sh_id = _multiplier(float(s_in / s_out), "input-to-output")
    table = []
    for x in fp.int8_inputs():
        d = int(x) - in_zp
        if d >= 0:
            v = fp.mul_by_quantized_multiplier(d, m_id, sh_id)
        else:
            v = fp.mul_by_quantized_multiplier(d, m_alpha, sh_alpha)
        table.append(min(max(out_zp + v, -128), 127))
    return _to_int8_table(table)


def _sigmoid_tanh_input_params(in_scale: float) -> tuple[int, int, int]:
    """TFLM LOGISTIC/TANH Prepare (int8): the input is rescaled to Q4.27 by
    (multiplier, left_shift) = frexp(double(in_scale) * 2^27), with an input radius beyond which
    the output saturates."""
    real = float(in_scale) * float(1 << 27)
    q, left_shift = math.frexp(real)
    multiplier = int(math.floor(q * (1 << 31) + 0.5))
    if multiplier >= 1 << 31 or left_shift < 0:
        raise ValueError(
            f"the input scale {float(in_scale):g} is below 2^-28, where TFLM's input radius is "
            "undefined"
        )
    radius = fp.calculate_input_radius(4, left_shift, 31)
    return multiplier, left_shift, radius


def _q4_27_table(in_scale: float, in_zp: int, f: Callable[[int], int]) -> np.ndarray:
    """The pipeline LOGISTIC and TANH share: x - zp_in in Q4.27 via MBQM, then `f` (the gemmlowp
    function and its output rescale), saturated to -128/127 beyond the input radius."""
    mult, shift, radius = _sigmoid_tanh_input_params(in_scale)
    table = []
    for x in fp.int8_inputs():
        d = int(x) - in_zp
        if d <= -radius:
            table.append(-128)
        elif d >= radius:
            table.append(127)
        else:
            q4 = fp.mul_by_quantized_multiplier(d, mult, shift)
            table.append(min(max(f(q4), -128), 127))
    return _to_int8_table(table)


def logistic_table(in_scale: float, in_zp: int) -> np.ndarray:
    """TFLM LOGISTIC (int8, output scale 1/256 zero point -128): x in Q4.27 via MBQM, then
    gemmlowp::logistic, then RoundingDivideByPOT(., 23) - 128, saturated by the input radius."""
    return _q4_27_table(in_scale, in_zp, lambda q4: fp.rdbpot(fp.logistic(q4, 4), 31 - 8) - 128)


def tanh_table(in_scale: float, in_zp: int) -> np.ndarray:
    """TFLM TANH (int8, output scale 1/128 zero point 0): x in Q4.27 via MBQM, then
    gemmlowp::tanh, then RoundingDivideByPOT(., 24), saturated by the input radius."""
    return _q4_27_table(in_scale, in_zp, lambda q4: fp.rdbpot(fp.tanh(q4, 4), 31 - 7))


def _downscale_multiplier_to_int16(m: int) -> int:
    """TFLite DownScaleInt32ToInt16Multiplier: round a Q31 multiplier to Q15."""
    if m >= fp.INT32_MAX - (1 << 15):
        return fp.INT16_MAX
    return (m + (1 << 15)) >> 16


def hard_swish_params(in_scale: float, out_scale: float) -> tuple[int, int, int, int]:
    """TFLM HARD_SWISH Prepare (int8), all scales in float32 as TFLM computes them:
    hires = in_scale / 128; output multiplier = hires / out_scale; reluish multiplier =
    hires / (3 / 32768); both split by QuantizeMultiplier and rounded to int16 mantissas."""
    hires = np.float32(1.0 / 128.0) * np.float32(in_scale)
    reluish_scale = np.float32(3.0) / np.float32(32768.0)
    out_m, out_e = fp.quantize_multiplier(float(hires / np.float32(out_scale)))
    rel_m, rel_e = fp.quantize_multiplier(float(hires / reluish_scale))
    return (
        _downscale_multiplier_to_int16(out_m),
        out_e,
        _downscale_multiplier_to_int16(rel_m),
        rel_e,
    )


def _saturating_left_shift16(value: int, amount: int) -> int:
    return min(max(value * (1 << amount), fp.INT16_MIN), fp.INT16_MAX)


def _saturating_doubling_high_mul16(a: int, b: int) -> int:
    """SQDMULH-like: (a * b) / 2^15 truncated toward zero, saturating MIN*MIN."""
    if a == b == fp.INT16_MIN:
        return fp.INT16_MAX
    return fp.wrap(fp.c_div(a * b, 1 << 15), 16)


def hard_swish_table(in_scale: float, in_zp: int, out_scale: float, out_zp: int) -> np.ndarray:
    """TFLM HARD_SWISH (int8): x * relu6(x + 3) / 6 in TFLite's int16 fixed-point pipeline:
    the input on a x128 'hires' scale, a saturating 'reluish' factor in [0, 1] (Q15), a
    truncating doubling high multiply, then a rounding right shift to the output scale."""
    out_m16, out_e, rel_m16, rel_e = hard_swish_params(in_scale, out_scale)
    if out_e > 0:
        raise ValueError(
            f"the output scale {float(out_scale):g} is smaller than input scale / 128, "
            "which TFLM's int8 HARD_SWISH rejects"
        )
    if rel_e > 31:
        raise ValueError(f"the input scale {float(in_scale):g} is too large for TFLM's HARD_SWISH")
    table = []
    for x in fp.int8_inputs():
        value = fp.wrap(int(x) - in_zp, 16)
        hires = fp.wrap(value * (1 << 7), 16)
        preshift_out = fp.srdhm(hires, out_m16, 16)
        reluish = hires
        if rel_e > 0:
            reluish = _saturating_left_shift16(reluish, rel_e - 1)
        reluish = fp.srdhm(reluish, rel_m16, 16)
        if rel_e > 0:
            reluish = _saturating_left_shift16(reluish, 1)
        if rel_e < 0:
            reluish = fp.rdbpot(reluish, -rel_e, 16)
        reluish = fp.wrap((reluish + (1 << 15)) >> 1, 16)
        pre = _saturating_doubling_high_mul16(reluish, preshift_out)
        out = fp.wrap(fp.rdbpot(pre, -out_e, 16) + out_zp, 16)
        table.append(min(max(out, -128), 127))
    return _to_int8_table(table)


def lut_call(op: Operator, inp: Tensor, out: Tensor, table: np.ndarray) -> Lowered:
    """One tp_lut_s8 call: out[i] = table[(uint8_t)in[i]] over the whole tensor."""
    if inp.size != out.size:
        raise unsupported(op, f"input {list(inp.shape)} and output {list(out.shape)} differ")
    return Lowered(
        func="tp_lut_s8",
        source="tp_lut",
        params_type="tp_lut_params",
        params={"size": inp.size, "table": C("table")},
        args=[T(inp.index), T(out.index)],
        consts={"table": np.asarray(table, dtype=np.int8)},
    )


def _require_per_tensor(op: Operator, *tensors: Tensor) -> None:
    for t in tensors:
        if t.quant.per_channel:
            raise unsupported(op, f"tensor '{t.name}' is quantized per channel")


def _table(op: Operator, s_in: np.float32, z_in: int, s_out: np.float32, z_out: int) -> np.ndarray:
    if op.opcode == "RELU":
        return relu_table(s_in, z_in, s_out, z_out)
    if op.opcode == "RELU6":
        if abs(6.0 / float(s_in)) >= 2**31:
            raise ValueError(
                f"the input scale {float(s_in):g} is so small that TFLM's quantized 6.0 overflows"
            )
        return relu6_table(s_in, z_in)
    if op.opcode == "LEAKY_RELU":
        return leaky_relu_table(s_in, z_in, s_out, z_out, op.options.get("alpha", 0.0))
    if op.opcode == "LOGISTIC":
        # TFLM fixes the output to scale 1/256, zero point -128 (it checks the zero point only).
        if z_out != -128:
            raise ValueError(
                f"the output zero point is {z_out}; TFLM's int8 LOGISTIC requires -128 "
                "(with scale 1/256)"
            )
        return logistic_table(s_in, z_in)
    if op.opcode == "TANH":
        # TFLM fixes the output to scale 1/128, zero point 0 without checking the tensor's.
        return tanh_table(s_in, z_in)
    if op.opcode == "HARD_SWISH":
        return hard_swish_table(s_in, z_in, s_out, z_out)
    raise ValueError("not an activation op")  # the registry routes only the ops above here


def lower(op: Operator, g: Graph) -> Lowered:
    ins, (out,) = io(g, op)
    inp = ins[0]
    require_int8(op, inp, out)
    _require_per_tensor(op, inp, out)
    s_in, z_in = _qparams(inp)
    s_out, z_out = _qparams(out)
    try:
        table = _table(op, s_in, z_in, s_out, z_out)
    except ValueError as exc:
        raise unsupported(
            op,
            str(exc),
            "Re-convert the model with the TFLite converter from a representative dataset so "
            "that the quantization parameters are in the usual range.",
        ) from None
    return lut_call(op, inp, out, table)
