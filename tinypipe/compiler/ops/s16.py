"""What the 16x8 lowerings share (int16 activations, int8 weights; TFLite's 16x8 scheme).

In that scheme every int16 tensor is symmetric: zero point 0. TFLM's 16x8 kernels ignore the
zero point altogether, so a model that sets one is refused here rather than computed two ways.
A layer with weights accumulates in int64 when its bias is int64 (what the converter writes) or
absent, and in int32 with an int32 bias (measured against the tflite-micro interpreter), and TFLM
rescales the two kinds differently (tp_common_s16.h); the
constants for either are made here.
"""

from __future__ import annotations

import numpy as np

from tinypipe.compiler.graph import Operator, Tensor

from .base import channel_multipliers, unsupported
from .quantmath import activation_range

INT16_MIN, INT16_MAX = -32768, 32767
# TFLM's int64 rescale assumes |acc| < 2^47 (so acc * a Q15 multiplier stays inside int64).
WIDE_ACC_LIMIT = 1 << 47


def is_s16(t: Tensor | None) -> bool:
    return t is not None and t.dtype == "int16"


def require_s16(op: Operator, *tensors: Tensor | None) -> None:
    """Every given tensor is an int16 activation quantized per tensor with zero point 0."""
    for t in tensors:
        if t is None:
            continue
        if t.dtype != "int16":
            raise unsupported(
                op,
                f"tensor '{t.name}' is {t.dtype} where the 16x8 kernel needs int16",
                "Quantize the whole model in 16x8 mode (`tinypipe quantize --activations int16`).",
            )
        if t.quant is None or t.quant.scale.size != 1:
            raise unsupported(op, f"int16 tensor '{t.name}' must be quantized per tensor")
        if int(t.quant.zero_point[0]) != 0:
            raise unsupported(
                op,
                f"int16 tensor '{t.name}' has zero point {int(t.quant.zero_point[0])}; TFLite's "
                "16x8 scheme (and TFLM, which ignores it) requires 0",
                "Quantize with the TFLite converter's 16x8 mode, which makes int16 symmetric.",
            )


def require_s8_weights(op: Operator, weights: Tensor) -> None:
    if weights.dtype != "int8" or weights.quant is None:
        raise unsupported(op, f"the weights '{weights.name}' must be quantized int8")
    if weights.data is None:
        raise unsupported(op, "the weights are not constant", "Use a layer with fixed weights.")
    if np.any(weights.quant.zero_point != 0):
        raise unsupported(
            op,
            "the int8 weights have a nonzero zero point; the 16x8 scheme requires symmetric "
            "weights",
            "Quantize the model with the TFLite converter, which makes int8 weights symmetric.",
        )


def fused_range_s16(op: Operator, scale: float) -> tuple[int, int]:
    act = op.options.get("fused_activation_function", "NONE")
    try:
        return activation_range(act, scale, 0, INT16_MIN, INT16_MAX)
    except ValueError:
        raise unsupported(
            op,
            f"the fused activation {act} is not supported (NONE, RELU, RELU6, RELU_N1_TO_1 are)",
            "Apply the activation as a separate layer.",
        ) from None


def accumulator(
    op: Operator,
    bias: Tensor | None,
    channels: int,
    w_abs_sums: np.ndarray,
    kinds: tuple[str, ...] = ("int32", "int64"),
) -> tuple[np.ndarray, bool]:
    """(bias as int64 per channel, whether the accumulator is int64) for a 16x8 layer whose
    weights have per-channel sums of |w| `w_abs_sums` and whose bias may be of the types
    `kinds`. Only an int32 bias makes the accumulator int32. An int64 accumulator is refused
    when it could leave TFLM's assumed range; an int32 one wraps like TFLM's (see
    tp_common_s16.h)."""
    if bias is None:
        values, wide = np.zeros(channels, np.int64), True
    else:
        if bias.data is None or bias.dtype not in kinds:
            raise unsupported(
                op,
                f"the bias must be a constant {' or '.join(kinds)} tensor, not {bias.dtype}",
                "Convert the model with the TFLite converter's 16x8 mode, which writes int64 "
                "biases.",
            )
        if bias.size != channels:
            raise unsupported(op, f"the bias has {bias.size} values for {channels} channels")
        values, wide = bias.data.astype(np.int64).reshape(channels), bias.dtype != "int32"
    if wide:
        bound = np.abs(values.astype(object)) + 32768 * w_abs_sums.astype(object)
        if max(bound, default=0) >= WIDE_ACC_LIMIT:
            raise unsupported(
                op, "the int64 accumulator of a channel could exceed 2^47, TFLM's limit"
            )
    return values, wide


def rescale_consts(
    op: Operator, inp: Tensor, weights: Tensor, out: Tensor, channels: int, wide: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel (multiplier, shift) for tp_rescale_s16: Q31 and exponent for the int32
    accumulator; for the int64 one the multiplier reduced to Q15 as TFLM rounds it and the
    total right shift 15 - exponent."""
    mult, shift = channel_multipliers(inp, weights, out, channels)
    if np.any(mult < 0):
        raise unsupported(op, "a requantization multiplier is negative")
    if not wide:
        return mult, shift.astype(np.int32)
    m = mult.astype(np.int64)
    reduced = np.where(m < 0x7FFF0000, (m + (1 << 15)) >> 16, 0x7FFF)
    total = 15 - shift.astype(np.int64)
    if np.any(total < 1):
        raise unsupported(op, "the output scale is too small for TFLM's 16x8 rescaling")
    return reduced.astype(np.int32), total.astype(np.int32)
