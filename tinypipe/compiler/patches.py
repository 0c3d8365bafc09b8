"""Patch-based execution of the first layers (as in MCUNetV2): a chain of convolutions (and
poolings) from the model's input to a split layer computed one spatial patch of the split
layer's output at a time.

Run layer by layer, the high-resolution maps at the start of a CNN each exist in full. Run patch
by patch (tp_patches_s8, firmware/runtime/tp_patches.h), each layer computes only the window of
its output that the patch needs, so only two windows of the intermediate maps exist at a time.
Windows of neighbouring patches overlap by the receptive field's halo, which is computed twice:
the price is extra multiply-accumulates, bounded by `max_recompute` (a fraction of the model's
MACs). The same kernels compute every value from the same inputs, so the output is bit for bit
that of the layers run whole.

For each split layer this module lists every patch's windows (`chain_windows`), picks the grid
(rows x columns of patches) whose buffers are smallest within the recompute bound, and keeps the
split whose whole memory plan (with in-place layers and fusion elsewhere) needs the fewest bytes,
only if that is fewer than without patches.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from .fusion import ROW_FUNCS
from .graph import Graph
from .ops.base import C, Lowered, P, Raw, T, c_array
from .planner import MemoryPlan

DEFAULT_MAX_RECOMPUTE = 0.10
MAX_LAYERS = 8  # TP_PATCH_MAX_LAYERS in tp_patches.h
MAX_SIDE = 8  # patches per side tried
# layer kernel -> the function running it on a window of its input (tp_layer_window.h)
WINDOW_FUNCS = {
    **ROW_FUNCS,
    "tp_average_pool_s8": "tp_average_pool_window",
    "tp_max_pool_s8": "tp_max_pool_window",
}
POOLS = ("tp_average_pool_s8", "tp_max_pool_s8")


@dataclass(frozen=True)
class Axis:
    """One spatial axis of a layer: input and output sizes, stride, leading padding, and the
    filter's extent ((filter - 1) * dilation + 1)."""

    in_size: int
    out_size: int
    stride: int
    pad: int
    extent: int


@dataclass(frozen=True)
class Window:
    """What one layer computes for one patch, along one axis: input [in_lo, in_hi) with `pad`
    padding positions ahead of it, output [out_lo, out_hi)."""

    in_lo: int
    in_hi: int
    pad: int
    out_lo: int
    out_hi: int


def axis_windows(axes: list[Axis], out_lo: int, out_hi: int) -> list[Window] | None:
    """The windows of each layer of a chain (first to last) for last-layer outputs
    [out_lo, out_hi): each layer's input window is the outputs it reads, clipped to the input
    (what lies outside is the layer's real padding); the layer before must produce exactly that.
    None when some window would be empty (outputs reading only padding)."""
    windows = []
    lo, hi = out_lo, out_hi
    for a in reversed(axes):
        top = lo * a.stride - a.pad
        bottom = (hi - 1) * a.stride - a.pad + a.extent
        in_lo, in_hi = max(top, 0), min(bottom, a.in_size)
        if in_hi <= in_lo:
            return None
        windows.append(Window(in_lo, in_hi, in_lo - top, lo, hi))
        lo, hi = in_lo, in_hi
    return windows[::-1]


def split(size: int, n: int) -> list[tuple[int, int]]:
    """[0, size) cut into n near-equal ranges."""
    bounds = [size * i // n for i in range(n + 1)]
    return list(zip(bounds, bounds[1:]))


@dataclass(frozen=True)
class Layer:
    op: int
    rows: Axis
    cols: Axis
    in_c: int  # bytes per input pixel
    out_c: int  # bytes per output pixel
    macs_per_pixel: int
    scratch: int


def chain_layer(k: int, low: Lowered) -> Layer:
    p = low.params
    if low.func in POOLS:  # no MACs; tp_pooling_params names its sizes in_h, out_h, depth
        return Layer(
            k,
            Axis(p["in_h"], p["out_h"], p["stride_h"], p["pad_h"], p["filter_h"]),
            Axis(p["in_w"], p["out_w"], p["stride_w"], p["pad_w"], p["filter_w"]),
            p["depth"],
            p["depth"],
            0,
            0,
        )
    out_c = p.get("output_c", p["input_c"] * p.get("depth_multiplier", 1))
    taps = p["filter_h"] * p["filter_w"]
    # a conv reads filter_c channels per output channel; a depthwise conv one
    macs = taps * out_c * (p["filter_c"] if "filter_c" in p else 1)

    def axis(d: str) -> Axis:
        extent = (p[f"filter_{d}"] - 1) * p[f"dilation_{d}"] + 1
        return Axis(p[f"input_{d}"], p[f"output_{d}"], p[f"stride_{d}"], p[f"pad_{d}"], extent)

    return Layer(k, axis("h"), axis("w"), p["input_c"], out_c, macs, low.scratch_bytes)


def _round4(n: int) -> int:
    return (n + 3) // 4 * 4


@dataclass
class Patching:
    """A chain run patch by patch: its layers, the grid, every patch's windows and the cost."""

    layers: list[Layer]
    grid: tuple[int, int]  # patches along rows, columns
    patches: list[tuple[list[Window], list[Window]]]  # per patch: row and column windows
    buffer_bytes: tuple[int, int]
    kernel_scratch: int
    gather_input: bool  # the first layer's windows are narrower than the input: copied out
    macs: int  # of the chain run patch by patch
    plain_macs: int  # of the chain run whole
    model_macs: int = 0
    ram_before: int = 0  # arena + I/O bytes of the whole plan without patches
    ram_after: int = 0

    @property
    def scatter_output(self) -> bool:
        return self.grid[1] > 1

    @property
    def scratch_bytes(self) -> int:
        a, b = self.buffer_bytes
        return _round4(self.kernel_scratch) + _round4(a) + _round4(b)

    @property
    def recompute(self) -> float:
        """Extra MACs over the plain run, as a fraction of the model's MACs."""
        return (self.macs - self.plain_macs) / max(self.model_macs, 1)

    def table(self) -> np.ndarray:
        """tp_patches_params.windows: per patch, the input window's first row and column, the
        output patch's first row and column, then (in_h, in_w, pad_top, pad_left, out_h,
        out_w) per layer."""
        rows = []
        for rw, cw in self.patches:
            row = [rw[0].in_lo, cw[0].in_lo, rw[-1].out_lo, cw[-1].out_lo]
            for r, c in zip(rw, cw):
                row += [r.in_hi - r.in_lo, c.in_hi - c.in_lo, r.pad, c.pad]
                row += [r.out_hi - r.out_lo, c.out_hi - c.out_lo]
            rows.append(row)
        return np.asarray(rows, dtype=np.int32).reshape(-1)

    def summary(self, label: Callable[[int], int] = int) -> str:
        """`label(op position)`: the operator number to print (the .tflite's index)."""
        first, last = label(self.layers[0].op), label(self.layers[-1].op)
        return (
            f"Patches: ops #{first}-#{last} run as {self.grid[0]}x{self.grid[1]} patches; "
            f"RAM {self.ram_before:,} -> {self.ram_after:,} B (arena + I/O), recompute "
            f"{100 * self.recompute:.1f} % of the model's MACs, window table "
            f"{self.table().nbytes:,} B of flash"
        )


def patching(layers: list[Layer], grid: tuple[int, int]) -> Patching | None:
    """The windows and buffers of `layers` run as a grid of patches; None if a window is empty."""
    last = layers[-1]
    patches = []
    for r0, r1 in split(last.rows.out_size, grid[0]):
        rw = axis_windows([la.rows for la in layers], r0, r1)
        for c0, c1 in split(last.cols.out_size, grid[1]):
            cw = axis_windows([la.cols for la in layers], c0, c1)
            if rw is None or cw is None:
                return None
            patches.append((rw, cw))
    # A window as wide as the input is read where it lies; the last layer's patches are
    # written where they lie in the output when they are as wide as it (one column of patches).
    gather = any(cw[0].in_hi - cw[0].in_lo != layers[0].cols.in_size for _, cw in patches)
    buffers = [0, 0]
    macs = 0
    for rw, cw in patches:
        if gather:
            pixels = (rw[0].in_hi - rw[0].in_lo) * (cw[0].in_hi - cw[0].in_lo)
            buffers[0] = max(buffers[0], pixels * layers[0].in_c)
        for i, (la, r, c) in enumerate(zip(layers, rw, cw)):
            pixels = (r.out_hi - r.out_lo) * (c.out_hi - c.out_lo)
            macs += pixels * la.macs_per_pixel
            if i < len(layers) - 1 or grid[1] > 1:
                buffers[(i + 1) % 2] = max(buffers[(i + 1) % 2], pixels * la.out_c)
    plain = sum(la.rows.out_size * la.cols.out_size * la.macs_per_pixel for la in layers)
    scratch = max(la.scratch for la in layers)
    return Patching(layers, grid, patches, (buffers[0], buffers[1]), scratch, gather, macs, plain)


def chains(graph: Graph, lowered: list[Lowered]) -> list[list[int]]:
    """Chains of convolutions and poolings from the model's (single) input: op indices of the
    first layer, then each next layer reading only the one before's output, which nothing else
    reads."""
    if len(graph.inputs) != 1:
        return []
    readers: dict[int, list[int]] = {}
    for k, op in enumerate(graph.operators):
        for t in op.inputs:
            if t >= 0:
                readers.setdefault(t, []).append(k)
    outputs = set(graph.outputs)

    def convolution(k: int, t: int) -> bool:
        low, op = lowered[k], graph.operators[k]
        return (
            low.func in WINDOW_FUNCS
            and low.fused_into is None
            and low.params.get("batches") == 1
            and op.inputs[0] == t
            and graph.tensors[op.outputs[0]].dtype == "int8"
        )

    found = []
    x = graph.inputs[0]
    for k in readers.get(x, []):
        if not convolution(k, x):
            continue
        chain = [k]
        while len(chain) < MAX_LAYERS:
            m = graph.operators[chain[-1]].outputs[0]
            nxt = readers.get(m, [])
            if m in outputs or len(nxt) != 1 or not convolution(nxt[0], m):
                break
            chain.append(nxt[0])
        if len(chain) >= 2:
            found.append(chain)
    return found


def best_grid(layers: list[Layer], budget: float) -> Patching | None:
    """The grid whose buffers need the fewest bytes with at most `budget` extra MACs (fewer
    patches on a tie), or None when no grid of two or more patches fits the budget."""
    last = layers[-1]
    best = None
    for gh in range(1, min(MAX_SIDE, last.rows.out_size) + 1):
        for gw in range(1, min(MAX_SIDE, last.cols.out_size) + 1):
            if gh * gw < 2:
                continue
            p = patching(layers, (gh, gw))
            if p is None or p.macs - p.plain_macs > budget:
                continue
            key = (p.scratch_bytes, gh * gw)
            if best is None or key < (best.scratch_bytes, best.grid[0] * best.grid[1]):
                best = p
    return best


def patch_call(graph: Graph, lowered: list[Lowered], p: Patching) -> list[Lowered]:
    """`lowered` with the chain replaced by one tp_patches_s8 call in the place of its last
    layer (the others computed inside it, storing nothing)."""
    ops = [la.op for la in p.layers]
    first, last = graph.operators[ops[0]], graph.operators[ops[-1]]
    params: dict[str, object] = {"n_layers": len(ops), "n_patches": len(p.patches)}
    for i, (k, la) in enumerate(zip(ops, p.layers)):
        filt = None if lowered[k].func in POOLS else lowered[k].args[1]
        params[f"layers[{i}].window"] = Raw(WINDOW_FUNCS[lowered[k].func])
        params[f"layers[{i}].params"] = P(k)
        params[f"layers[{i}].filter"] = C(filt.name, k) if isinstance(filt, C) else filt
        params[f"layers[{i}].output_c"] = la.out_c
    params |= {
        "input_w": p.layers[0].cols.in_size,
        "input_c": p.layers[0].in_c,
        "output_w": p.layers[-1].cols.out_size,
        "windows": C("windows"),
        "gather_input": int(p.gather_input),
        "scatter_output": int(p.scatter_output),
        "kernel_scratch_bytes": p.kernel_scratch,
        "buffer_bytes": c_array(list(p.buffer_bytes)),
    }
    call = Lowered(
        func="tp_patches_s8",
        source="tp_patches",
        requires=("tp_layer_window", "tp_conv", "tp_depthwise_conv", "tp_pooling"),
        params_type="tp_patches_params",
        params=params,
        args=[T(first.inputs[0]), T(last.outputs[0])],
        consts={"windows": p.table()},
        scratch_bytes=p.scratch_bytes,
        inner=lowered[ops[-1]],
    )
    result = list(lowered)
    for k in ops[:-1]:
        result[k] = replace(lowered[k], fused_into=ops[-1])
    result[ops[-1]] = call
    return result


Planner = Callable[[list[Lowered]], tuple[list[Lowered], MemoryPlan]]


def choose_patches(
    graph: Graph, lowered: list[Lowered], max_recompute: float, plan: Planner
) -> tuple[list[Lowered], MemoryPlan, Patching | None]:
    """The lowering and plan with the chain from the input run patch by patch where that needs
    the fewest arena + I/O bytes within `max_recompute` extra MACs (a fraction of the model's),
    or `plan(lowered)` unchanged (and None) when no patching needs fewer bytes."""
    from .summary import op_macs  # summary imports codegen, which imports this module

    base_low, base_plan = plan(lowered)
    best = (base_low, base_plan, None)
    if max_recompute <= 0:
        return best
    io = sum(t.nbytes for t in graph.output_tensors)

    def ram(pl: MemoryPlan) -> int:
        ins = [t for t in graph.input_tensors if pl.storage[t.index][0] != "arena"]
        return pl.arena_size + io + sum(t.nbytes for t in ins)

    before = best_ram = ram(base_plan)
    model_macs = sum(op_macs(op, graph) for op in graph.operators)
    budget = max_recompute * model_macs
    inputs = sum(t.nbytes for t in graph.input_tensors)
    for chain in chains(graph, lowered):
        layers = [chain_layer(k, lowered[k]) for k in chain]
        for n in range(2, len(layers) + 1):
            p = best_grid(layers[:n], budget)
            # the input, the chain's output and the buffers are live together during the call
            out = graph.tensors[graph.operators[chain[n - 1]].outputs[0]].nbytes
            if p is None or inputs + out + p.scratch_bytes >= best_ram:
                continue
            low, pl = plan(patch_call(graph, lowered, p))
            if ram(pl) < best_ram:
                best_ram = ram(pl)
                p.model_macs, p.ram_before, p.ram_after = model_macs, before, best_ram
                best = (low, pl, p)
    return best
