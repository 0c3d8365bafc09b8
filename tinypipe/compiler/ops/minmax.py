"""MAXIMUM and MINIMUM lowering: int8, with broadcasting. TFLM compares the quantized values
as they are, which is the real maximum (minimum) only when both inputs share the output's
quantization, as the converter makes them; other models are refused."""

from __future__ import annotations

import numpy as np

from tinypipe.compiler.graph import Graph, Operator

from .base import Lowered, T, unsupported
from .broadcast import broadcast_fields, broadcast_operands


def lower(op: Operator, g: Graph) -> Lowered:
    x = broadcast_operands(op, g)
    for t in (x.in1, x.in2):
        if np.float32(t.scale) != np.float32(x.out.scale) or t.zero_point != x.out.zero_point:
            raise unsupported(
                op,
                f"input '{t.name}' is quantized differently from the output; TFLM compares "
                "the int8 values as they are, which needs one quantization for all three",
                "Convert with the TFLite converter, which gives them the same parameters.",
            )
    return Lowered(
        func="tp_maximum_s8" if op.opcode == "MAXIMUM" else "tp_minimum_s8",
        source="tp_minmax",
        params_type="tp_minmax_params",
        params={
            **broadcast_fields(x),
        },
        args=[T(x.in1.index), T(x.in2.index), T(x.out.index)],
    )
