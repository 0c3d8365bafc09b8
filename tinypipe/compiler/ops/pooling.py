"""AVERAGE_POOL_2D and MAX_POOL_2D lowering: int8 NHWC pooling, no rescaling.

TFLM requires the input and output to share scale and zero point, so the kernels work directly
on the stored int8 values. The window geometry (output size, leading padding) follows TFLite's
padding rule and is fixed here; the fused activation becomes a clamp range.
"""

from __future__ import annotations

from tinypipe.compiler.graph import Graph, Operator, Tensor

from .base import Lowered, T, fused_activation_range, io, require_int8, unsupported
from .conv import conv_padding

_KERNELS = {"AVERAGE_POOL_2D": "tp_average_pool_s8", "MAX_POOL_2D": "tp_max_pool_s8"}


def pool_geometry(op: Operator, inp: Tensor, out: Tensor) -> dict[str, int]:
    """The window geometry shared by the int8 and int16 kernels (tp_pooling_params' fields
    but the clamp), checked against the output shape the way TFLM's prepare step does."""
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
    # Every window must overlap the input, or the average would divide by zero.
    if pad_h >= fh or pad_w >= fw:
        raise unsupported(op, "a pooling window lies entirely in the padding")
    return {
        "batches": batches, "in_h": in_h, "in_w": in_w, "depth": depth,
        "out_h": out_h, "out_w": out_w, "filter_h": fh, "filter_w": fw,
        "stride_h": sh, "stride_w": sw, "pad_h": pad_h, "pad_w": pad_w,
    }  # fmt: skip


def lower(op: Operator, g: Graph) -> Lowered:
    ins, (out,) = io(g, op)
    inp = ins[0]
    require_int8(op, inp, out)
    if len(inp.shape) != 4 or len(out.shape) != 4:
        raise unsupported(op, f"input {list(inp.shape)} and output must be 4-D (NHWC)")
    # TFLM's own check: scales within 1e-6 of each other, equal zero points.
    if abs(inp.scale - out.scale) > 1e-6 or inp.zero_point != out.zero_point:
        raise unsupported(
            op,
            "the input and output quantization differ; TFLite pooling requires them equal",
            "Convert the model with the TFLite converter, which keeps them equal.",
        )
    geometry = pool_geometry(op, inp, out)
    lo, hi = fused_activation_range(op, out.scale, out.zero_point)
    return Lowered(
        func=_KERNELS[op.opcode],
        source="tp_pooling",
        params_type="tp_pooling_params",
        params={
            **geometry,
            "act_min": lo,
            "act_max": hi,
        },
        args=[T(inp.index), T(out.index)],
    )
