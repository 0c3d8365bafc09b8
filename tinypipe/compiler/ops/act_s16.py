"""LOGISTIC and TANH on int16 tensors (16x8 models), as TFLM's int16 reference kernels.

TFLM's Prepare scales the input onto the sigmoid table's grid (see sigmoid_s16.py): a Q3.12
input (scale 2^-12; for TANH also 2^-11) takes the power-of-two path, multiplier 3 << shift;
any other scale a multiplier of scale * 3 * 4096 doubled until it passes 32767 / 2, with as
many right shifts. The output is fixed at scale 2^-15, zero point 0, which TFLM requires.
"""

from __future__ import annotations

import math

import numpy as np

from tinypipe.compiler.graph import Graph, Operator

from .base import C, Lowered, T, io, unsupported
from .lstm import checked_log2
from .s16 import require_s16
from .sigmoid_s16 import scaling, sigmoid_table

INPUT_INTEGER_BITS = 3
OUTPUT_FRACTIONAL_BITS = 15
# left shifts TFLM takes the power-of-two path for (its TANH also accepts scale 2^-11)
POWER_OF_TWO_SHIFTS = {"LOGISTIC": (0,), "TANH": (0, 1)}


def input_scaling(opcode: str, scale: float) -> tuple[int, int]:
    """TFLM's (input_multiplier, input_left_shift) for an int16 input of `scale`."""
    log2, exact = checked_log2(scale)
    left = (15 - INPUT_INTEGER_BITS) + log2
    if exact and left in POWER_OF_TWO_SHIFTS[opcode]:
        return 0, left
    multiplier = float(np.float32(scale)) * 4096.0 * 3.0
    left = 0
    while multiplier <= 32767.0 / 2.0 and left <= 30:
        left += 1
        multiplier *= 2.0
    return int(multiplier), left


def lower(op: Operator, g: Graph) -> Lowered:
    (inp,), (out,) = io(g, op)
    require_s16(op, inp, out)
    log2, exact = checked_log2(out.scale)
    if not exact or log2 != -OUTPUT_FRACTIONAL_BITS:
        raise unsupported(
            op,
            f"the output scale is {out.scale:.6g}; TFLM's int16 {op.opcode} needs 2^-15",
            "Quantize with the TFLite converter's 16x8 mode, which fixes that scale.",
        )
    if inp.size != out.size:
        raise unsupported(op, f"input {list(inp.shape)} and output {list(out.shape)} differ")
    multiplier, shift = scaling(*input_scaling(op.opcode, inp.scale))
    if multiplier > 32767 or not 0 <= shift <= 31 or math.isnan(inp.scale):
        raise unsupported(op, f"the input scale {inp.scale:.6g} is outside TFLM's int16 range")
    kind = "logistic" if op.opcode == "LOGISTIC" else "tanh"
    return Lowered(
        func=f"tp_act_{kind}_s16",
        source="tp_act_s16",
        params_type="tp_act_s16_params",
        params={"size": inp.size, "multiplier": multiplier, "shift": shift, "table": C("table")},
        args=[T(inp.index), T(out.index)],
        consts={"table": sigmoid_table()},
    )
