"""AVERAGE_POOL_2D and MAX_POOL_2D, int16 (16x8 models): the int8 pooling's geometry and
rounding (pooling.py) on int16 values."""

from __future__ import annotations

from tinypipe.compiler.graph import Graph, Operator

from .base import Lowered, T, io, unsupported
from .pooling import pool_geometry
from .s16 import fused_range_s16, require_s16

_KERNELS = {"AVERAGE_POOL_2D": "tp_average_pool_s16", "MAX_POOL_2D": "tp_max_pool_s16"}


def lower(op: Operator, g: Graph) -> Lowered:
    ins, (out,) = io(g, op)
    inp = ins[0]
    require_s16(op, inp, out)
    if len(inp.shape) != 4 or len(out.shape) != 4:
        raise unsupported(op, f"input {list(inp.shape)} and output must be 4-D (NHWC)")
    if abs(inp.scale - out.scale) > 1e-6:  # TFLM's own check
        raise unsupported(
            op,
            "the input and output scales differ; TFLite pooling requires them equal",
            "Convert the model with the TFLite converter, which keeps them equal.",
        )
    geometry = pool_geometry(op, inp, out)
    fh, fw = geometry["filter_h"], geometry["filter_w"]
    if fh * fw * 32768 >= 2**31:
        raise unsupported(op, f"a {fh}x{fw} window could overflow the int32 sum")
    lo, hi = fused_range_s16(op, out.scale)
    return Lowered(
        func=_KERNELS[op.opcode],
        source="tp_pooling_s16",
        params_type="tp_pooling_s16_params",
        params={
            **geometry,
            "act_min": lo,
            "act_max": hi,
        },  # fmt: skip
        args=[T(inp.index), T(out.index)],
    )
