"""CONCATENATION lowering: int8 along any axis, up to TFLM's 10 inputs, as row copies.

TFLM's int8 kernel copies bytes and refuses (at Prepare) inputs whose scale or zero point differ
from the output's, as the TFLite int8 spec requires; tinypipe reports such a model instead.
Inputs may be activations or constants; each is passed as its own pointer argument.
"""

from __future__ import annotations

import math

import numpy as np

from tinypipe.compiler.graph import Graph, Operator

from .base import Lowered, T, c_array, io, require_int8, unsupported

MAX_INPUTS = 10  # TP_CONCAT_MAX_INPUTS, TFLM's kMaxInputNum


def lower(op: Operator, g: Graph) -> Lowered:
    ins, (out,) = io(g, op)
    if not ins or any(t is None for t in ins):
        raise unsupported(op, "an input is missing")
    if len(ins) > MAX_INPUTS:
        raise unsupported(
            op,
            f"{len(ins)} inputs; TFLM and tinypipe concatenate at most {MAX_INPUTS}",
            "Concatenate in two stages.",
        )
    s16 = all(t.dtype == "int16" for t in (*ins, out))  # 16x8 models: int16 elements
    if s16:
        from .s16 import require_s16

        require_s16(op, *ins, out)
    else:
        require_int8(op, *ins, out)
    if op.options.get("fused_activation_function", "NONE") != "NONE":
        raise unsupported(op, "a fused activation on CONCATENATION is not supported by TFLM")
    rank = len(out.shape)
    axis = int(op.options.get("axis", 0))
    axis = axis + rank if axis < 0 else axis
    if not 0 <= axis < rank:
        raise unsupported(op, f"axis {op.options.get('axis')} is out of range for rank {rank}")
    for t in ins:
        if t.quant.scale.size != 1 or out.quant.scale.size != 1:
            raise unsupported(op, f"tensor '{t.name}' is quantized per channel")
        if np.float32(t.scale) != np.float32(out.scale) or t.zero_point != out.zero_point:
            raise unsupported(
                op,
                f"input '{t.name}' (scale {t.scale:g}, zero point {t.zero_point}) is quantized "
                f"differently from the output (scale {out.scale:g}, zero point {out.zero_point}); "
                "TFLite's int8 CONCATENATION requires them equal",
                "Convert with the TFLite converter, which aligns them, or requantize the input.",
            )
        same = [d for i, d in enumerate(t.shape) if i != axis]
        if len(t.shape) != rank or same != [d for i, d in enumerate(out.shape) if i != axis]:
            raise unsupported(
                op, f"input {list(t.shape)} does not fit output {list(out.shape)} on axis {axis}"
            )
    if sum(t.shape[axis] for t in ins) != out.shape[axis]:
        raise unsupported(op, f"the inputs' sizes along axis {axis} do not add up to the output's")
    row_size = [math.prod(t.shape[axis:]) for t in ins]
    stem = "tp_concatenation_s16" if s16 else "tp_concatenation"
    return Lowered(
        func="tp_concatenation_s16" if s16 else "tp_concatenation_s8",
        source=stem,
        params_type=f"{stem}_params",
        params={
            "outer": math.prod(out.shape[:axis]),
            "num_inputs": len(ins),
            "row_size": c_array(row_size + [0] * (MAX_INPUTS - len(ins))),
        },
        args=[T(t.index) for t in ins] + [None] * (MAX_INPUTS - len(ins)) + [T(out.index)],
    )
