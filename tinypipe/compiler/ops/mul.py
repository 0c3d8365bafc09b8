"""MUL lowering: int8 elementwise multiply with broadcasting (either operand may be constant)."""

from __future__ import annotations

from tinypipe.compiler.graph import Graph, Operator

from .base import Lowered
from .broadcast import broadcast_call, broadcast_operands
from .quantmath import quantize_multiplier


def lower(op: Operator, g: Graph) -> Lowered:
    x = broadcast_operands(op, g)
    # TFLM's Prepare: s1 * s2 / s_out in double from the float32 scales.
    mult, shift = quantize_multiplier(x.in1.scale * x.in2.scale / x.out.scale)
    return broadcast_call(op, "tp_mul", x, {"output_multiplier": mult, "output_shift": shift})
