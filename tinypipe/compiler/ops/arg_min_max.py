"""ARG_MAX and ARG_MIN lowering: int8 input, int32 indices out, along one constant axis.
Comparing the quantized values gives the real arg max/min (the scale is positive)."""

from __future__ import annotations

import math

from tinypipe.compiler.graph import Graph, Operator

from .base import Lowered, T, io, require_int8, unsupported
from .strided import axis_of, const_ints


def lower(op: Operator, g: Graph) -> Lowered:
    ins, outs = io(g, op)
    if len(ins) != 2 or ins[0] is None or len(outs) != 1:
        raise unsupported(op, "expected an input, an axis and one output")
    inp, out = ins[0], outs[0]
    require_int8(op, inp)
    if out.dtype != "int32" or ins[1] is None or ins[1].dtype != "int32":
        raise unsupported(
            op,
            "TFLM's ARG_MAX/ARG_MIN take an int32 axis and write int32 indices only",
            "Convert with output_type=tf.int32 (tf.math.argmax(..., output_type=tf.int32)).",
        )
    axes = const_ints(op, ins[1], "axis")
    if len(axes) != 1:
        raise unsupported(op, f"one axis expected, got {axes}")
    axis = axis_of(op, axes[0], len(inp.shape))
    expect = list(inp.shape[:axis]) + list(inp.shape[axis + 1 :])
    if list(out.shape) != expect or inp.shape[axis] < 1:
        raise unsupported(op, f"the output shape is {list(out.shape)}, expected {expect}")
    return Lowered(
        func="tp_arg_min_max_s8",
        source="tp_arg_min_max",
        params_type="tp_arg_min_max_params",
        params={
            "outer": math.prod(inp.shape[:axis]),
            "axis_size": inp.shape[axis],
            "inner": math.prod(inp.shape[axis + 1 :]),
            "is_max": int(op.opcode == "ARG_MAX"),
        },
        args=[T(inp.index), T(out.index)],
    )
