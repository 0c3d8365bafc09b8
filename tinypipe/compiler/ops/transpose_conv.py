"""TRANSPOSE_CONV lowering: int8, per-channel or per-tensor weights, optional int32 bias.

TFLM's inputs: the output shape (constant), the weights [out_c, k_h, k_w, in_c], the input and
an optional bias. The padding is that of the convolution this op transposes, computed by
TFLite's rule on the *output* size; the multipliers are conv's (s_in * s_w[c] / s_out).
The reading of those (`transpose_conv_geometry`) is shared with the 16x8 lowering
(transpose_conv_s16.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tinypipe.compiler.graph import Graph, Operator, Tensor

from .base import (
    C,
    Lowered,
    T,
    channel_multipliers,
    fused_activation_range,
    io,
    require_int8,
    unsupported,
)
from .conv import conv_padding
from .strided import const_ints


@dataclass(frozen=True)
class TransposeConv:
    """The operands of a TRANSPOSE_CONV and the geometry fields its kernels' params share."""

    inp: Tensor
    weights: Tensor
    bias: Tensor | None
    out: Tensor
    geometry: dict[str, int]


def transpose_conv_geometry(op: Operator, g: Graph) -> TransposeConv:
    """Operands, shapes, strides and padding, checked; the types are the caller's to check."""
    ins, outs = io(g, op)
    if not 3 <= len(ins) <= 4 or any(t is None for t in ins[:3]) or len(outs) != 1:
        raise unsupported(
            op, "expected the output shape, weights, an input, an optional bias and one output"
        )
    shape_t, weights, inp = ins[0], ins[1], ins[2]
    bias = ins[3] if len(ins) > 3 else None
    out = outs[0]
    if weights.data is None:
        raise unsupported(op, "the weights must be constant")
    if len(inp.shape) != 4 or len(weights.shape) != 4 or len(out.shape) != 4:
        raise unsupported(op, "expected 4-D NHWC input and output and 4-D weights")
    n, in_h, in_w, in_c = inp.shape
    out_c, k_h, k_w, w_c = weights.shape
    if const_ints(op, shape_t, "output shape") != list(out.shape):
        raise unsupported(
            op, f"the output shape operand does not match the output {list(out.shape)}"
        )
    if w_c != in_c or out.shape[0] != n or out.shape[3] != out_c:
        raise unsupported(
            op,
            f"weights {list(weights.shape)} do not fit input {list(inp.shape)} and output {list(out.shape)}",
        )
    if bias is not None and bias.size != out_c:
        raise unsupported(op, f"{bias.size} bias values for {out_c} output channels")
    padding = op.options.get("padding", "SAME")
    sh, sw = int(op.options.get("stride_h", 1)), int(op.options.get("stride_w", 1))
    if padding not in ("SAME", "VALID") or sh < 1 or sw < 1:
        raise unsupported(op, f"padding {padding} with strides {sh}x{sw}")
    _, pad_h = conv_padding(padding, out.shape[1], k_h, sh, 1)
    _, pad_w = conv_padding(padding, out.shape[2], k_w, sw, 1)
    if pad_h >= k_h or pad_w >= k_w:  # the kernels' tap walk starts at oy + pad >= 0
        raise unsupported(op, "the padding is wider than the filter")
    geometry = {
        "batches": n, "in_h": in_h, "in_w": in_w, "in_c": in_c,
        "out_h": out.shape[1], "out_w": out.shape[2], "out_c": out_c, "k_h": k_h, "k_w": k_w,
        "stride_h": sh, "stride_w": sw, "pad_h": pad_h, "pad_w": pad_w,
    }  # fmt: skip
    return TransposeConv(inp, weights, bias, out, geometry)


def geometry_fields(tc: TransposeConv) -> dict[str, int]:
    """The `g` member (tp_transpose_conv_geometry) of either kernel's parameters."""
    return {f"g.{k}": v for k, v in tc.geometry.items()}


def lower(op: Operator, g: Graph) -> Lowered:
    tc = transpose_conv_geometry(op, g)
    inp, weights, bias, out = tc.inp, tc.weights, tc.bias, tc.out
    require_int8(op, inp, weights, out)
    if bias is not None and (bias.dtype != "int32" or bias.data is None):
        raise unsupported(op, "the bias must be a constant int32 tensor")
    if np.any(weights.quant.zero_point != 0):
        raise unsupported(op, "the weights have a non-zero zero point (TFLite int8 requires 0)")
    out_c, k_h, k_w, in_c = weights.shape
    try:
        mult, shift = channel_multipliers(inp, weights, out, out_c)
    except ValueError as exc:
        raise unsupported(op, str(exc)) from None
    lo, hi = fused_activation_range(op, out.scale, out.zero_point)
    # Every tap is |x - zp| <= 255 times |w| <= 128: the int32 sum must not overflow.
    worst = k_h * k_w * in_c * 255 * 128 + (int(np.abs(bias.data).max()) if bias is not None else 0)
    if worst >= 2**31:
        raise unsupported(op, "the accumulator could overflow int32")
    weight_sum = np.asarray(weights.data, np.int64).sum(axis=3).astype(np.int32)
    consts = {"multiplier": mult, "shift": shift, "weight_sum": weight_sum}
    if bias is not None:
        consts["bias"] = np.asarray(bias.data, np.int32)
    return Lowered(
        func="tp_transpose_conv_s8",
        source="tp_transpose_conv",
        params_type="tp_transpose_conv_params",
        params={
            **geometry_fields(tc),
            "input_offset": -inp.zero_point,
            "output_offset": out.zero_point,
            "act_min": lo,
            "act_max": hi,
            "bias": C("bias") if bias is not None else None,
            "multiplier": C("multiplier"),
            "shift": C("shift"),
            "weight_sum": C("weight_sum"),
        },
        args=[T(inp.index), T(weights.index), T(out.index)],
        consts=consts,
    )
