"""SQUARED_DIFFERENCE lowering: int8 (a - b)^2 with broadcasting, as TFLM's int8 kernel.

TFLM's Prepare: left shift 7, input multipliers s_k / (2 max(s1, s2)) in double, output
multiplier (2 max)^2 / double(float(2^14 * s_out)) (the product is taken in float32). No fused
activation: the output saturates to int8.
"""

from __future__ import annotations

import numpy as np

from tinypipe.compiler.graph import Graph, Operator

from .base import Lowered, T, unsupported
from .broadcast import broadcast_fields, broadcast_operands
from .quantmath import quantize_multiplier

LEFT_SHIFT = 7


def lower(op: Operator, g: Graph) -> Lowered:
    x = broadcast_operands(op, g)
    s1, s2 = float(np.float32(x.in1.scale)), float(np.float32(x.in2.scale))
    twice_max = 2.0 * max(s1, s2)
    m1, sh1 = quantize_multiplier(s1 / twice_max)
    m2, sh2 = quantize_multiplier(s2 / twice_max)
    denom = float(np.float32(1 << (2 * LEFT_SHIFT)) * np.float32(x.out.scale))
    mo, sho = quantize_multiplier(twice_max * twice_max / denom)
    if sho > 0:  # a left shift of the square could overflow int32, undefined in TFLM
        raise unsupported(
            op,
            f"the output scale {x.out.scale:g} is so small against the input scales that "
            "TFLM's int32 arithmetic overflows",
            "Recalibrate the model so the output range covers the squared input range.",
        )
    return Lowered(
        func="tp_squared_difference_s8",
        source="tp_squared_difference",
        params_type="tp_squared_difference_params",
        params={
            **broadcast_fields(x),
            "input1_offset": -x.in1.zero_point,
            "input2_offset": -x.in2.zero_point,
            "left_shift": LEFT_SHIFT,
            "input1_multiplier": m1,
            "input1_shift": sh1,
            "input2_multiplier": m2,
            "input2_shift": sh2,
            "output_multiplier": mo,
            "output_shift": sho,
            "output_offset": x.out.zero_point,
        },
        args=[T(x.in1.index), T(x.in2.index), T(x.out.index)],
    )
