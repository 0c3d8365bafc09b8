"""SUM and REDUCE_MAX lowering: int8 over any constant axes, with MEAN's dim merging.

SUM is MEAN without the division: TFLM sums the raw int8 values in int32, removes N * zp_in
and requantizes by s_in / s_out, so it runs on MEAN's kernel with a multiplier not divided by
N. REDUCE_MAX compares raw values, which TFLM does with the input and output sharing one
quantization (checked here).
"""

from __future__ import annotations

import math

from tinypipe.compiler.graph import Graph, Operator

from .base import Lowered, T, c_array, io, require_int8, unsupported
from .mean import mean_multiplier, reduce_layout
from .strided import axis_of, const_ints, require_same_quant


def lower(op: Operator, g: Graph) -> Lowered:
    ins, outs = io(g, op)
    if len(ins) != 2 or ins[0] is None or len(outs) != 1:
        raise unsupported(op, "expected an input, the axes and one output")
    inp, out = ins[0], outs[0]
    require_int8(op, inp, out)
    if ins[1] is None or ins[1].dtype != "int32":
        raise unsupported(op, "the axes must be a constant int32 tensor, as TFLM requires")
    axes = {axis_of(op, a, len(inp.shape)) for a in const_ints(op, ins[1], "axes")}
    if not axes:
        raise unsupported(op, "an empty axis list")
    n = math.prod(inp.shape[a] for a in axes)
    if out.size * n != inp.size:
        raise unsupported(op, f"output {list(out.shape)} does not match input {list(inp.shape)}")
    kd, ks, rd, rs = reduce_layout(op, inp.shape, axes)
    layout = {
        "kept_dims": c_array(kd),
        "kept_stride": c_array(ks),
        "reduced_dims": c_array(rd),
        "reduced_stride": c_array(rs),
    }
    if op.opcode == "REDUCE_MAX":
        require_same_quant(op, inp, out)
        return Lowered(
            func="tp_reduce_max_s8",
            source="tp_reduce_max",
            params_type="tp_reduce_max_params",
            params=layout,
            args=[T(inp.index), T(out.index)],
        )
    if 255 * n >= 2**31:
        raise unsupported(op, f"the sum over {n} elements could overflow int32")
    mult, shift = mean_multiplier(inp.scale, out.scale, 1)
    return Lowered(
        func="tp_mean_s8",
        source="tp_mean",
        params_type="tp_mean_params",
        params={
            **layout,
            "sum_offset": -inp.zero_point * n,
            "multiplier": mult,
            "shift": shift,
            "output_offset": out.zero_point,
        },
        args=[T(inp.index), T(out.index)],
    )
