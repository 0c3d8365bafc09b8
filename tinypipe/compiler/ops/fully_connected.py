"""FULLY_CONNECTED lowering: int8 x int8 -> int32 accumulate, per-channel requantize."""

from __future__ import annotations

import numpy as np

from tinypipe.compiler.graph import Graph, Operator

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
from .conv import accumulator_bound, requant_records, use_requant_records


def lower(op: Operator, g: Graph) -> Lowered:
    ins, (out,) = io(g, op)
    inp, weights = ins[0], ins[1]
    bias = ins[2] if len(ins) > 2 else None
    require_int8(op, inp, weights, out)
    if weights.data is None:
        raise unsupported(
            op, "the weights are not constant", "Use a Dense layer with fixed weights."
        )
    if op.options.get("weights_format", 0) != 0:
        raise unsupported(op, "shuffled weight formats are not supported")
    if bias is not None and (bias.data is None or bias.dtype != "int32"):
        raise unsupported(op, "the bias must be a constant int32 tensor")
    if len(weights.shape) != 2:
        raise unsupported(op, f"the weights are {len(weights.shape)}-D, expected [out, in]")
    out_features, in_features = weights.shape
    batches = inp.size // in_features
    if inp.size != batches * in_features or out.size != batches * out_features:
        raise unsupported(
            op,
            f"input {list(inp.shape)} and output {list(out.shape)} do not fit weights "
            f"[{out_features}, {in_features}]",
        )
    wq = weights.quant
    if wq.per_channel:
        if wq.scale.size != out_features or wq.axis != 0:
            raise unsupported(
                op,
                f"the weights have {wq.scale.size} scales on axis {wq.axis}; per-channel "
                f"weights need {out_features} on axis 0",
            )
        if np.any(wq.zero_point != 0):
            raise unsupported(
                op,
                "per-channel weights have a nonzero zero point; TFLite's int8 spec (and TFLM, "
                "which ignores it) requires symmetric per-channel weights",
                "Quantize the model with the TFLite converter, which makes int8 weights symmetric.",
            )
    mult, shift = channel_multipliers(inp, weights, out, out_features)
    # The kernel's tp_requantize_nonneg needs multipliers >= 0, which positive scales give.
    assert np.all(mult >= 0), "requantization multipliers must be >= 0"
    # Fold every input-independent term of sum (x - zp_in)(w - zp_w) + bias into one constant.
    filter_offset = -int(wq.zero_point[0])
    w_sums = weights.data.astype(np.int64).sum(axis=1) + in_features * filter_offset
    folded = -inp.zero_point * w_sums
    if bias is not None:
        folded = folded + bias.data.astype(np.int64)
    if np.abs(folded).max(initial=0) >= 2**31:
        raise unsupported(op, "the folded bias does not fit in int32")
    lo, hi = fused_activation_range(op, out.scale, out.zero_point)
    low = Lowered(
        func="tp_fully_connected_s8",
        source="tp_fully_connected",
        params_type="tp_fully_connected_params",
        params={
            "batches": batches,
            "in_features": in_features,
            "out_features": out_features,
            "filter_offset": filter_offset,
            "output_offset": out.zero_point,
            "act_min": lo,
            "act_max": hi,
            "bias": C("bias"),
            "multiplier": C("multiplier"),
            "shift": C("shift"),
        },
        args=[T(inp.index), T(weights.index), T(out.index)],
        consts={
            "bias": folded.astype(np.int32),
            "multiplier": mult,
            "shift": shift.astype(np.int32),
        },
    )
    # Symmetric weights in whole words and outputs in fours: 4 outputs per pass over the input.
    rq = requant_records(
        mult, shift.astype(np.int32), out.zero_point, accumulator_bound(folded, weights.data)
    )
    if filter_offset == 0 and in_features % 4 == 0 and out_features % 4 == 0 and rq is not None:
        low.func = "tp_fully_connected_x4_s8"
        low.consts["weights4"] = interleave_x4(weights.data)
        use_requant_records(low, rq)
        low.args[1] = C("weights4")
    return low


def interleave_x4(w: np.ndarray) -> np.ndarray:
    """The [out, in] int8 weights as tp_fully_connected_x4_s8 reads them
    (tp_fully_connected.h): per group of 4 outputs and chunk of 4 inputs, the 4 outputs' words
    w[o][k..k+3], each packed little-endian into an int32."""
    outs, n = w.shape
    t = w.astype(np.int8).reshape(outs // 4, 4, n // 4, 4).transpose(0, 2, 1, 3)
    return np.ascontiguousarray(t).reshape(-1).view("<i4").astype(np.int32)
