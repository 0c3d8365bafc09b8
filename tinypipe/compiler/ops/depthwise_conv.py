"""DEPTHWISE_CONV_2D lowering: int8 NHWC depthwise convolution with per-channel requantization."""

from __future__ import annotations

import numpy as np

from tinypipe.compiler.graph import Graph, Operator

from .base import C, Lowered, io, unsupported
from .conv import (
    accumulator_bound,
    all_windows_inside,
    check_conv_op,
    conv_call,
    fold_input_offset,
    requant_records,
    use_requant_records,
)

# The tap table of tp_depthwise_conv_s8/_w16_s8 (TP_DW_MAX_TAPS in tp_depthwise_conv.h).
MAX_TAPS = 64


def lower(op: Operator, g: Graph, int16_weights: bool = True) -> Lowered:
    """The layer's call; `int16_weights=False` keeps the int8 weights (flash_budget.py)."""
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
    w = weights.data.reshape(-1, output_c).T
    folded = fold_input_offset(op, inp, bias, w, output_c)
    # Padded taps read a row of input zero points kept in scratch (see tp_depthwise_conv.c).
    scratch = 0 if all_windows_inside(params) else input_c
    low = conv_call("tp_depthwise_conv", inp, weights, out, params, mult, shift, folded, scratch)
    # The int16-expanded filter costs as many flash bytes as the int8 one (a few hundred for a
    # 3x3 layer) and makes every MAC cheaper: taken whenever the fast kernel applies.
    rq = requant_records(mult, shift, out.zero_point, accumulator_bound(folded, w))
    if (
        int16_weights
        and depth_multiplier == 1
        and input_c % 4 == 0
        and w.shape[1] <= MAX_TAPS
        and rq is not None
    ):
        low.func = "tp_depthwise_conv_w16_s8"
        low.consts["filter16"] = interleave_dw_w16(w)
        use_requant_records(low, rq)
        low.args[1] = C("filter16")
    return low


def interleave_dw_w16(w: np.ndarray) -> np.ndarray:
    """The [channels, taps] int8 filter as tp_depthwise_conv_w16_s8 reads it
    (tp_depthwise_conv.h): per group of 4 channels and per tap, w[c], w[c+2], w[c+1], w[c+3]
    as int16, the lane order SXTB16 gives 4 input bytes."""
    channels, taps = w.shape
    t = w.astype(np.int16).reshape(channels // 4, 4, taps)[:, [0, 2, 1, 3], :]
    return np.ascontiguousarray(t.transpose(0, 2, 1)).reshape(-1)
