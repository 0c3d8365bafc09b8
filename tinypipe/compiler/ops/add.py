"""ADD lowering: int8 elementwise add with TFLite's rescaling and broadcasting.

The operands and their broadcast layout are shared with MUL (see broadcast.py).
"""

from __future__ import annotations

from tinypipe.compiler.graph import Graph, Operator

from .base import Lowered, unsupported
from .broadcast import broadcast_call, broadcast_operands
from .broadcast import broadcast_layout as broadcast_layout  # re-export, its old home
from .quantmath import quantize_multiplier

LEFT_SHIFT = 20  # TFLite's headroom shift for int8 ADD


def lower(op: Operator, g: Graph) -> Lowered:
    x = broadcast_operands(op, g)
    in1, in2, out = x.in1, x.in2, x.out
    # TFLM's Prepare: float scales widened to double, the larger one doubled.
    twice_max = 2.0 * max(in1.scale, in2.scale)
    real1 = in1.scale / twice_max
    real2 = in2.scale / twice_max
    real_out = twice_max / ((1 << LEFT_SHIFT) * out.scale)
    m1, sh1 = quantize_multiplier(real1)
    m2, sh2 = quantize_multiplier(real2)
    mo, sho = quantize_multiplier(real_out)
    # TFLM aborts (QuantizeMultiplierSmallerThanOneExp) unless every multiplier is below one.
    if not real_out < 1.0 or max(sh1, sh2, sho) > 0:
        raise unsupported(
            op,
            f"the output scale {out.scale:g} is about 2^{LEFT_SHIFT - 1} times smaller than "
            "the input scales or more, which TFLite's int8 ADD cannot represent",
            "Recalibrate the model so the output range is not this much narrower.",
        )
    return broadcast_call(
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
