"""PRELU lowering: int8 input, int8 slopes (constant or not) broadcast against it, as TFLM's
kernel: two multipliers, s_in / s_out for x >= 0 and s_in * s_alpha / s_out for the product
x * alpha below zero, both in double as TFLM's Prepare computes them."""

from __future__ import annotations

from tinypipe.compiler.graph import Graph, Operator

from .base import Lowered, T, unsupported
from .broadcast import broadcast_fields, broadcast_operands
from .quantmath import quantize_multiplier


def lower(op: Operator, g: Graph) -> Lowered:
    x = broadcast_operands(op, g)  # in1 = input, in2 = alpha
    if x.in1.shape != x.out.shape:
        raise unsupported(
            op, f"the input {list(x.in1.shape)} and output {list(x.out.shape)} differ"
        )
    s_in, s_a, s_out = (float(t.scale) for t in (x.in1, x.in2, x.out))
    m1, sh1 = quantize_multiplier(s_in / s_out)
    m2, sh2 = quantize_multiplier(s_in * s_a / s_out)
    return Lowered(
        func="tp_prelu_s8",
        source="tp_prelu",
        params_type="tp_prelu_params",
        params={
            **broadcast_fields(x),
            "input_offset": -x.in1.zero_point,
            "alpha_offset": -x.in2.zero_point,
            "multiplier_pos": m1,
            "shift_pos": sh1,
            "multiplier_neg": m2,
            "shift_neg": sh2,
            "output_offset": x.out.zero_point,
        },
        args=[T(x.in1.index), T(x.in2.index), T(x.out.index)],
    )
