"""MEAN lowering: int8 mean over any axes (GlobalAveragePooling2D emits axes [1, 2]).

TFLM (QuantizedMeanOrSum) sums the raw int8 values in int32, removes N * zp_in, and requantizes
with the multiplier of s_in / s_out into which it folds 1/N:

    k = min(floor(log2 N), 32, 31 + shift);  multiplier = (multiplier << k) // N;  shift -= k

so the division rounds once, inside the requantization. That holds whether or not the input
and output quantization differ. An empty axis list copies the input unchanged.
"""

from __future__ import annotations

import math

from tinypipe.compiler.graph import Graph, Operator

from .base import Lowered, T, c_array, io, require_int8, unsupported
from .quantmath import quantize_multiplier

INT32_MAX = (1 << 31) - 1


def mean_multiplier(in_scale: float, out_scale: float, n: int) -> tuple[int, int]:
    """TFLM's fixed-point (multiplier, shift) for (s_in / s_out) / n."""
    mult, shift = quantize_multiplier(in_scale / out_scale)
    k = min(n.bit_length() - 1, 32, 31 + shift)
    return (mult << k) // n, shift - k


def reduce_layout(
    op: Operator, shape: tuple[int, ...], axes: set[int]
) -> tuple[list[int], list[int], list[int], list[int]]:
    """(kept dims, their strides, reduced dims, their strides), two of each, outer first.

    Dims of size 1 are dropped and neighbours of the same kind merged, so e.g. NHWC with axes
    [1, 2] becomes reduced [H*W] (stride C) and kept [C] (stride 1)."""
    groups: list[list] = []  # [size, reduced]
    for d, size in enumerate(shape):
        if size == 1:
            continue
        if groups and groups[-1][1] == (d in axes):
            groups[-1][0] *= size
        else:
            groups.append([size, d in axes])
    strides, step = [0] * len(groups), 1
    for i in reversed(range(len(groups))):
        strides[i] = step
        step *= groups[i][0]
    kept = [(g[0], s) for g, s in zip(groups, strides) if not g[1]]
    reduced = [(g[0], s) for g, s in zip(groups, strides) if g[1]]
    if len(kept) > 2 or len(reduced) > 2:
        raise unsupported(
            op,
            f"reducing {list(shape)} over axes {sorted(axes)} interleaves kept and reduced dims "
            "more than twice",
            "Reduce over neighbouring axes, e.g. [1, 2] on NHWC.",
        )
    kept = [(1, 0)] * (2 - len(kept)) + kept
    reduced = [(1, 0)] * (2 - len(reduced)) + reduced
    return (
        [k[0] for k in kept],
        [k[1] for k in kept],
        [r[0] for r in reduced],
        [r[1] for r in reduced],
    )


def lower(op: Operator, g: Graph) -> Lowered:
    ins, (out,) = io(g, op)
    if len(ins) != 2 or ins[0] is None or ins[1] is None:
        raise unsupported(op, "expected an input and an axis tensor")
    inp, axis_t = ins
    require_int8(op, inp, out)
    if axis_t.data is None or axis_t.dtype != "int32":
        raise unsupported(op, "the axes must be a constant int32 tensor")
    if inp.quant.scale.size != 1 or out.quant.scale.size != 1:
        raise unsupported(op, "the input and output must be quantized per tensor")
    rank = len(inp.shape)
    axes: set[int] = set()
    for a in axis_t.data.ravel().tolist():
        r = a + rank if a < 0 else a
        if not 0 <= r < rank:
            raise unsupported(op, f"axis {a} is out of range for input {list(inp.shape)}")
        axes.add(r)
    n = math.prod(inp.shape[a] for a in axes)
    if out.size * n != inp.size:
        raise unsupported(
            op,
            f"output {list(out.shape)} does not match input {list(inp.shape)} over {sorted(axes)}",
        )
    if 128 * n > INT32_MAX:
        raise unsupported(op, f"the sum over {n} elements could overflow int32")
    if axis_t.size == 0:  # TFLM copies: requantize by exactly 1 with no offsets
        mult, shift, sum_offset, out_offset = 1 << 30, 1, 0, 0
    else:
        mult, shift = mean_multiplier(inp.scale, out.scale, n)
        sum_offset, out_offset = -inp.zero_point * n, out.zero_point
    kd, ks, rd, rs = reduce_layout(op, inp.shape, axes)
    return Lowered(
        func="tp_mean_s8",
        source="tp_mean",
        params_type="tp_mean_params",
        params={
            "kept_dims": c_array(kd),
            "kept_stride": c_array(ks),
            "reduced_dims": c_array(rd),
            "reduced_stride": c_array(rs),
            "sum_offset": sum_offset,
            "multiplier": mult,
            "shift": shift,
            "output_offset": out_offset,
        },
        args=[T(inp.index), T(out.index)],
    )
