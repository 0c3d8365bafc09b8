"""Fused row-wise layers: two convolutions (CONV_2D / DEPTHWISE_CONV_2D) computed row by row over
the first one's input, with or without a residual ADD of that input.

Two layers apart need their intermediate map in full; in a ResNet block the block input also
stays live for the ADD, so three maps at the peak (in place at best two). tp_fused_rows_s8
(firmware/runtime/tp_fused_rows.h) keeps a few rows of the intermediate map (each computed once:
no recompute), produces the output one row at a time and writes it over the input's bytes:
the pair needs max(input, output) bytes plus those rows. Patterns:

- chain: x -> L1 -> m -> L2 -> y, m read only by L2, x dying with L1 (e.g. pointwise ->
  depthwise in MobileNet); the fused call takes L2's place;
- residual: x -> L1 -> m -> L2 -> z, ADD(x, z) -> y, x dying with the ADD; the call takes the
  ADD's place.

The same kernels compute every value, so the result is bit for bit that of the layers apart.
`fused_order_safe` replays the driver's reads and writes, and a pair is fused only when no input
byte is overwritten before its last read.
"""

from __future__ import annotations

from dataclasses import replace

from .graph import Graph
from .ops.base import C, Lowered, P, Raw, T, c_array
from .planner import alias_roots, lifetimes

# layer kernel -> the function running it on a window of its input (tp_layer_window.h)
ROW_FUNCS = {
    "tp_conv_s8": "tp_conv_window",
    "tp_conv_w16_s8": "tp_conv_w16_window",
    "tp_depthwise_conv_s8": "tp_depthwise_window",
    "tp_depthwise_conv_w16_s8": "tp_depthwise_w16_window",
}
# ADD kernel -> its params field in tp_fused_rows_params (the row call is tp_fused_<field>_s8)
ADD_KERNELS = {"tp_add_s8": "add", "tp_add_lut_s8": "add_lut"}


def geometry(low: Lowered) -> dict[str, int]:
    """The row geometry of a lowered conv / depthwise layer (tp_fused_layer's fields)."""
    p = low.params
    out_c = p.get("output_c", p["input_c"] * p.get("depth_multiplier", 1))
    return {
        "input_h": p["input_h"],
        "input_row_bytes": p["input_w"] * p["input_c"],
        "output_h": p["output_h"],
        "output_row_bytes": p["output_w"] * out_c,
        "stride_h": p["stride_h"],
        "pad_h": p["pad_h"],
        "extent_h": (p["filter_h"] - 1) * p["dilation_h"] + 1,
        "input_w": p["input_w"],
        "output_w": p["output_w"],
        "pad_w": p["pad_w"],
    }


def _rows_read(g: dict, y: int) -> tuple[int, int]:
    """Input rows [lo, hi) output row y of a layer with geometry `g` reads, clipped."""
    top = y * g["stride_h"] - g["pad_h"]
    lo = max(top, 0)
    return lo, max(min(top + g["extent_h"], g["input_h"]), lo)


def fused_order_safe(g1: dict, g2: dict) -> bool:
    """Replay tp_fused_rows_s8: at step y, the first layer's new rows read input rows, then
    output row y is written over bytes [y * out_row, (y + 1) * out_row). Every input byte read at
    step y must lie past the output bytes written before it (a residual ADD reads input row y at
    step y, before writing the same bytes)."""
    wlo = whi = 0
    for y in range(g2["output_h"]):
        lo, hi = _rows_read(g2, y)
        for r in range(lo, hi):
            if wlo <= r < whi:
                continue  # computed at an earlier step, still in the window
            xlo, xhi = _rows_read(g1, r)
            if xhi > xlo and xlo * g1["input_row_bytes"] < y * g2["output_row_bytes"]:
                return False
        wlo, whi = lo, hi
    return True


def _layer(low: Lowered, k: int, prefix: str) -> dict[str, object]:
    """tp_fused_layer fields for the layer lowered as `low` at op `k` (its own parameter struct
    and constants stay emitted under op k)."""
    filt = low.args[1]
    fields: dict[str, object] = {
        f"{prefix}.window": Raw(ROW_FUNCS[low.func]),
        f"{prefix}.params": P(k),
        f"{prefix}.filter": C(filt.name, k) if isinstance(filt, C) else filt,
        f"{prefix}.scratch_bytes": low.scratch_bytes,
    }
    fields |= {f"{prefix}.{key}": v for key, v in geometry(low).items()}
    return fields


def _round4(v: int) -> int:
    return (v + 3) // 4 * 4


def _fused(
    ops: tuple[int, int],
    l1: Lowered,
    l2: Lowered,
    x: int,
    out: int,
    add: Lowered | None = None,
    input_first: bool = True,
) -> Lowered:
    g1, g2 = geometry(l1), geometry(l2)
    window_rows = min(g2["extent_h"], g1["output_h"])
    params: dict[str, object] = {**_layer(l1, ops[0], "first"), **_layer(l2, ops[1], "second")}
    consts = {}
    if add is not None:
        field = ADD_KERNELS[add.func]
        params["add_row"] = Raw(f"tp_fused_{field}_s8")
        n = g2["output_row_bytes"]  # one output row: the ADD's one dim, cut to a row
        row = {"broadcast.dims": c_array([1, 1, 1, n])}
        row |= {f"broadcast.in{i}_stride": c_array([n, n, n, 1]) for i in (1, 2)}
        for k, v in add.params.items():
            params[f"{field}.{k}"] = C(f"add_{v.name}") if isinstance(v, C) else row.get(k, v)
        consts = {f"add_{k}": v for k, v in add.consts.items()}
    params |= {"input_first": int(input_first), "window_rows": window_rows}
    scratch = _round4(l1.scratch_bytes) + _round4(l2.scratch_bytes)
    scratch += window_rows * g1["output_row_bytes"] + (g2["output_row_bytes"] if add else 0)
    return Lowered(
        func="tp_fused_rows_s8",
        source="tp_fused_rows",
        requires=("tp_layer_window", "tp_conv", "tp_depthwise_conv", "tp_pooling", "tp_add"),
        params_type="tp_fused_rows_params",
        params=params,
        args=[T(out)],
        consts=consts,
        scratch_bytes=scratch,
        inplace_of=x,
    )


def _is_one_dim(add: Lowered, size: int) -> bool:
    """The ADD runs as one plain element-wise dim (no broadcast), so a row is a prefix of it."""
    dims = add.params.get("broadcast.dims")
    return isinstance(dims, Raw) and dims.text == "{" + f"1, 1, 1, {size}" + "}"


def fuse_rows(graph: Graph, lowered: list[Lowered]) -> list[Lowered]:
    """Return `lowered` with residual blocks and then layer pairs that can run row by row over
    their input fused (the layers computed inside the call then emit and store nothing)."""
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

    def pair_into(t: int, n: int | None) -> tuple[int, int, int] | None:
        """(i, j, x) when t is made by row-wise layer j from m, m by row-wise layer i from x,
        m read only by j (and t only by op n, if given), neither layer fused yet."""
        j = producer.get(t)
        if j is None or (n is not None and readers.get(t) != [n]):
            return None
        m = graph.operators[j].inputs[0]
        i = producer.get(m)
        if i is None or readers.get(m) != [j]:
            return None
        if any(result[k].func not in ROW_FUNCS or result[k].fused_into is not None for k in (i, j)):
            return None
        x = graph.operators[i].inputs[0]
        if not (arena_int8(x) and arena_int8(m) and arena_int8(t)):
            return None
        if result[i].params.get("batches") != 1 or result[j].params.get("batches") != 1:
            return None
        return i, j, x

    for k, (op, low) in enumerate(zip(graph.operators, lowered)):  # residual blocks
        if low.func not in ADD_KERNELS or len(op.inputs) != 2 or not arena_int8(op.outputs[0]):
            continue
        out = op.outputs[0]
        shape = graph.tensors[out].shape
        for z, other in (op.inputs, op.inputs[::-1]):
            found = pair_into(z, k)
            if found is None:
                continue
            i, j, x = found
            if not (
                x == other
                and graph.tensors[x].shape == graph.tensors[z].shape == shape
                and _is_one_dim(low, graph.tensors[out].size)
                and last.get(roots[x]) == k
                and fused_order_safe(geometry(result[i]), geometry(result[j]))
            ):
                continue
            result[k] = _fused((i, j), result[i], result[j], x, out, low, op.inputs[0] == x)
            result[i] = replace(result[i], fused_into=k)
            result[j] = replace(result[j], fused_into=k)
            break

    for j, op in enumerate(graph.operators):  # chains, in the place of their second layer
        found = pair_into(op.outputs[0], None) if op.outputs else None
        if found is None:
            continue
        i, _, x = found
        l1, l2 = result[i], result[j]
        if last.get(roots[x]) != i or not fused_order_safe(geometry(l1), geometry(l2)):
            continue
        result[j] = replace(_fused((i, j), l1, l2, x, op.outputs[0]), inner=l2)
        result[i] = replace(l1, fused_into=j)
    return result
