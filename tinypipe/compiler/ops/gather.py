"""GATHER with constant indices: whole slabs of the input picked along an axis (tp_gather_s8).
The indices are checked in range here, as TFLM checks them at run time."""

from __future__ import annotations

import math

import numpy as np

from tinypipe.compiler.graph import Graph, Operator

from .base import C, Lowered, T, io, unsupported
from .strided import axis_of, const_ints, require_same_quant


def lower(op: Operator, g: Graph) -> Lowered:
    ins, outs = io(g, op)
    if len(ins) != 2 or ins[0] is None or len(outs) != 1:
        raise unsupported(op, "expected an input, the indices and one output")
    inp, out = ins[0], outs[0]
    require_same_quant(op, inp, out)
    if int(op.options.get("batch_dims", 0)) != 0:
        raise unsupported(op, "batch_dims other than 0 is not supported")
    if ins[1] is not None and ins[1].dtype != "int32":
        raise unsupported(op, f"{ins[1].dtype} indices; TFLM gathers with int32 indices only")
    indices = const_ints(op, ins[1], "indices")
    axis = axis_of(op, int(op.options.get("axis", 0)), len(inp.shape))
    size = inp.shape[axis]
    if any(not 0 <= i < size for i in indices):
        raise unsupported(op, f"an index in {indices} is outside [0, {size})")
    expect = list(inp.shape[:axis]) + list(ins[1].shape) + list(inp.shape[axis + 1 :])
    if list(out.shape) != expect or not indices:
        raise unsupported(op, f"the output shape is {list(out.shape)}, expected {expect}")
    return Lowered(
        func="tp_gather_s8",
        source="tp_gather",
        params_type="tp_gather_params",
        params={
            "outer": math.prod(inp.shape[:axis]),
            "axis_size": size,
            "inner": math.prod(inp.shape[axis + 1 :]),
            "num_indices": len(indices),
            "indices": C("indices"),
        },
        args=[T(inp.index), T(out.index)],
        consts={"indices": np.asarray(indices, dtype=np.int32)},
    )
