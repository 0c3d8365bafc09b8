"""CONV_2D and DEPTHWISE_CONV_2D, 16x8: int16 activations, int8 filters (conv.py and
depthwise_conv.py dispatch here when the input is int16). Plain loops over the taps inside
the input, as TFLM's reference kernels (tp_conv_s16.c)."""

from __future__ import annotations

import numpy as np

from tinypipe.compiler.graph import Graph, Operator

from .base import C, Lowered, T, io, unsupported
from .conv import conv_padding
from .s16 import accumulator, fused_range_s16, require_s8_weights, require_s16, rescale_consts


def _lower(op: Operator, g: Graph, depthwise: bool) -> Lowered:
    ins, (out,) = io(g, op)
    inp, weights = ins[0], ins[1]
    bias = ins[2] if len(ins) > 2 else None
    require_s16(op, inp, out)
    require_s8_weights(op, weights)
    if len(inp.shape) != 4 or len(weights.shape) != 4 or len(out.shape) != 4:
        raise unsupported(
            op,
            f"input {list(inp.shape)}, filter {list(weights.shape)} and output "
            f"{list(out.shape)} must all be 4-D (NHWC)",
        )
    batches, in_h, in_w, in_c = inp.shape
    out_c = out.shape[3]
    filter_h, filter_w = weights.shape[1], weights.shape[2]
    params: dict[str, object] = {"groups": 1, "depth_multiplier": 1, "filter_c": 1}
    if depthwise:
        mult = int(op.options.get("depth_multiplier", 1))
        if weights.shape[0] != 1 or weights.shape[3] != out_c:
            raise unsupported(
                op, f"the filter shape {list(weights.shape)} is not [1, h, w, {out_c}]"
            )
        if mult < 1 or in_c * mult != out_c:
            raise unsupported(
                op,
                f"depth_multiplier {mult} does not turn {in_c} input channels into {out_c} "
                "output channels",
            )
        params["depth_multiplier"] = mult
        channel_axis, taps = 3, weights.data.reshape(-1, out_c).T
    else:
        filter_c = weights.shape[3]
        if weights.shape[0] != out_c:
            raise unsupported(op, f"the filter has {weights.shape[0]} filters for {out_c} channels")
        if filter_c < 1 or in_c % filter_c or out_c % (in_c // filter_c):
            raise unsupported(
                op,
                f"{in_c} input and {out_c} output channels do not split into groups of "
                f"{filter_c} (the filter depth)",
            )
        params.update(filter_c=filter_c, groups=in_c // filter_c)
        channel_axis, taps = 0, weights.data.reshape(out_c, -1)
    wq = weights.quant
    if wq.scale.size not in (1, out_c) or (wq.scale.size > 1 and wq.axis != channel_axis):
        raise unsupported(
            op,
            f"the filter has {wq.scale.size} scales on axis {wq.axis}; expected 1 (per tensor) "
            f"or {out_c} on axis {channel_axis} (per output channel)",
        )
    opts = op.options
    padding = opts.get("padding", "SAME")
    stride_h, stride_w = int(opts.get("stride_h", 1)), int(opts.get("stride_w", 1))
    dil_h, dil_w = int(opts.get("dilation_h_factor", 1)), int(opts.get("dilation_w_factor", 1))
    if padding not in ("SAME", "VALID"):
        raise unsupported(op, f"padding {padding} is not SAME or VALID")
    if min(stride_h, stride_w, dil_h, dil_w) < 1:
        raise unsupported(op, "strides and dilation factors must be at least 1")
    out_h, pad_h = conv_padding(padding, in_h, filter_h, stride_h, dil_h)
    out_w, pad_w = conv_padding(padding, in_w, filter_w, stride_w, dil_w)
    if out.shape[:3] != (batches, out_h, out_w):
        raise unsupported(
            op,
            f"the output shape {list(out.shape)} does not match the {padding} convolution of "
            f"input {list(inp.shape)} (expected [{batches}, {out_h}, {out_w}, {out_c}])",
        )
    w_abs = np.abs(taps.astype(np.int64)).sum(axis=1)
    # TFLM's 16x8 depthwise reads any bias as int64, so an int32 one is refused there.
    kinds = ("int64",) if depthwise else ("int32", "int64")
    bias64, wide = accumulator(op, bias, out_c, w_abs, kinds)
    mult, shift = rescale_consts(op, inp, weights, out, out_c, wide)
    lo, hi = fused_range_s16(op, out.scale)
    params.update(
        batches=batches, input_h=in_h, input_w=in_w, input_c=in_c,
        filter_h=filter_h, filter_w=filter_w,
        output_h=out_h, output_w=out_w, output_c=out_c,
        stride_h=stride_h, stride_w=stride_w, dilation_h=dil_h, dilation_w=dil_w,
        pad_h=pad_h, pad_w=pad_w, wide=int(wide), act_min=lo, act_max=hi,
        bias=C("bias"), multiplier=C("multiplier"), shift=C("shift"),
    )  # fmt: skip
    return Lowered(
        func="tp_depthwise_conv_s16" if depthwise else "tp_conv_s16",
        source="tp_conv_s16",
        params_type="tp_conv_s16_params",
        params=params,
        args=[T(inp.index), T(weights.index), T(out.index)],
        consts={"bias": bias64, "multiplier": mult, "shift": shift},
    )


def lower_conv(op: Operator, g: Graph) -> Lowered:
    return _lower(op, g, depthwise=False)


def lower_depthwise(op: Operator, g: Graph) -> Lowered:
    return _lower(op, g, depthwise=True)
