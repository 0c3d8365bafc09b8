"""MUL lowering: int8 elementwise multiply with broadcasting (either operand may be constant)."""

from __future__ import annotations

import numpy as np

from tinypipe.compiler.graph import Graph, Operator

from .base import Lowered, c_array
from .broadcast import broadcast_call, broadcast_operands
from .conv import requant_records
from .quantmath import quantize_multiplier


def lower(op: Operator, g: Graph) -> Lowered:
    x = broadcast_operands(op, g)
    # TFLM's Prepare: s1 * s2 / s_out in double from the float32 scales.
    mult, shift = quantize_multiplier(x.in1.scale * x.in2.scale / x.out.scale)
    # |(in1 - zp1) * (in2 - zp2)|: each factor at most max(127 - zp, zp + 128)
    bound = np.prod([max(127 - t.zero_point, t.zero_point + 128) for t in (x.in1, x.in2)])
    rq = requant_records(np.array([mult]), np.array([shift]), x.out.zero_point, np.array([bound]))
    if rq is None:  # a shift above -2, or a rounding constant too wide: the general kernel
        return broadcast_call(op, "tp_mul", x, {"output_multiplier": mult, "output_shift": shift})
    low = broadcast_call(op, "tp_mul", x, {"requant": c_array(rq)})
    del low.params["output_offset"]  # folded into requant[1]
    low.func, low.params_type = "tp_mul_rq_s8", "tp_mul_rq_params"
    return low
