"""TRANSPOSE, DEPTH_TO_SPACE and SPACE_TO_DEPTH: permutations of the input's elements, each one
strided copy (tp_copy_s8) whose input strides are the input's own, permuted."""

from __future__ import annotations

from tinypipe.compiler.graph import Graph, Operator

from .base import Lowered, io, unsupported
from .strided import const_ints, copy_call, require_same_quant, strides_of


def lower(op: Operator, g: Graph) -> Lowered:
    ins, outs = io(g, op)
    if not ins or ins[0] is None or len(outs) != 1:
        raise unsupported(op, "expected an input and one output")
    inp, out = ins[0], outs[0]
    require_same_quant(op, inp, out, int16=True)
    if op.opcode == "TRANSPOSE":
        return _transpose(op, g)
    return _depth_space(op, g)


def _transpose(op: Operator, g: Graph) -> Lowered:
    (inp, perm_t), (out,) = io(g, op)
    perm = const_ints(op, perm_t, "permutation")
    rank = len(inp.shape)
    if rank > 5:
        raise unsupported(op, f"a {rank}-D input; TFLM transposes at most 5 dims")
    if sorted(perm) != list(range(rank)):
        raise unsupported(op, f"{perm} is not a permutation of the {rank} input dims")
    dims = [inp.shape[p] for p in perm]
    if list(out.shape) != dims:
        raise unsupported(op, f"the output shape is {list(out.shape)}, expected {dims}")
    in_strides = strides_of(inp.shape)
    return copy_call(op, inp, out, dims, [in_strides[p] for p in perm], 0)


def _depth_space(op: Operator, g: Graph) -> Lowered:
    """NHWC with block b. DEPTH_TO_SPACE: out[n, h*b+i, w*b+j, c] = in[n, h, w, (i*b+j)*C + c];
    SPACE_TO_DEPTH is its inverse. Both walk the output as [N, H, ., W, ., C] dims."""
    (inp, *_), (out,) = io(g, op)
    b = int(op.options.get("block_size", 0))
    if len(inp.shape) != 4 or len(out.shape) != 4 or b < 1:
        raise unsupported(op, f"expected 4-D NHWC tensors and a block size >= 1, got {b}")
    if op.opcode == "DEPTH_TO_SPACE":
        n, h, w, cb = inp.shape
        c = cb // (b * b)
        if c * b * b != cb or list(out.shape) != [n, h * b, w * b, c]:
            raise unsupported(
                op, f"output {list(out.shape)} does not match input {list(inp.shape)}"
            )
        # output walk [n, h, i, w, j, c] over input [n, h, w, i, j, c]
        dims = [n, h, b, w, b, c]
        strides = [h * w * cb, w * cb, b * c, cb, c, 1]
    else:
        n, hb, wb, c = inp.shape
        h, w = hb // b, wb // b
        if h * b != hb or w * b != wb or list(out.shape) != [n, h, w, b * b * c]:
            raise unsupported(
                op, f"output {list(out.shape)} does not match input {list(inp.shape)}"
            )
        # output walk [n, h, w, i, j, c] over input [n, h, i, w, j, c]
        dims = [n, h, w, b, b, c]
        strides = [hb * wb * c, b * wb * c, b * c, wb * c, c, 1]
    return copy_call(op, inp, out, dims, strides, 0)
