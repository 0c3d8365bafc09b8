"""SPLIT, SPLIT_V and UNPACK: consecutive pieces of the input along an axis, one output each
(tp_split_s8, the inverse of CONCATENATION). UNPACK is SPLIT into pieces of size 1 whose
outputs drop the axis; the bytes are the same."""

from __future__ import annotations

import math

from tinypipe.compiler.graph import Graph, Operator

from .base import Lowered, T, c_array, io, unsupported
from .strided import axis_of, const_ints, require_same_quant

MAX_OUTPUTS = 16  # TP_SPLIT_MAX_OUTPUTS


def lower(op: Operator, g: Graph) -> Lowered:
    ins, outs = io(g, op)
    if op.opcode == "SPLIT":  # inputs: axis, input
        if len(ins) != 2 or ins[1] is None:
            raise unsupported(op, "expected an axis and an input")
        inp = ins[1]
        axis = axis_of(op, _scalar(op, const_ints(op, ins[0], "axis")), len(inp.shape))
        n = int(op.options.get("num_splits", 0))
        if n < 1 or inp.shape[axis] % n:
            raise unsupported(op, f"{inp.shape[axis]} elements do not split into {n} equal parts")
        sizes = [inp.shape[axis] // n] * n
    elif op.opcode == "SPLIT_V":  # inputs: input, size_splits, axis
        if len(ins) != 3 or ins[0] is None:
            raise unsupported(op, "expected an input, the split sizes and an axis")
        inp = ins[0]
        axis = axis_of(op, _scalar(op, const_ints(op, ins[2], "axis")), len(inp.shape))
        sizes = const_ints(op, ins[1], "split sizes")
        if sizes.count(-1) == 1:  # one size inferred from the others
            sizes[sizes.index(-1)] = inp.shape[axis] - (sum(sizes) + 1)
    else:  # UNPACK
        if len(ins) != 1 or ins[0] is None:
            raise unsupported(op, "expected one input")
        inp = ins[0]
        axis = axis_of(op, int(op.options.get("axis", 0)), len(inp.shape))
        sizes = [1] * inp.shape[axis]
    if any(s < 0 for s in sizes) or sum(sizes) != inp.shape[axis] or len(sizes) != len(outs):
        raise unsupported(
            op,
            f"split sizes {sizes} for {len(outs)} outputs do not cover dim {axis} of "
            f"{list(inp.shape)}",
        )
    if len(outs) > MAX_OUTPUTS:
        raise unsupported(
            op,
            f"{len(outs)} outputs; tinypipe splits into at most {MAX_OUTPUTS}",
            "Split in two stages.",
        )
    require_same_quant(op, inp, *outs)
    inner = math.prod(inp.shape[axis + 1 :])
    for out, s in zip(outs, sizes):
        expect = (
            list(inp.shape[:axis])
            + ([] if op.opcode == "UNPACK" else [s])
            + list(inp.shape[axis + 1 :])
        )
        if list(out.shape) != expect:
            raise unsupported(op, f"output '{out.name}' is {list(out.shape)}, expected {expect}")
    rows = [s * inner for s in sizes]
    pad = MAX_OUTPUTS - len(outs)
    return Lowered(
        func="tp_split_s8",
        source="tp_split",
        params_type="tp_split_params",
        params={
            "outer": math.prod(inp.shape[:axis]),
            "num_outputs": len(outs),
            "row_size": c_array(rows + [0] * pad),
        },
        args=[T(inp.index)] + [T(o.index) for o in outs] + [None] * pad,
    )


def _scalar(op: Operator, values: list[int]) -> int:
    if len(values) != 1:
        raise unsupported(op, f"the axis must be one value, got {values}")
    return values[0]
