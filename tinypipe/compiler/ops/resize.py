"""RESIZE_NEAREST_NEIGHBOR and RESIZE_BILINEAR lowering: int8 NHWC, constant output size.

Which input rows and columns each output row and column reads depends only on the sizes and
the align_corners / half_pixel_centers options, so the tables are computed here, in TFLM's
arithmetic: float32 for nearest neighbour, TFLM's 10-bit integer scheme for int8 bilinear.
"""

from __future__ import annotations

import math

import numpy as np

from tinypipe.compiler.graph import Graph, Operator

from .base import C, Lowered, T, io, unsupported
from .quantmath import tflite_round
from .strided import const_ints, require_same_quant


def nearest_sources(in_size: int, out_size: int, align: bool, half: bool) -> list[int]:
    """TFLM GetNearestNeighbor for every output index, in float32."""
    f = np.float32
    if align and out_size > 1:
        scale = f(in_size - 1) / f(out_size - 1)
    else:
        scale = f(in_size) / f(out_size)
    offset = f(0.5) if half else f(0.0)
    out = []
    for i in range(out_size):
        v = (f(i) + offset) * scale
        src = tflite_round(float(v)) if align else math.floor(float(v))
        src = min(src, in_size - 1)
        out.append(max(src, 0) if half else src)
    return out


def bilinear_sources(
    in_size: int, out_size: int, align: bool, half: bool
) -> tuple[list[int], list[int], list[int]]:
    """(lower index, upper index, 10-bit fraction) per output index: TFLM's integer bilinear."""
    if align and out_size > 1:
        scale = ((1 << 10) * (in_size - 1) + (out_size - 1) // 2) // (out_size - 1)
    else:
        scale = ((1 << 10) * in_size + out_size // 2) // out_size
    lo, hi, frac = [], [], []
    for i in range(out_size):
        v = i * scale + (scale // 2 - (1 << 9) if half else 0)
        low = max(int(v / (1 << 10)), 0)  # C division truncates toward zero
        lo.append(low)
        hi.append(min(int((v + (1 << 10) - 1) / (1 << 10)), in_size - 1))
        frac.append(v - (1 << 10) * low)
    return lo, hi, frac


def lower(op: Operator, g: Graph) -> Lowered:
    ins, outs = io(g, op)
    if len(ins) != 2 or ins[0] is None or len(outs) != 1:
        raise unsupported(op, "expected an input, the output size and one output")
    inp, out = ins[0], outs[0]
    require_same_quant(op, inp, out)
    size = const_ints(op, ins[1], "output size")
    if len(inp.shape) != 4 or len(out.shape) != 4 or len(size) != 2:
        raise unsupported(op, "expected 4-D NHWC tensors and a (height, width) size")
    n, in_h, in_w, c = inp.shape
    if list(out.shape) != [n, size[0], size[1], c] or min(size) < 1:
        raise unsupported(
            op, f"the output shape is {list(out.shape)}, expected [{n}, {size[0]}, {size[1]}, {c}]"
        )
    align = bool(op.options.get("align_corners", False))
    half = bool(op.options.get("half_pixel_centers", False))
    dims = {
        "batches": n,
        "in_h": in_h,
        "in_w": in_w,
        "out_h": size[0],
        "out_w": size[1],
        "depth": c,
    }
    if op.opcode == "RESIZE_NEAREST_NEIGHBOR":
        return Lowered(
            func="tp_resize_nearest_s8",
            source="tp_resize",
            params_type="tp_resize_nearest_params",
            params={**dims, "y_src": C("y_src"), "x_src": C("x_src")},
            args=[T(inp.index), T(out.index)],
            consts={
                "y_src": np.asarray(nearest_sources(in_h, size[0], align, half), np.int32),
                "x_src": np.asarray(nearest_sources(in_w, size[1], align, half), np.int32),
            },
        )
    if align and half:
        raise unsupported(op, "align_corners and half_pixel_centers together (TFLM forbids it)")
    ys, xs = (
        bilinear_sources(in_h, size[0], align, half),
        bilinear_sources(in_w, size[1], align, half),
    )
    if any(not 0 <= i < d for tab, d in ((ys, in_h), (xs, in_w)) for i in tab[0] + tab[1]):
        raise unsupported(op, "the sampling grid falls outside the input")
    # 128 * sum of |weights| must stay inside int32, where the kernel accumulates.
    span = max(abs(1024 - f) + abs(f) for f in ys[2]) * max(abs(1024 - f) + abs(f) for f in xs[2])
    if 128 * span >= 2**31:
        raise unsupported(op, "the interpolation weights overflow int32")
    names = ("lo", "hi", "frac")
    consts = {f"y_{k}": np.asarray(v, np.int32) for k, v in zip(names, ys)}
    consts |= {f"x_{k}": np.asarray(v, np.int32) for k, v in zip(names, xs)}
    return Lowered(
        func="tp_resize_bilinear_s8",
        source="tp_resize",
        params_type="tp_resize_bilinear_params",
        params={**dims, **{k: C(k) for k in consts}},
        args=[T(inp.index), T(out.index)],
        consts=consts,
    )
