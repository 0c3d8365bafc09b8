"""CONV_2D lowering: int8 NHWC convolution with per-channel requantization.

Also home of the pieces CONV_2D and DEPTHWISE_CONV_2D share: TFLite's padding rule, the checks
on weights, bias and quantization parameters, and the shape of the kernel call.
"""

from __future__ import annotations

import numpy as np

from ..graph import Graph, Operator, Tensor
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


def conv_padding(
    padding: str, in_size: int, filter_size: int, stride: int, dilation: int
) -> tuple[int, int]:
    """(output size, leading padding) along one spatial axis, as TFLite's
    ComputePaddingHeightWidth: SAME pads by half the total (rounded down), so an odd total
    puts the extra row/column at the bottom/right; VALID never pads."""
    effective = (filter_size - 1) * dilation + 1
    if padding == "SAME":
        out = (in_size + stride - 1) // stride
    else:
        out = (in_size + stride - effective) // stride
    total = max((out - 1) * stride + effective - in_size, 0)
    return out, total // 2


def check_conv_op(
    op: Operator,
    inp: Tensor,
    weights: Tensor,
    bias: Tensor | None,
    out: Tensor,
    channel_axis: int,
) -> tuple[dict[str, object], np.ndarray, np.ndarray]:
    """Checks and precomputation common to the convolutions. Returns the params shared by
    tp_conv_params and tp_depthwise_conv_params (geometry, offsets, clamp range) and the
    per-output-channel requantization multipliers and shifts."""
    require_int8(op, inp, weights, out)
    if weights.data is None:
        raise unsupported(
            op, "the filter is not constant", "Use a Conv2D layer with fixed (trained) weights."
        )
    if len(inp.shape) != 4 or len(weights.shape) != 4 or len(out.shape) != 4:
        raise unsupported(
            op,
            f"input {list(inp.shape)}, filter {list(weights.shape)} and output "
            f"{list(out.shape)} must all be 4-D (NHWC)",
        )
    if inp.quant.scale.size != 1 or out.quant.scale.size != 1:
        raise unsupported(op, "the input and output must be quantized per tensor")
    channels = out.shape[3]
    wq = weights.quant
    if wq.scale.size not in (1, channels) or (wq.scale.size > 1 and wq.axis != channel_axis):
        raise unsupported(
            op,
            f"the filter has {wq.scale.size} scales on axis {wq.axis}; expected 1 (per tensor) "
            f"or {channels} on axis {channel_axis} (per output channel)",
        )
    if np.any(wq.zero_point != 0):
        raise unsupported(
            op,
            "the filter has a nonzero zero point; TFLite's int8 spec (and TFLM, which ignores it) "
            "requires symmetric weights",
            "Quantize the model with the TFLite converter, which makes int8 weights symmetric.",
        )
    if bias is not None:
        if bias.data is None or bias.dtype != "int32":
            raise unsupported(op, f"the bias must be a constant int32 tensor, not {bias.dtype}")
        if bias.size != channels:
            raise unsupported(op, f"the bias has {bias.size} values for {channels} channels")

    opts = op.options
    padding = opts.get("padding", "SAME")
    stride_h, stride_w = int(opts.get("stride_h", 1)), int(opts.get("stride_w", 1))
    dil_h = int(opts.get("dilation_h_factor", 1))
    dil_w = int(opts.get("dilation_w_factor", 1))
    if padding not in ("SAME", "VALID"):
        raise unsupported(op, f"padding {padding} is not SAME or VALID")
    if min(stride_h, stride_w, dil_h, dil_w) < 1:
        raise unsupported(op, "strides and dilation factors must be at least 1")
    batches, in_h, in_w, _ = inp.shape
    filter_h, filter_w = weights.shape[1], weights.shape[2]
    out_h, pad_h = conv_padding(padding, in_h, filter_h, stride_h, dil_h)
    out_w, pad_w = conv_padding(padding, in_w, filter_w, stride_w, dil_w)
    if out.shape[:3] != (batches, out_h, out_w):
        raise unsupported(
            op,
            f"the output shape {list(out.shape)} does not match the {padding} convolution of "
            f"input {list(inp.shape)} (expected [{batches}, {out_h}, {out_w}, {channels}])",
        )
    lo, hi = fused_activation_range(op, out.scale, out.zero_point)
    mult, shift = channel_multipliers(inp, weights, out, channels)
    params = {
        "batches": batches,
        "input_h": in_h,
        "input_w": in_w,
        "input_c": inp.shape[3],
        "filter_h": filter_h,
        "filter_w": filter_w,
        "output_h": out_h,
        "output_w": out_w,
        "stride_h": stride_h,
        "stride_w": stride_w,
        "dilation_h": dil_h,
        "dilation_w": dil_w,
        "pad_h": pad_h,
        "pad_w": pad_w,
        "input_offset": -inp.zero_point,
        "output_offset": out.zero_point,
        "act_min": lo,
        "act_max": hi,
    }
    return params, mult, shift.astype(np.int32)


def conv_call(
    source: str,
    inp: Tensor,
    weights: Tensor,
    bias: Tensor | None,
    out: Tensor,
    params: dict[str, object],
    mult: np.ndarray,
    shift: np.ndarray,
) -> Lowered:
    """The call `<source>_s8(&params, input, filter, bias or NULL, output)`, with the
    per-output-channel requantization as op-local constant arrays."""
    return Lowered(
        func=f"{source}_s8",
        source=source,
        params_type=f"{source}_params",
        params={**params, "multiplier": C("multiplier"), "shift": C("shift")},
        args=[
            T(inp.index),
            T(weights.index),
            T(bias.index) if bias is not None else None,
            T(out.index),
        ],
        consts={"multiplier": mult, "shift": shift},
    )


def lower(op: Operator, g: Graph) -> Lowered:
    ins, (out,) = io(g, op)
    inp, weights = ins[0], ins[1]
    bias = ins[2] if len(ins) > 2 else None
    common, mult, shift = check_conv_op(op, inp, weights, bias, out, channel_axis=0)
    input_c, filter_c, output_c = inp.shape[3], weights.shape[3], out.shape[3]
    if weights.shape[0] != output_c:
        raise unsupported(op, f"the filter has {weights.shape[0]} filters for {output_c} channels")
    if filter_c < 1 or input_c % filter_c:
        raise unsupported(
            op,
            f"{input_c} input channels cannot be split into groups of {filter_c} (the filter depth)",
        )
    groups = input_c // filter_c
    if output_c % groups:
        raise unsupported(
            op, f"{output_c} output channels cannot be split evenly into {groups} groups"
        )
    params = {**common, "filter_c": filter_c, "output_c": output_c, "groups": groups}
    return conv_call("tp_conv", inp, weights, bias, out, params, mult, shift)
