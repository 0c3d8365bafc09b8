"""MIRROR_PAD (int8): padding by reflection, as TFLM and numpy.pad compute it.

Along each dim of size n with `before`/`after` padding, output index i reads input index
j = i - before, reflected back into [0, n): REFLECT mirrors about the edge element
(j < 0 -> -j, j >= n -> 2n - 2 - j), SYMMETRIC about the edge itself (-j - 1, 2n - 1 - j).
The host turns that into one index map per dim (tp_index_copy). TFLM's kernel takes no int16
(it fails at invocation), so neither does this one.
"""

from __future__ import annotations

import numpy as np

from tinypipe.compiler.graph import Graph, Operator

from .base import C, Lowered, T, c_array, io, unsupported
from .strided import const_ints, require_same_quant, strides_of

MAX_DIMS = 6  # TP_INDEX_COPY_MAX_DIMS
MODES = {0: "REFLECT", 1: "SYMMETRIC"}


def reflect(size: int, before: int, after: int, symmetric: bool) -> np.ndarray:
    """The input index each output index along one dim reads."""
    j = np.arange(-before, size + after)
    edge = 1 if symmetric else 0
    j = np.where(j < 0, -j - edge, j)
    return np.where(j >= size, 2 * size - 2 + edge - j, j)


def lower(op: Operator, g: Graph) -> Lowered:
    ins, outs = io(g, op)
    if len(ins) != 2 or ins[0] is None or len(outs) != 1:
        raise unsupported(op, "expected an input, a paddings tensor and one output")
    inp, out = ins[0], outs[0]
    require_same_quant(op, inp, out)
    mode = int(op.options.get("mode", 0))
    if mode not in MODES:
        raise unsupported(op, f"unknown mirror mode {mode} (REFLECT or SYMMETRIC)")
    symmetric = mode == 1
    rank = len(inp.shape)
    pads = const_ints(op, ins[1], "paddings")
    if len(pads) != 2 * rank or min(pads, default=0) < 0:
        raise unsupported(op, f"expected {rank} pairs of non-negative paddings, got {pads}")
    # A reflection reaches at most n - 1 elements past the edge (n with SYMMETRIC).
    reach = [n if symmetric else n - 1 for n in inp.shape]
    for d, n in enumerate(inp.shape):
        if max(pads[2 * d], pads[2 * d + 1]) > reach[d]:
            raise unsupported(
                op,
                f"padding {pads[2 * d]}/{pads[2 * d + 1]} along dim {d} of size {n} reaches "
                f"past the reflection ({MODES[mode]} allows at most {reach[d]})",
            )
    dims = [n + pads[2 * d] + pads[2 * d + 1] for d, n in enumerate(inp.shape)]
    if list(out.shape) != dims:
        raise unsupported(op, f"the output shape is {list(out.shape)}, expected {dims}")
    if rank > MAX_DIMS:
        raise unsupported(op, f"a {rank}-D input; at most {MAX_DIMS} dims")
    strides = strides_of(inp.shape)
    maps = [np.zeros(1, np.int64)] * (MAX_DIMS - rank) + [
        reflect(n, pads[2 * d], pads[2 * d + 1], symmetric) * strides[d]
        for d, n in enumerate(inp.shape)
    ]
    # Every element read lies inside the input (the graph is untrusted input).
    assert sum(int(m.max()) for m in maps) < inp.size and min(int(m.min()) for m in maps) >= 0
    starts = np.cumsum([0] + [len(m) for m in maps[:-1]])
    return Lowered(
        func="tp_index_copy_s8",
        source="tp_index_copy",
        params_type="tp_index_copy_params",
        params={
            "dims": c_array([len(m) for m in maps]),
            "start": c_array(starts.tolist()),
            "map": C("map"),
        },
        args=[T(inp.index), T(out.index)],
        consts={"map": np.concatenate(maps).astype(np.int32)},
    )
