"""Fused residual blocks: conv -> conv -> ADD(block input) computed row by row over the input.

In a ResNet block the block input stays live for the ADD while the two convolutions run, so the
layers apart need three full maps at the peak (input, conv1 output, conv2 output), in place at
best two. tp_residual_rows_s8 (firmware/runtime/tp_residual_rows.h) produces the block output one
row at a time, keeps a few conv1 rows in a window and one conv2 row, and writes each output row
over the input row it replaces: the block needs the input's bytes plus those rows.

The same kernels compute every value, so the result is bit for bit that of the layers apart.
`residual_order_safe` replays the driver's order of reads and writes, and a block is fused only
when no input row is overwritten before its last read.
"""

from __future__ import annotations

from dataclasses import replace

from .graph import Graph
from .ops.base import C, Lowered, Raw, T, c_array
from .planner import alias_roots, lifetimes

CONV_KERNELS = {"tp_conv_s8": "kernel", "tp_conv_w16_s8": "kernel_w16"}
ADD_KERNELS = {"tp_add_s8": "add", "tp_add_lut_s8": "add_lut"}


def _rows_read(conv: dict, y: int) -> tuple[int, int]:
    """Input rows [lo, hi) output row y of a conv with params `conv` reads, clipped."""
    top = y * conv["stride_h"] - conv["pad_h"]
    lo = max(top, 0)
    extent = (conv["filter_h"] - 1) * conv["dilation_h"] + 1
    return lo, max(min(top + extent, conv["input_h"]), lo)


def residual_order_safe(conv1: dict, conv2: dict) -> bool:
    """Replay tp_residual_rows_s8: output row y is written over input row y after conv2's row y,
    which needs conv1 rows computed then from input rows; every input row read at step y must
    be a row not yet written (rows < y are)."""
    wlo = whi = 0
    for y in range(conv2["output_h"]):
        lo, hi = _rows_read(conv2, y)
        for r in range(lo, hi):
            if wlo <= r < whi:
                continue  # computed at an earlier step, still in the window
            xlo, xhi = _rows_read(conv1, r)
            if xhi > xlo and xlo < y:
                return False
        wlo, whi = lo, hi
    return True


def _conv_layer(low: Lowered, prefix: str) -> tuple[dict[str, object], dict]:
    """The tp_conv_layer fields for a lowered conv, its op-local constants renamed by `prefix`."""
    fields: dict[str, object] = {
        f"{prefix}.conv.{k}": (C(f"{prefix}_{v.name}") if isinstance(v, C) else v)
        for k, v in low.params.items()
    }
    fields[f"{prefix}.conv.batches"] = 1
    for func, field in CONV_KERNELS.items():
        fields[f"{prefix}.{field}"] = Raw(low.func if func == low.func else "NULL")
    filt = low.args[1]
    fields[f"{prefix}.filter"] = C(f"{prefix}_{filt.name}") if isinstance(filt, C) else filt
    fields[f"{prefix}.scratch_bytes"] = low.scratch_bytes
    return fields, {f"{prefix}_{k}": v for k, v in low.consts.items()}


def _fused(
    conv1: Lowered, conv2: Lowered, add: Lowered, x: int, out: int, input_first: bool
) -> Lowered:
    f1, k1 = _conv_layer(conv1, "conv1")
    f2, k2 = _conv_layer(conv2, "conv2")
    field = ADD_KERNELS[add.func]
    n = conv2.params["output_w"] * conv2.params["output_c"]  # one row of the output
    row = {"broadcast.dims": c_array([1, 1, 1, n])}
    row |= {f"broadcast.in{i}_stride": c_array([n, n, n, 1]) for i in (1, 2)}
    add_fields = {
        f"{field}.{k}": (C(f"add_{v.name}") if isinstance(v, C) else row.get(k, v))
        for k, v in add.params.items()
    }
    window_rows = min(
        (conv2.params["filter_h"] - 1) * conv2.params["dilation_h"] + 1, conv1.params["output_h"]
    )
    mid_row = conv1.params["output_w"] * conv1.params["output_c"]

    def round4(v: int) -> int:
        return (v + 3) // 4 * 4

    return Lowered(
        func="tp_residual_rows_s8",
        source="tp_residual_rows",
        requires=("tp_conv", "tp_conv_inplace", "tp_row_window", "tp_add"),
        params_type="tp_residual_params",
        params={
            **f1,
            **f2,
            **add_fields,
            "use_lut": int(field == "add_lut"),
            "input_first": int(input_first),
            "window_rows": window_rows,
        },
        args=[T(out)],
        consts={**k1, **k2, **{f"add_{k}": v for k, v in add.consts.items()}},
        scratch_bytes=round4(conv1.scratch_bytes)
        + round4(conv2.scratch_bytes)
        + window_rows * mid_row
        + n,
        inplace_of=x,
    )


def fuse_residual_blocks(graph: Graph, lowered: list[Lowered]) -> list[Lowered]:
    """Return `lowered` with every residual block that can run row by row over its input fused
    into its ADD (the two convolutions then emit nothing and store nothing)."""
    result = list(lowered)
    roots = alias_roots(graph, lowered)
    _, last = lifetimes(graph, lowered, roots)
    producer = {t: k for k, op in enumerate(graph.operators) for t in op.outputs}
    readers: dict[int, list[int]] = {}
    for k, op in enumerate(graph.operators):
        for t in op.inputs:
            if t >= 0:
                readers.setdefault(t, []).append(k)
    io = {roots[t] for t in graph.inputs + graph.outputs}

    def arena_int8(t: int) -> bool:
        tt = graph.tensors[t]
        return not tt.is_const and tt.dtype == "int8" and roots[t] not in io and roots[t] == t

    for k, (op, low) in enumerate(zip(graph.operators, lowered)):
        if low.func not in ADD_KERNELS or len(op.inputs) != 2 or not arena_int8(op.outputs[0]):
            continue
        out = op.outputs[0]
        shape = graph.tensors[out].shape
        for z, x in (op.inputs, op.inputs[::-1]):
            j = producer.get(z)
            if j is None or readers.get(z) != [k] or result[j].func not in CONV_KERNELS:
                continue
            m = graph.operators[j].inputs[0]
            i = producer.get(m)
            if i is None or readers.get(m) != [j] or result[i].func not in CONV_KERNELS:
                continue
            c1, c2 = result[i], result[j]
            if not (
                graph.operators[i].inputs[0] == x
                and arena_int8(x)
                and arena_int8(m)
                and arena_int8(z)
                and graph.tensors[x].shape == graph.tensors[z].shape == shape
                and last.get(roots[x]) == k
                and c1.params.get("batches") == 1
                and residual_order_safe(c1.params, c2.params)
            ):
                continue
            result[i] = replace(c1, fused_into=k)
            result[j] = replace(c2, fused_into=k)
            result[k] = _fused(c1, c2, low, x, out, input_first=op.inputs[0] == x)
            break
    return result
