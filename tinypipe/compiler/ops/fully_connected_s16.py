"""FULLY_CONNECTED, 16x8: int16 activations times int8 weights (fully_connected.py dispatches
here when the input is int16)."""

from __future__ import annotations

import numpy as np

from tinypipe.compiler.graph import Graph, Operator

from .base import C, Lowered, T, io, unsupported
from .s16 import accumulator, fused_range_s16, require_s8_weights, require_s16, rescale_consts


def lower(op: Operator, g: Graph) -> Lowered:
    ins, (out,) = io(g, op)
    inp, weights = ins[0], ins[1]
    bias = ins[2] if len(ins) > 2 else None
    require_s16(op, inp, out)
    require_s8_weights(op, weights)
    if op.options.get("weights_format", 0) != 0:
        raise unsupported(op, "shuffled weight formats are not supported")
    if len(weights.shape) != 2:
        raise unsupported(op, f"the weights are {len(weights.shape)}-D, expected [out, in]")
    out_features, in_features = weights.shape
    batches = inp.size // max(in_features, 1)
    if in_features < 1 or inp.size != batches * in_features or out.size != batches * out_features:
        raise unsupported(
            op,
            f"input {list(inp.shape)} and output {list(out.shape)} do not fit weights "
            f"[{out_features}, {in_features}]",
        )
    wq = weights.quant
    if wq.per_channel and (wq.scale.size != out_features or wq.axis != 0):
        raise unsupported(
            op,
            f"the weights have {wq.scale.size} scales on axis {wq.axis}; per-channel weights "
            f"need {out_features} on axis 0",
        )
    w_abs = np.abs(weights.data.astype(np.int64)).sum(axis=1)
    bias64, wide = accumulator(op, bias, out_features, w_abs)
    mult, shift = rescale_consts(op, inp, weights, out, out_features, wide)
    lo, hi = fused_range_s16(op, out.scale)
    return Lowered(
        func="tp_fully_connected_s16",
        source="tp_fully_connected_s16",
        params_type="tp_fully_connected_s16_params",
        params={
            "batches": batches,
            "in_features": in_features,
            "out_features": out_features,
            "wide": int(wide),
            "act_min": lo,
            "act_max": hi,
            "bias": C("bias"),
            "multiplier": C("multiplier"),
            "shift": C("shift"),
        },
        args=[T(inp.index), T(weights.index), T(out.index)],
        consts={"bias": bias64, "multiplier": mult, "shift": shift},
    )
