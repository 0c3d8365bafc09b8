"""PACK: stacking N same-shaped inputs along a new axis is CONCATENATION of rows (the inputs
viewed as [outer, 1, inner]), so it lowers to the same kernel."""

from __future__ import annotations

import math

from tinypipe.compiler.graph import Graph, Operator

from .base import Lowered, T, c_array, io, unsupported
from .concatenation import MAX_INPUTS
from .strided import axis_of, require_same_quant


def lower(op: Operator, g: Graph) -> Lowered:
    ins, outs = io(g, op)
    if not ins or any(t is None for t in ins) or len(outs) != 1:
        raise unsupported(op, "expected inputs and one output")
    out = outs[0]
    if len(ins) > MAX_INPUTS:
        raise unsupported(
            op, f"{len(ins)} inputs; tinypipe packs at most {MAX_INPUTS}", "Pack in two stages."
        )
    for t in ins:
        require_same_quant(op, t, out)
    shape = list(ins[0].shape)
    axis = axis_of(op, int(op.options.get("axis", 0)), len(shape) + 1)
    expect = shape[:axis] + [len(ins)] + shape[axis:]
    if any(list(t.shape) != shape for t in ins) or list(out.shape) != expect:
        raise unsupported(
            op, f"inputs {[list(t.shape) for t in ins]} do not stack to {list(out.shape)}"
        )
    row = math.prod(shape[axis:])
    pad = MAX_INPUTS - len(ins)
    return Lowered(
        func="tp_concatenation_s8",
        source="tp_concatenation",
        params_type="tp_concatenation_params",
        params={
            "outer": math.prod(shape[:axis]),
            "num_inputs": len(ins),
            "row_size": c_array([row] * len(ins) + [0] * pad),
        },
        args=[T(t.index) for t in ins] + [None] * pad + [T(out.index)],
    )
