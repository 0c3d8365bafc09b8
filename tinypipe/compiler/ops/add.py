"""ADD lowering: int8 elementwise add with TFLite's rescaling and broadcasting.

The operands and their broadcast layout are shared with MUL (see broadcast.py).
"""

from __future__ import annotations

import numpy as np

from tinypipe.compiler.graph import Graph, Operator

from .base import C, Lowered, unsupported
from .broadcast import BroadcastOperands, broadcast_call, broadcast_operands
from .broadcast import broadcast_layout as broadcast_layout  # re-export, its old home
from .fixedpoint import INT32_MAX, INT32_MIN, mul_by_quantized_multiplier
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
        low = lut_call(op, x, (in1.zero_point, m1, sh1), (in2.zero_point, m2, sh2), mo, sho)
        if low is not None:
            return low
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
        dtype=np.int64,
    )


def lut_output_record(
    sums: tuple[int, int], multiplier: int, shift: int, zero_point: int
) -> tuple[int, int] | None:
    """(offset, r) of tp_add_lut_params for sums a + b in [sums[0], sums[1]], or None when the
    device's int32 arithmetic would overflow for some of them (see tp_add.h): s2 = 2(a + b) and
    t + offset - 1 must stay inside int32, and r = -shift in [2, 31]."""
    r = -shift
    if not 2 <= r <= 31:
        return None
    offset = (1 << (r - 1)) + zero_point * (1 << r)
    lo, hi = 2 * sums[0], 2 * sums[1]
    t_lo, t_hi = ((s2 * multiplier + (1 << 31)) >> 32 for s2 in (lo, hi))  # t grows with s2
    if (
        lo < INT32_MIN
        or hi > INT32_MAX
        or offset + t_lo - 1 < INT32_MIN
        or offset + t_hi > INT32_MAX
    ):
        return None
    return offset, r


def lut_call(
    op: Operator,
    x: BroadcastOperands,
    rescale1: tuple[int, int, int],
    rescale2: tuple[int, int, int],
    out_multiplier: int,
    out_shift: int,
    sign2: int = 1,
) -> Lowered | None:
    """tp_add_lut_s8: the inputs' rescaling as two host-computed tables, (zero point,
    multiplier, shift) each, the second one times `sign2` (-1: SUB); the output
    requantization on the device from a host-made record. None if that record does not fit
    int32 for this layer (then the caller keeps the per-element kernel)."""
    table1, table2 = input_table(*rescale1), sign2 * input_table(*rescale2)
    sums = (int(table1.min() + table2.min()), int(table1.max() + table2.max()))
    record = lut_output_record(sums, out_multiplier, out_shift, x.out.zero_point)
    if record is None:
        return None
    low = broadcast_call(op, "tp_add", x, {})
    keep = ("broadcast.dims", "broadcast.in1_stride", "broadcast.in2_stride")
    low.func, low.params_type = "tp_add_lut_s8", "tp_add_lut_params"
    low.params = {
        **{k: low.params[k] for k in keep},
        "table1": C("table1"),
        "table2": C("table2"),
        "output_multiplier": out_multiplier,
        "output_offset": record[0],
        "output_shift": record[1],
        **{k: low.params[k] for k in ("act_min", "act_max")},
    }
    low.consts = {"table1": (2 * table1).astype(np.int32), "table2": (2 * table2).astype(np.int32)}
    return low
