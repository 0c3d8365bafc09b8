"""RESHAPE, SQUEEZE, EXPAND_DIMS: the bytes do not move, so the output aliases the input."""

from __future__ import annotations

from tinypipe.compiler.graph import Graph, Operator

from .base import Lowered, io, unsupported


def lower(op: Operator, g: Graph) -> Lowered:
    ins, (out,) = io(g, op)
    inp = ins[0]
    if inp.size != out.size or inp.dtype != out.dtype:
        raise unsupported(
            op, f"input {inp.shape} {inp.dtype} and output {out.shape} {out.dtype} differ in size"
        )
    if (
        inp.quant is not None
        and out.quant is not None
        and (inp.scale != out.scale or inp.zero_point != out.zero_point)
    ):
        raise unsupported(op, "input and output quantization differ, so the data cannot be shared")
    return Lowered(alias=True)
