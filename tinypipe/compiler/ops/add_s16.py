"""ADD and SUB, 16x8: int16 operands and output with zero point 0 (add.py dispatches here when
the output is int16). TFLM uses its int8 general rescaling with a left shift of 15."""

from __future__ import annotations

from tinypipe.compiler.graph import Graph, Operator

from .base import Lowered, T, unsupported
from .broadcast import broadcast_fields, broadcast_operands
from .quantmath import quantize_multiplier
from .s16 import fused_range_s16, require_s16

LEFT_SHIFT = 15  # TFLM's headroom shift for int16 ADD/SUB


def lower(op: Operator, g: Graph) -> Lowered:
    x = broadcast_operands(op, g, require_s16)
    in1, in2, out = x.in1, x.in2, x.out
    # Float scales widened to double, the larger one doubled: for int16 SUB as well, which
    # the tflite-micro interpreter computes in double (a float32 input multiplier is off by
    # one step on some inputs; test_op_s16 holds such a case).
    twice_max = 2.0 * max(in1.scale, in2.scale)
    real1, real2 = in1.scale / twice_max, in2.scale / twice_max
    real_out = twice_max / ((1 << LEFT_SHIFT) * out.scale)
    m1, sh1 = quantize_multiplier(real1)
    m2, sh2 = quantize_multiplier(real2)
    mo, sho = quantize_multiplier(real_out)
    # TFLM aborts (QuantizeMultiplierSmallerThanOneExp) unless every multiplier is below one.
    if not real_out < 1.0 or max(sh1, sh2, sho) > 0:
        raise unsupported(
            op,
            f"the output scale {out.scale:g} is about 2^{LEFT_SHIFT - 1} times smaller than "
            f"the input scales or more, which TFLite's int16 {op.opcode} cannot represent",
            "Recalibrate the model so the output range is not this much narrower.",
        )
    lo, hi = fused_range_s16(op, out.scale)
    return Lowered(
        func="tp_add_s16",
        source="tp_add_s16",
        params_type="tp_add_s16_params",
        params={
            **broadcast_fields(x),
            "subtract": int(op.opcode == "SUB"),
            "left_shift": LEFT_SHIFT,
            "input1_multiplier": m1,
            "input1_shift": sh1,
            "input2_multiplier": m2,
            "input2_shift": sh2,
            "output_multiplier": mo,
            "output_shift": sho,
            "act_min": lo,
            "act_max": hi,
        },
        args=[T(in1.index), T(in2.index), T(out.index)],
    )
