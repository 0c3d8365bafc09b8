"""What the data-movement ops share: their int8 operand checks, constant index inputs, and the
call of the strided-copy kernel (tp_copy_s8) that moves the bytes.

Every such op is written as a view of its input: output dims (outermost first), the input
element step along each of them and the input element of output element 0.
"""

from __future__ import annotations

import math

import numpy as np

from tinypipe.compiler.graph import Operator, Tensor

from .base import Lowered, T, c_array, require_int8, unsupported

MAX_DIMS = 6  # TP_COPY_MAX_DIMS


def const_ints(op: Operator, t: Tensor | None, what: str) -> list[int]:
    """The values of a constant int32/int64 input (perm, begin, axis, ...), or a clear refusal."""
    if t is None or t.data is None or t.dtype not in ("int32", "int64"):
        raise unsupported(
            op,
            f"the {what} must be a constant int32 or int64 tensor",
            "Convert the model with static shapes (keras.Input(..., batch_size=1)) so the "
            "converter folds shape computations into constants.",
        )
    return [int(v) for v in np.asarray(t.data).ravel()]


def require_same_quant(op: Operator, inp: Tensor, *outs: Tensor, int16: bool = False) -> None:
    """The bytes move unchanged, which is TFLM's behaviour only when the quantization agrees.
    `int16`: the op's kernel also moves int16 elements (16x8 models, see copy_call)."""
    if int16 and inp.dtype == "int16":
        from .s16 import require_s16

        require_s16(op, inp, *outs)
    else:
        require_int8(op, inp, *outs)
    for out in outs:
        if np.float32(inp.scale) != np.float32(out.scale) or inp.zero_point != out.zero_point:
            raise unsupported(
                op,
                f"the output '{out.name}' is quantized differently from the input '{inp.name}' "
                "(TFLM copies the bytes unchanged)",
            )


def strides_of(shape: tuple[int, ...] | list[int]) -> list[int]:
    """Row-major element strides of a shape."""
    return [math.prod(shape[d + 1 :]) for d in range(len(shape))]


def axis_of(op: Operator, axis: int, rank: int) -> int:
    a = axis + rank if axis < 0 else axis
    if not 0 <= a < rank:
        raise unsupported(op, f"axis {axis} is out of range for rank {rank}")
    return a


def merge_view(dims: list[int], strides: list[int]) -> tuple[list[int], list[int]]:
    """Drop dims of size 1 and merge neighbours that step through the input as one dim does
    (outer stride = inner stride * inner size). Returns at least one dim."""
    md: list[int] = []
    ms: list[int] = []
    for n, s in zip(dims, strides):
        if n == 1:
            continue
        if md and ms[-1] == s * n:
            md[-1] *= n
            ms[-1] = s
        else:
            md.append(n)
            ms.append(s)
    return (md, ms) if md else ([1], [1])


def copy_call(
    op: Operator, inp: Tensor, out: Tensor, dims: list[int], strides: list[int], offset: int
) -> Lowered:
    """tp_copy_s8: out (in memory order over `dims`) = in[offset + sum(i_d * strides[d])]."""
    if math.prod(dims) != out.size:
        raise unsupported(op, f"the output {list(out.shape)} does not hold {dims} elements")
    if out.size == 0:
        raise unsupported(op, "the output is empty")
    # Every element read must lie inside the input (the graph is untrusted input).
    lo = offset + sum(min(0, (n - 1) * s) for n, s in zip(dims, strides))
    hi = offset + sum(max(0, (n - 1) * s) for n, s in zip(dims, strides))
    if lo < 0 or hi >= inp.size:
        raise unsupported(op, f"the view reads outside the input {list(inp.shape)}")
    md, ms = merge_view(dims, strides)
    if len(md) > MAX_DIMS:
        raise unsupported(
            op, f"the copy needs {len(md)} loop dims after merging, at most {MAX_DIMS}"
        )
    lead = MAX_DIMS - len(md)
    s16 = inp.dtype == "int16"  # 16x8 models: the same view over int16 elements
    return Lowered(
        func="tp_copy_s16" if s16 else "tp_copy_s8",
        source="tp_copy_s16" if s16 else "tp_copy",
        params_type="tp_copy_s16_params" if s16 else "tp_copy_params",
        params={
            "dims": c_array([1] * lead + md),
            "in_stride": c_array([0] * lead + ms),
            "in_offset": offset,
        },
        args=[T(inp.index), T(out.index)],
    )
