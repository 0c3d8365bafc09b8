"""DEPTHWISE_CONV_2D lowering: int8 NHWC depthwise convolution with per-channel requantization."""

from __future__ import annotations

from tinypipe.compiler.graph import Graph, Operator

from .base import Lowered, io, unsupported
from .conv import all_windows_inside, check_conv_op, conv_call, fold_input_offset


def lower(op: Operator, g: Graph) -> Lowered:
    ins, (out,) = io(g, op)
    inp, weights = ins[0], ins[1]
    bias = ins[2] if len(ins) > 2 else None
    common, mult, shift = check_conv_op(op, inp, weights, bias, out, channel_axis=3)
    input_c, output_c = inp.shape[3], out.shape[3]
    depth_multiplier = int(op.options.get("depth_multiplier", 1))
    if weights.shape[0] != 1 or weights.shape[3] != output_c:
        raise unsupported(
            op, f"the filter shape {list(weights.shape)} is not [1, h, w, {output_c}]"
        )
    if depth_multiplier < 1 or input_c * depth_multiplier != output_c:
        raise unsupported(
            op,
            f"depth_multiplier {depth_multiplier} does not turn {input_c} input channels into "
            f"{output_c} output channels",
        )
    params = {**common, "depth_multiplier": depth_multiplier}
    # Per output channel, its taps: the filter [1, h, w, C] seen as [C, h*w].
    folded = fold_input_offset(op, inp, bias, weights.data.reshape(-1, output_c).T, output_c)
    # Padded taps read a row of input zero points kept in scratch (see tp_depthwise_conv.c).
    scratch = 0 if all_windows_inside(params) else input_c
    return conv_call(
        "tp_depthwise_conv", inp, weights, out, params, mult, shift, folded, scratch
    )
