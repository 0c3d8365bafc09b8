"""SLICE and STRIDED_SLICE: a box of the input (with a step, possibly negative, for
STRIDED_SLICE) as one strided copy (tp_copy_s8).

The start/stop of each axis follow TFLite's StridedSlice rules (begin/end masks, negative
indices counted from the end, clamping to the axis, shrink_axis_mask taking one element);
ellipsis and new-axis masks and the `offset` option are refused.
"""

from __future__ import annotations

from tinypipe.compiler.graph import Graph, Operator

from .base import Lowered, io, unsupported
from .strided import const_ints, copy_call, require_same_quant, strides_of

INT_MAX = 2**31 - 1
INT_MIN = -(2**31)


def lower(op: Operator, g: Graph) -> Lowered:
    ins, outs = io(g, op)
    if len(ins) < 3 or any(t is None for t in ins) or len(outs) != 1:
        raise unsupported(op, "expected an input, begin and size/end tensors, and one output")
    inp, out = ins[0], outs[0]
    require_same_quant(op, inp, out, int16=True)
    rank = len(inp.shape)
    limit = 5 if op.opcode == "SLICE" else 4  # TFLM's limits
    if rank > limit:
        raise unsupported(op, f"a {rank}-D input; TFLM's {op.opcode} takes at most {limit} dims")
    if op.opcode == "SLICE":
        box = _slice_box(
            op, inp.shape, const_ints(op, ins[1], "begin"), const_ints(op, ins[2], "size")
        )
        expect = [n for _, n, _ in box]
    else:
        box, expect = _strided_box(op, g, inp.shape)
    if list(out.shape) != expect:
        raise unsupported(op, f"the output shape is {list(out.shape)}, expected {expect}")
    in_strides = strides_of(inp.shape)
    offset = sum(start * s for (start, _, _), s in zip(box, in_strides))
    return copy_call(
        op,
        inp,
        out,
        [n for _, n, _ in box],
        [step * s for (_, _, step), s in zip(box, in_strides)],
        offset,
    )


def _slice_box(
    op: Operator, shape, begin: list[int], size: list[int]
) -> list[tuple[int, int, int]]:
    """[(start, count, step)] per axis; size -1 means up to the end."""
    if len(begin) != len(shape) or len(size) != len(shape):
        raise unsupported(op, f"begin {begin} and size {size} do not match the input {list(shape)}")
    box = []
    for d, b, n in zip(shape, begin, size):
        n = d - b if n == -1 else n
        if b < 0 or n < 0 or b + n > d:
            raise unsupported(op, f"begin {begin} size {size} is outside the input {list(shape)}")
        box.append((b, n, 1))
    return box


def _clamp(x: int, lo: int, hi: int) -> int:
    return max(lo, min(hi, x))


def _strided_box(op: Operator, g: Graph, shape) -> tuple[list[tuple[int, int, int]], list[int]]:
    """([(start, count, step)] per axis, the output shape TFLite gives, shrunk axes removed)."""
    ins = g.op_inputs(op)
    begin = const_ints(op, ins[1], "begin")
    end = const_ints(op, ins[2], "end")
    steps = const_ints(op, ins[3], "strides") if len(ins) > 3 else [1] * len(shape)
    o = op.options
    if o.get("ellipsis_mask", 0) or o.get("new_axis_mask", 0) or o.get("offset", False):
        raise unsupported(
            op,
            "ellipsis_mask, new_axis_mask and offset are not supported",
            "Slice with plain indices.",
        )
    if not len(begin) == len(end) == len(steps) == len(shape):
        raise unsupported(
            op, f"begin/end/strides do not have one entry per input dim {list(shape)}"
        )
    begin_mask, end_mask = int(o.get("begin_mask", 0)), int(o.get("end_mask", 0))
    shrink = int(o.get("shrink_axis_mask", 0))
    box, out_shape = [], []
    for axis, size in enumerate(shape):
        step = steps[axis]
        if step == 0:
            raise unsupported(op, f"stride 0 on axis {axis}")
        start = begin[axis]
        if begin_mask >> axis & 1:
            start = INT_MIN if step > 0 else INT_MAX
        if start < 0:
            start += size
        start = _clamp(start, 0, size) if step > 0 else _clamp(start, -1, size - 1)
        if shrink >> axis & 1:
            if not 0 <= start < size:
                raise unsupported(op, f"shrunk axis {axis} starts outside the input")
            box.append((start, 1, 1))
            continue
        stop = end[axis]
        if end_mask >> axis & 1:
            stop = INT_MAX if step > 0 else INT_MIN
        if stop < 0:
            stop += size
        stop = _clamp(stop, 0, size) if step > 0 else _clamp(stop, -1, size - 1)
        count = max(0, -(-(stop - start) // step))
        box.append((start, count, step))
        out_shape.append(count)
    return box, out_shape
