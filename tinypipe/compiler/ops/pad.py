"""PAD (and PADV2) lowering: int8 constant padding, up to 4 merged dims.

PAD fills with the output zero point (real 0). PADV2 takes the fill value from its third,
constant input, which TFLM requires to share the output's quantization.
"""

from __future__ import annotations

import numpy as np

from tinypipe.compiler.graph import Graph, Operator

from .base import Lowered, T, c_array, io, require_int8, unsupported
from .s16 import require_s16

MAX_DIMS = 4


def merge_pad_dims(
    shape: tuple[int, ...], pads: np.ndarray
) -> tuple[list[tuple[int, int]], list[int]]:
    """([(input size, padding before)], output sizes) per merged dim: an unpadded dim folds into
    the dim before it ((i, j) -> i * size + j keeps the outer dim's padding, scaled), and
    unpadded dims of size 1 are dropped."""
    merged: list[list[int]] = []  # [input size, before, after]
    for size, (before, after) in zip(shape, pads):
        if before == 0 and after == 0:
            if size == 1:
                continue
            if merged:
                merged[-1] = [merged[-1][0] * size, merged[-1][1] * size, merged[-1][2] * size]
                continue
        merged.append([int(size), int(before), int(after)])
    return [(m[0], m[1]) for m in merged], [m[0] + m[1] + m[2] for m in merged]


def lower(op: Operator, g: Graph) -> Lowered:
    ins, (out,) = io(g, op)
    if len(ins) < 2 or ins[0] is None or ins[1] is None:
        raise unsupported(op, "expected an input and a paddings tensor")
    inp, paddings = ins[0], ins[1]
    s16 = inp.dtype == "int16"  # 16x8 models: int16 elements (tp_pad_s16)
    require = require_s16 if s16 else require_int8
    require(op, inp, out)
    if paddings.data is None or paddings.dtype != "int32":
        raise unsupported(
            op,
            "the paddings must be a constant int32 tensor (TFLM reads them as int32)",
            "Use fixed paddings, e.g. layers.ZeroPadding2D.",
        )
    pad_value = out.zero_point
    if len(ins) > 2 and ins[2] is not None:  # PADV2
        value = ins[2]
        require(op, value)
        if value.data is None or value.size != 1:
            raise unsupported(op, "the pad value must be a constant scalar")
        if np.float32(value.scale) != np.float32(out.scale) or value.zero_point != out.zero_point:
            raise unsupported(
                op, "the pad value must be quantized like the output, as TFLM requires"
            )
        pad_value = int(value.data.ravel()[0])
    rank = len(inp.shape)
    pads = np.asarray(paddings.data, dtype=np.int64).reshape(-1, 2)
    if pads.shape[0] != rank or len(out.shape) != rank:
        raise unsupported(
            op,
            f"{pads.shape[0]} padding pairs for input {list(inp.shape)}, output {list(out.shape)}",
        )
    if (pads < 0).any():
        raise unsupported(op, "negative paddings (cropping) are not supported")
    expected = [int(d + b + a) for d, (b, a) in zip(inp.shape, pads)]
    if list(out.shape) != expected:
        raise unsupported(op, f"the output shape is {list(out.shape)}, expected {expected}")
    dims, out_dims = merge_pad_dims(inp.shape, pads)
    if len(dims) > MAX_DIMS:
        raise unsupported(
            op, f"padding {rank}-D input {list(inp.shape)} needs {len(dims)} dims, at most 4"
        )
    lead = MAX_DIMS - len(dims)
    stem = "tp_pad_s16" if s16 else "tp_pad"
    return Lowered(
        func="tp_pad_s16" if s16 else "tp_pad_s8",
        source=stem,
        params_type=f"{stem}_params",
        params={
            "out_dims": c_array([1] * lead + out_dims),
            "before": c_array([0] * lead + [d[1] for d in dims]),
            "in_dims": c_array([1] * lead + [d[0] for d in dims]),
            "pad_value": pad_value,
        },
        args=[T(inp.index), T(out.index)],
    )
