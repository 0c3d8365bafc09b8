"""MUL, 16x8: int16 operands and output with zero point 0 (mul.py's family dispatches here when
the first input or the output is int16), as TFLM's int16 reference MUL (tp_mul_s16.h)."""

from __future__ import annotations

from tinypipe.compiler.graph import Graph, Operator

from .base import Lowered, T, io, unsupported
from .broadcast import broadcast_fields, broadcast_operands
from .quantmath import quantize_multiplier
from .s16 import fused_range_s16, require_s16


def lower(op: Operator, g: Graph) -> Lowered:
    ins, outs = io(g, op)
    types = [t.dtype for t in (*ins, *outs) if t is not None]
    if types[:2] == ["int16", "int16"] and types[2:] == ["int8"]:
        # TFLM's int16 MUL writes int16 values whatever the output type: into an int8 output
        # it would write past the tensor's end.
        raise unsupported(
            op,
            "int16 inputs with an int8 output: TFLM's MUL computes int16 inputs only into an "
            "int16 output",
            "Keep the MUL's output int16 and add a QUANTIZE to int8 after it.",
        )
    x = broadcast_operands(op, g, require_s16)
    # TFLM's Prepare: s1 * s2 / s_out in double from the float32 scales.
    real = x.in1.scale * x.in2.scale / x.out.scale
    if not real < 1.0:
        # From 1 on, TFLM shifts the product (up to 2^30) left before its high multiply, which
        # overflows int32 (undefined in C++) for large inputs.
        raise unsupported(
            op,
            f"the output scale {x.out.scale:g} is not larger than the product of the input "
            f"scales {x.in1.scale:g} x {x.in2.scale:g}; TFLM's int16 MUL overflows int32 on "
            "such a rescale",
            "Recalibrate the model so the output range covers the product's.",
        )
    mult, shift = quantize_multiplier(real)
    lo, hi = fused_range_s16(op, x.out.scale)
    return Lowered(
        func="tp_mul_s16",
        source="tp_mul_s16",
        params_type="tp_mul_s16_params",
        params={
            **broadcast_fields(x),
            "output_multiplier": mult,
            "output_shift": shift,
            "act_min": lo,
            "act_max": hi,
        },
        args=[T(x.in1.index), T(x.in2.index), T(x.out.index)],
    )
