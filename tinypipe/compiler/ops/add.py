"""ADD lowering: int8 elementwise add with TFLite's rescaling and broadcasting.

The operands and their broadcast layout are shared with MUL (see broadcast.py).
"""

from __future__ import annotations

import numpy as np

from tinypipe.compiler.graph import Graph, Operator

from .base import C, Lowered, unsupported
from .broadcast import BroadcastOperands, broadcast_call, broadcast_operands
from .broadcast import broadcast_layout as broadcast_layout  # re-export, its old home
from .fixedpoint import mul_by_quantized_multiplier
from .quantmath import quantize_multiplier

LEFT_SHIFT = 20  # TFLite's headroom shift for int8 ADD
# Two 256-entry int32 tables (2 KB of flash) replace two of the three requantizations per
# element (about 25 instructions each on Cortex-M4); worth it from this many elements on.
LUT_MIN_ELEMENTS = 512


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
    if out.size >= LUT_MIN_ELEMENTS:
        return lut_call(op, x, (in1.zero_point, m1, sh1), (in2.zero_point, m2, sh2), mo, sho)
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


def input_table(zero_point: int, multiplier: int, shift: int) -> np.ndarray:
    """requant((x - zero_point) << LEFT_SHIFT, multiplier, shift) for x = -128..127, in TFLM's
    integer arithmetic: the rescaled operand tp_add_s8 computes per element."""
    return np.array(
        [
            mul_by_quantized_multiplier((x - zero_point) * (1 << LEFT_SHIFT), multiplier, shift)
            for x in range(-128, 128)
        ],
        dtype=np.int32,
    )


def lut_call(
    op: Operator,
    x: BroadcastOperands,
    rescale1: tuple[int, int, int],
    rescale2: tuple[int, int, int],
    out_multiplier: int,
    out_shift: int,
) -> Lowered:
    """tp_add_lut_s8: the inputs' rescaling as two host-computed tables, (zero point,
    multiplier, shift) each; the output requantization stays on the device."""
    low = broadcast_call(op, "tp_add", x, {})
    keep = ("broadcast.dims", "broadcast.in1_stride", "broadcast.in2_stride")
    low.func, low.params_type = "tp_add_lut_s8", "tp_add_lut_params"
    low.params = {
        **{k: low.params[k] for k in keep},
        "table1": C("table1"),
        "table2": C("table2"),
        "output_multiplier": out_multiplier,
        "output_shift": out_shift,
        **{k: low.params[k] for k in ("output_offset", "act_min", "act_max")},
    }
    low.consts = {"table1": input_table(*rescale1), "table2": input_table(*rescale2)}
    return low
