"""MEAN, int16 (16x8 models): mean.py's fixed-point division and merged layout on int16
values; zero points are 0 in the 16x8 scheme."""

from __future__ import annotations

import math

from tinypipe.compiler.graph import Graph, Operator

from .base import Lowered, T, c_array, io, unsupported
from .mean import mean_multiplier, reduce_layout
from .s16 import require_s16


def lower(op: Operator, g: Graph) -> Lowered:
    ins, (out,) = io(g, op)
    if len(ins) != 2 or ins[0] is None or ins[1] is None:
        raise unsupported(op, "expected an input and an axis tensor")
    inp, axis_t = ins
    require_s16(op, inp, out)
    if axis_t.data is None or axis_t.dtype != "int32":
        raise unsupported(op, "the axes must be a constant int32 tensor")
    rank = len(inp.shape)
    axes: set[int] = set()
    for a in axis_t.data.ravel().tolist():
        if not -rank <= a < rank:
            raise unsupported(op, f"axis {a} is out of range for input {list(inp.shape)}")
        axes.add(a % rank)
    n = math.prod(inp.shape[a] for a in axes)
    if out.size * n != inp.size:
        raise unsupported(
            op,
            f"output {list(out.shape)} does not match input {list(inp.shape)} over {sorted(axes)}",
        )
    if 32768 * n >= 2**31:
        raise unsupported(op, f"the sum over {n} elements could overflow int32")
    if not axes:  # TFLM copies: requantize by exactly 1
        mult, shift = 1 << 30, 1
    else:
        mult, shift = mean_multiplier(inp.scale, out.scale, n)
    kd, ks, rd, rs = reduce_layout(op, inp.shape, axes)
    return Lowered(
        func="tp_mean_s16",
        source="tp_mean_s16",
        params_type="tp_mean_s16_params",
        params={
            "kept_dims": c_array(kd),
            "kept_stride": c_array(ks),
            "reduced_dims": c_array(rd),
            "reduced_stride": c_array(rs),
            "multiplier": mult,
            "shift": shift,
        },
        args=[T(inp.index), T(out.index)],
    )
