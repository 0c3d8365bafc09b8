"""SUB lowering: int8 elementwise subtraction with TFLite's rescaling and broadcasting.

ADD's pipeline with a minus sign (tp_sub_s8 sits next to tp_add_s8 and takes its parameters), but
TFLM's Prepare for SUB derives the multipliers in float32 where ADD's uses double, so the constants
are computed here in float32 to stay bit-exact. Large outputs take ADD's table kernel with the
second input's table negated: a - b = a + (-b) before the output requantization.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from tinypipe.compiler.graph import Graph, Operator

from . import add
from .base import Lowered, unsupported
from .broadcast import broadcast_call, broadcast_operands
from .quantmath import quantize_multiplier

LEFT_SHIFT = 20  # TFLite's headroom shift for int8 SUB, as for ADD


def lower(op: Operator, g: Graph) -> Lowered:
    x = broadcast_operands(op, g)
    s1, s2, s_out = (np.float32(t.scale) for t in (x.in1, x.in2, x.out))
    twice_max = np.float32(2) * max(s1, s2)
    real1 = float(s1 / twice_max)
    real2 = float(s2 / twice_max)
    real_out = float(twice_max / (np.float32(1 << LEFT_SHIFT) * s_out))
    m1, sh1 = quantize_multiplier(real1)
    m2, sh2 = quantize_multiplier(real2)
    mo, sho = quantize_multiplier(real_out)
    # TFLM aborts (QuantizeMultiplierSmallerThanOneExp) unless every multiplier is below one.
    if not real_out < 1.0 or max(sh1, sh2, sho) > 0:
        raise unsupported(
            op,
            f"the output scale {float(s_out):g} is about 2^{LEFT_SHIFT - 1} times smaller than "
            "the input scales or more, which TFLite's int8 SUB cannot represent",
            "Recalibrate the model so the output range is not this much narrower.",
        )
    if x.out.size >= add.LUT_MIN_ELEMENTS:  # ADD's table kernel with the second table negated
        low = add.lut_call(
            op, x, (x.in1.zero_point, m1, sh1), (x.in2.zero_point, m2, sh2), mo, sho, -1
        )
        if low is not None:
            return low
    add_call = broadcast_call(
        op,
        "tp_add",
        x,
        {
            "left_shift": LEFT_SHIFT,
            "input1_multiplier": m1,
            "input1_shift": sh1,
            "input2_multiplier": m2,
            "input2_shift": sh2,
            "output_multiplier": mo,
            "output_shift": sho,
        },
    )
    return dataclasses.replace(add_call, func="tp_sub_s8")  # ADD's kernel file and parameters
