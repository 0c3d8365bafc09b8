"""MUL lowering: int8 elementwise multiply with broadcasting (either operand may be constant)."""

from __future__ import annotations

from ..graph import Graph, Operator
from .add import binary_operands, broadcast_layout, c_array
from .base import Lowered, T
from .pooling import fused_activation_range
from .quantmath import quantize_multiplier


def lower(op: Operator, g: Graph) -> Lowered:
    in1, in2, out = binary_operands(op, g)
    dims, s1, s2 = broadcast_layout(op, in1.shape, in2.shape, out.shape)
    # TFLM's Prepare: s1 * s2 / s_out in double from the float32 scales.
    mult, shift = quantize_multiplier(in1.scale * in2.scale / out.scale)
    lo, hi = fused_activation_range(op, out.scale, out.zero_point)
    return Lowered(
        func="tp_mul_s8",
        source="tp_mul",
        params_type="tp_mul_params",
        params={
            "dims": c_array(dims),
            "in1_stride": c_array(s1),
            "in2_stride": c_array(s2),
            "input1_offset": -in1.zero_point,
            "input2_offset": -in2.zero_point,
            "output_multiplier": mult,
            "output_shift": shift,
            "output_offset": out.zero_point,
            "act_min": lo,
            "act_max": hi,
        },
        args=[T(in1.index), T(in2.index), T(out.index)],
    )
