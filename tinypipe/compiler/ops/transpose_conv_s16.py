"""TRANSPOSE_CONV, 16x8: int16 input and output (zero point 0), int8 weights per channel or per
tensor, an optional int64 or int16 bias (transpose_conv.py's family dispatches here when the
output is int16), as TFLM's 16x8 reference kernel (tp_transpose_conv.h).

TFLM sums every layer in int64 here, whatever the bias (an int16 bias is widened; an int32 one
it would read as int64, past the tensor's end, so that is refused), and rescales like the other
16x8 layers with an int64 accumulator (s16.rescale_consts).
"""

from __future__ import annotations

import numpy as np

from tinypipe.compiler.graph import Graph, Operator

from .base import C, Lowered, T, unsupported
from .s16 import accumulator, fused_range_s16, require_s8_weights, require_s16, rescale_consts
from .transpose_conv import geometry_fields, transpose_conv_geometry


def lower(op: Operator, g: Graph) -> Lowered:
    tc = transpose_conv_geometry(op, g)
    inp, weights, out = tc.inp, tc.weights, tc.out
    require_s16(op, inp, out)
    require_s8_weights(op, weights)
    out_c = tc.geometry["out_c"]
    if weights.quant.scale.size not in (1, out_c):
        raise unsupported(
            op,
            f"the weights have {weights.quant.scale.size} scales; expected 1 (per tensor) or "
            f"{out_c} (per output channel)",
        )
    # Every output element sums a subset of its channel's weights times inputs, so the
    # channel's whole sum of |w| bounds the accumulator.
    w_abs = np.abs(weights.data.astype(np.int64)).reshape(out_c, -1).sum(axis=1)
    bias64, _ = accumulator(op, tc.bias, out_c, w_abs, ("int16", "int64"))
    mult, shift = rescale_consts(op, inp, weights, out, out_c, wide=True)
    lo, hi = fused_range_s16(op, out.scale)
    return Lowered(
        func="tp_transpose_conv_s16",
        source="tp_transpose_conv",
        params_type="tp_transpose_conv_s16_params",
        params={
            **geometry_fields(tc),
            "act_min": lo,
            "act_max": hi,
            "bias": C("bias"),
            "multiplier": C("multiplier"),
            "shift": C("shift"),
        },
        args=[T(inp.index), T(weights.index), T(out.index)],
        consts={"bias": bias64, "multiplier": mult, "shift": shift},
    )
