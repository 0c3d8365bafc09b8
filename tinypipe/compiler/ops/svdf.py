"""SVDF, int8 input and output with an int16 (or int8) activation state, as TFLM's reference
integer SVDF (svdf_common.cc).

The state (input 4) is the op's variable tensor: [batch, filters * memory], kept in static
memory across calls (codegen.py). TFLM derives the two rescales in float32 and takes them to
double only after, reads the bias scale unconditionally (so it needs a bias), applies no fused
activation on this path (the output is only clamped to int8), adds the state's zero point after
clamping the new feature value (so an int8 state with a zero point can wrap; newer TFLM sources
add it before) and sums the time products in int32, which may wrap. tinypipe matches all of it,
measured against the installed tflite-micro interpreter.
"""

from __future__ import annotations

import numpy as np

from tinypipe.compiler.graph import Graph, Operator

from . import fixedpoint as fp
from .base import C, Lowered, T, io, require_state, unsupported


def _multiplier(op: Operator, real: np.float32, what: str) -> tuple[int, int]:
    mult, shift = fp.quantize_multiplier(float(real))
    if shift > 30:
        raise unsupported(op, f"the {what} rescale {float(real):.3g} is too large")
    return mult, shift


def _wrap32(values: np.ndarray) -> np.ndarray:
    """int64 values modulo 2^32 as int32 (the kernel's sums are taken modulo 2^32 too)."""
    return (values.astype(np.int64) & 0xFFFFFFFF).astype(np.uint32).view(np.int32)


def lower(op: Operator, g: Graph) -> Lowered:
    ins, (out,) = io(g, op)
    if len(ins) != 5:
        raise unsupported(op, f"it has {len(ins)} inputs, TFLM's SVDF takes 5")
    x, wf, wt, bias, state = ins
    if x is None or wf is None or wt is None or state is None:
        raise unsupported(op, "the input, weights or state is missing")
    if x.dtype != "int8":
        raise unsupported(
            op,
            f"the input is {x.dtype}; only the int8 SVDF is supported",
            "Quantize the model to full int8 (`tinypipe quantize`).",
        )
    if bias is None:
        raise unsupported(op, "the int8 SVDF needs a bias (TFLM reads its scale)")
    for t, kinds in ((out, ("int8",)), (wf, ("int8",)), (state, ("int16", "int8"))):
        if t.dtype not in kinds or t.quant is None or t.quant.scale.size != 1:
            raise unsupported(op, f"tensor '{t.name}' must be {' or '.join(kinds)}, per tensor")
    if wt.dtype != state.dtype or wt.quant is None or wt.quant.scale.size != 1:
        raise unsupported(op, f"the time weights must be {state.dtype} like the state, per tensor")
    if wf.data is None or wt.data is None or bias.data is None or bias.dtype != "int32":
        raise unsupported(op, "the weights must be constant and the bias constant int32")
    require_state(op, g, state)
    rank = int(op.options.get("rank", 0))
    if len(x.shape) != 2 or len(wf.shape) != 2 or len(wt.shape) != 2:
        raise unsupported(op, "the input and both weights must be 2-D")
    batches, n_input = x.shape
    n_filter, n_memory = wt.shape
    if rank < 1 or n_filter % rank:
        raise unsupported(op, f"rank {rank} does not divide the {n_filter} filters")
    n_unit = n_filter // rank
    if tuple(wf.shape) != (n_filter, n_input):
        raise unsupported(op, f"feature weights {list(wf.shape)}, expected [{n_filter}, {n_input}]")
    if tuple(state.shape) != (batches, n_filter * n_memory):
        raise unsupported(
            op, f"state {list(state.shape)}, expected [{batches}, {n_filter * n_memory}]"
        )
    if tuple(out.shape) != (batches, n_unit) or bias.size != n_unit:
        raise unsupported(op, f"output {list(out.shape)} or bias do not hold {n_unit} units")
    if wf.zero_point != 0 or wt.zero_point != 0:
        raise unsupported(op, "the weights have a nonzero zero point")
    s_state, s_wt = np.float32(state.scale), np.float32(wt.scale)
    if abs(float(bias.scale) - float(np.float32(s_state * s_wt))) >= 1e-5:
        raise unsupported(op, "the bias scale is not the state scale times the time weights'")

    zp_x, zp_s = x.zero_point, state.zero_point
    wf64, wt64 = wf.data.astype(np.int64), wt.data.astype(np.int64)
    feature_bias = -zp_x * wf64.sum(axis=1)
    unit_bias = bias.data.astype(np.int64).ravel() - zp_s * wt64.sum(axis=1).reshape(
        n_unit, rank
    ).sum(axis=1)
    # Only the feature sum is bounded: TFLM's int32 time sums may wrap (kernel sums mod 2^32).
    if (128 * np.abs(wf64).sum(axis=1) + np.abs(feature_bias)).max() >= 2**31:
        raise unsupported(op, "a feature sum could overflow its int32 accumulator")

    s_lo, s_hi = (-32768, 32767) if state.dtype == "int16" else (-128, 127)
    f32 = np.float32
    m1 = _multiplier(op, f32(f32(x.scale) * f32(wf.scale)) / s_state, "feature")
    m2 = _multiplier(op, f32(s_state * s_wt) / f32(out.scale), "output")
    suffix = "s16" if state.dtype == "int16" else "s8"
    return Lowered(
        func=f"tp_svdf_s8_{suffix}",
        source="tp_svdf",
        params_type="tp_svdf_params",
        params={
            "batches": batches,
            "n_input": n_input,
            "n_filter": n_filter,
            "n_memory": n_memory,
            "rank": rank,
            "state_zp": zp_s,
            "output_zp": out.zero_point,
            "feature_multiplier": m1[0],
            "feature_shift": m1[1],
            "output_multiplier": m2[0],
            "output_shift": m2[1],
            "state_min": s_lo,
            "state_max": s_hi,
            "weights_feature": T(wf.index),
            "feature_bias": C("feature_bias"),
            "unit_bias": C("unit_bias"),
        },
        args=[T(x.index), T(wt.index), T(out.index), T(state.index)],
        consts={
            "feature_bias": feature_bias.astype(np.int32),
            "unit_bias": _wrap32(unit_bias),
        },
    )
