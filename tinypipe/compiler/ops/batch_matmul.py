"""BATCH_MATMUL lowering: int8 x int8 -> int8 (either operand may be a constant), adj_x/adj_y,
numpy-style broadcasting of the batch dims (merged by broadcast.broadcast_layout).

The multiplier is s_lhs * s_rhs / s_out, as for FULLY_CONNECTED; TFLM's int8 BATCH_MATMUL
has no fused activation, so the output saturates to int8.
"""

from __future__ import annotations

import numpy as np

from tinypipe.compiler.graph import Graph, Operator

from .base import Lowered, T, c_array, io, require_int8, unsupported
from .broadcast import broadcast_layout
from .quantmath import quantize_multiplier


def lower(op: Operator, g: Graph) -> Lowered:
    ins, outs = io(g, op)
    if len(ins) != 2 or ins[0] is None or ins[1] is None or len(outs) != 1:
        raise unsupported(op, "expected two inputs and one output")
    lhs, rhs, out = ins[0], ins[1], outs[0]
    require_int8(op, lhs, rhs, out)
    for t in (lhs, rhs, out):
        if t.quant.scale.size != 1:
            raise unsupported(op, f"tensor '{t.name}' is quantized per channel")
    if not 2 <= len(lhs.shape) <= 5 or not 2 <= len(rhs.shape) <= 5:
        raise unsupported(op, "both inputs must have 2 to 5 dims, as TFLM requires")
    adj_x, adj_y = bool(op.options.get("adj_x", False)), bool(op.options.get("adj_y", False))
    lr, lc = lhs.shape[-2:]
    rr, rc = rhs.shape[-2:]
    rows, depth = (lc, lr) if adj_x else (lr, lc)
    depth_r, cols = (rc, rr) if adj_y else (rr, rc)
    if depth != depth_r:
        raise unsupported(op, f"inner dims differ: {list(lhs.shape)} x {list(rhs.shape)}")
    try:
        batch = [int(d) for d in np.broadcast_shapes(lhs.shape[:-2], rhs.shape[:-2])]
    except ValueError:
        raise unsupported(
            op, f"batch dims of {list(lhs.shape)} and {list(rhs.shape)} do not broadcast"
        ) from None
    if list(out.shape) != batch + [rows, cols]:
        raise unsupported(op, f"the output is {list(out.shape)}, expected {batch + [rows, cols]}")
    dims, s_l, s_r = broadcast_layout(op, lhs.shape[:-2], rhs.shape[:-2], tuple(batch))
    real = float(np.float64(lhs.scale) * np.float64(rhs.scale) / np.float64(out.scale))
    mult, shift = quantize_multiplier(real)
    if depth * 255 * 255 >= 2**31:
        raise unsupported(op, f"an inner dim of {depth} could overflow the int32 accumulator")
    return Lowered(
        func="tp_batch_matmul_s8",
        source="tp_batch_matmul",
        params_type="tp_batch_matmul_params",
        params={
            "batch_dims": c_array(dims),
            "lhs_batch_stride": c_array([s * lr * lc for s in s_l]),
            "rhs_batch_stride": c_array([s * rr * rc for s in s_r]),
            "rows": rows,
            "cols": cols,
            "depth": depth,
            "lhs_row_stride": 1 if adj_x else lc,
            "lhs_depth_stride": lc if adj_x else 1,
            "rhs_depth_stride": 1 if adj_y else rc,
            "rhs_col_stride": rc if adj_y else 1,
            "lhs_offset": -lhs.zero_point,
            "rhs_offset": -rhs.zero_point,
            "output_multiplier": mult,
            "output_shift": shift,
            "output_offset": out.zero_point,
        },
        args=[T(lhs.index), T(rhs.index), T(out.index)],
    )
