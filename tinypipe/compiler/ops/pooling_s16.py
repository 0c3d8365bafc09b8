"""AVERAGE_POOL_2D and MAX_POOL_2D, int16 (16x8 models): the int8 pooling's geometry and
rounding (pooling.py) on int16 values."""

from __future__ import annotations

from tinypipe.compiler.graph import Graph, Operator

from .base import Lowered, T, io, unsupported
from .conv import conv_padding
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
    o = op.options
    padding = o.get("padding", "SAME")
    fh, fw = int(o.get("filter_height", 1)), int(o.get("filter_width", 1))
    sh, sw = int(o.get("stride_h", 1)), int(o.get("stride_w", 1))
    if min(fh, fw, sh, sw) < 1 or padding not in ("SAME", "VALID"):
        raise unsupported(
            op, f"filter {fh}x{fw}, stride {sh}x{sw}, padding {padding} is not a valid pooling"
        )
    batches, in_h, in_w, depth = inp.shape
    out_h, pad_h = conv_padding(padding, in_h, fh, sh, 1)
    out_w, pad_w = conv_padding(padding, in_w, fw, sw, 1)
    expected = [batches, out_h, out_w, depth]
    if list(out.shape) != expected or out_h < 1 or out_w < 1:
        raise unsupported(
            op, f"the output shape is {list(out.shape)}, expected {expected} from the geometry"
        )
    if pad_h >= fh or pad_w >= fw:  # the average would divide by zero
        raise unsupported(op, "a pooling window lies entirely in the padding")
    if fh * fw * 32768 >= 2**31:
        raise unsupported(op, f"a {fh}x{fw} window could overflow the int32 sum")
    lo, hi = fused_range_s16(op, out.scale)
    return Lowered(
        func=_KERNELS[op.opcode],
        source="tp_pooling_s16",
        params_type="tp_pooling_s16_params",
        params={
            "batches": batches,
            "in_h": in_h,
            "in_w": in_w,
            "depth": depth,
            "out_h": out_h,
            "out_w": out_w,
            "filter_h": fh,
            "filter_w": fw,
            "stride_h": sh,
            "stride_w": sw,
            "pad_h": pad_h,
            "pad_w": pad_w,
            "act_min": lo,
            "act_max": hi,
        },  # fmt: skip
        args=[T(inp.index), T(out.index)],
    )
