"""What ADD and MUL share: the reading of the two operands (either may be a constant, e.g. a bias
vector), the broadcast layout (merged dims and per-input strides, tp_broadcast in tp_common.h)
and the kernel call built around each op's own requantization parameters."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tinypipe.compiler.graph import Graph, Operator, Tensor

from .base import Lowered, T, c_array, fused_activation_range, io, require_int8, unsupported

MAX_DIMS = 4  # the kernels' loop nest


def broadcast_layout(
    op: Operator, shape1: tuple[int, ...], shape2: tuple[int, ...], out_shape: tuple[int, ...]
) -> tuple[list[int], list[int], list[int]]:
    """Output dims and the two inputs' element strides for a broadcast elementwise op.

    Shapes are right-aligned (numpy rules). Output dims of size 1 are dropped and neighbouring
    dims where each input is either full or broadcast in the same way are merged, so a plain
    elementwise op becomes one dim and (1,H,W,C) + (C,) becomes two. The result is padded with
    leading 1s to MAX_DIMS dims; a stride is 0 where that input is broadcast."""
    rank = len(out_shape)
    if len(shape1) > rank or len(shape2) > rank:
        raise unsupported(op, f"an input has more dims than the output {list(out_shape)}")
    a = (1,) * (rank - len(shape1)) + tuple(shape1)
    b = (1,) * (rank - len(shape2)) + tuple(shape2)
    groups: list[list] = []  # [size, input1 is full, input2 is full]
    for da, db, do in zip(a, b, out_shape):
        if do != max(da, db) or da not in (1, do) or db not in (1, do):
            raise unsupported(
                op,
                f"shapes {list(shape1)} and {list(shape2)} do not broadcast to {list(out_shape)}",
            )
        if do == 1:
            continue
        kind = [da == do, db == do]
        if groups and groups[-1][1:] == kind:
            groups[-1][0] *= do
        else:
            groups.append([do, *kind])
    if len(groups) > MAX_DIMS:
        raise unsupported(
            op,
            f"broadcasting {list(shape1)} with {list(shape2)} needs {len(groups)} loop dims, "
            f"at most {MAX_DIMS} are supported",
            "Reshape the operands so that broadcast and full dims alternate less often.",
        )
    groups = [[1, False, False]] * (MAX_DIMS - len(groups)) + groups
    dims = [g[0] for g in groups]

    def strides(k: int) -> list[int]:
        out, step = [0] * MAX_DIMS, 1
        for d in reversed(range(MAX_DIMS)):
            if groups[d][k]:
                out[d] = step
                step *= groups[d][0]
        return out

    return dims, strides(1), strides(2)


@dataclass(frozen=True)
class BroadcastOperands:
    """The two inputs and the output of ADD, SUB or MUL, with their broadcast layout."""

    in1: Tensor
    in2: Tensor
    out: Tensor
    dims: list[int]
    in1_stride: list[int]
    in2_stride: list[int]


def broadcast_operands(
    op: Operator, g: Graph, require: Callable[..., None] = require_int8
) -> BroadcastOperands:
    """The operands, checked by `require(op, *tensors)` (int8 here; require_s16 for 16x8)."""
    ins, outs = io(g, op)
    if len(ins) != 2 or len(outs) != 1 or ins[0] is None or ins[1] is None:
        raise unsupported(op, "expected two inputs and one output")
    in1, in2, out = ins[0], ins[1], outs[0]
    require(op, in1, in2, out)
    for t in (in1, in2, out):
        if t.quant.scale.size != 1:
            raise unsupported(op, f"tensor '{t.name}' is quantized per channel, not per tensor")
    return BroadcastOperands(in1, in2, out, *broadcast_layout(op, in1.shape, in2.shape, out.shape))


def broadcast_fields(x: BroadcastOperands) -> dict[str, object]:
    """The `broadcast` member (tp_broadcast) of a two-input kernel's parameters."""
    return {
        "broadcast.dims": c_array(x.dims),
        "broadcast.in1_stride": c_array(x.in1_stride),
        "broadcast.in2_stride": c_array(x.in2_stride),
    }


def broadcast_call(
    op: Operator, source: str, x: BroadcastOperands, requant: dict[str, object]
) -> Lowered:
    """The call `<source>_s8(&params, in1, in2, out)`: the broadcast layout, the zero-point
    offsets and the fused activation clamp around the op's own `requant` parameters."""
    lo, hi = fused_activation_range(op, x.out.scale, x.out.zero_point)
    return Lowered(
        func=f"{source}_s8",
        source=source,
        params_type=f"{source}_params",
        params={
            **broadcast_fields(x),
            "input1_offset": -x.in1.zero_point,
            "input2_offset": -x.in2.zero_point,
            **requant,
            "output_offset": x.out.zero_point,
            "act_min": lo,
            "act_max": hi,
        },
        args=[T(x.in1.index), T(x.in2.index), T(x.out.index)],
    )
