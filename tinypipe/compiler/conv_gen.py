"""Generated kernels for CONV_2D layers on int16-expanded weights that are not pointwise: 3x3
(any KxK) windows, strides, padding, and the first layers whose windows are gathered whole.

A tile function is written per layer shape (templates/c/conv.c.j2): the int16 tile of the
pointwise kernels (pointwise.py), 2 output pixels x 4 output channels in registers, extended to
windows of several filter rows. What the tile is compiled for is the key: the bytes of one
filter row (filter_w * input_c, contiguous in the input), the number of filter rows, the bytes
between the windows of neighbouring output pixels (stride_w * input_c, the second pixel's
immediate offset) and the activation range. The input row length stays a run-time argument, so
one function serves a layer on the whole tensor, row by row in place and on the windows of fused
blocks and patches. tp_conv_tiled_s8 (firmware/runtime/tp_conv_tiled.c) walks the output rows:
windows inside the input are read where they lie, the border ones from copies with padded taps
set to the input zero point, which is how tp_conv_w16_s8 treats them.

Layers whose windows are always gathered (a 3x3 window over 1-3 channels: tp_conv_w16_s8 with
read_in_place 0) get a tile over one row of the whole padded window, two windows back to back.

The tile computes tp_conv_w16_s8's integers: the folded bias plus the int8 dot product (in
another order, exact: the host bounds every partial sum), then tp_output_rq_s8's records. The
layer's filter16, bias and requant arrays become one blob of the same size (pointwise_blob, over
the window's taps in filter order). The portable C path (host, cores without DSP) reads it too.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from .graph import Graph
from .ops.base import C, Lowered, Raw
from .pointwise import (
    GENERIC,
    INPLACE_GENERIC,
    WINDOW_GENERIC,
    _blob_of,
    _layer_consts,
    clamp_lines,
    inplace_call,
    kernel_finder,
    swap_windows,
    unprefixed,
    unroll_for,
)

# The second window of a pair is read at immediate offsets up to step + run (12 bits), and a
# pair advances by 2 * step (ADDW).
MAX_RUN = 2047
MAX_STEP = 2047
# Bytes of a filter row per pass of the written-out inner loop (a pass of 4 bytes is about 110
# bytes of code; 12 divides the 3x3 rows over 16, 32 and 64 channels).
MAX_UNROLL = 12
RUNTIME = "tp_conv_tiled"


@dataclass(frozen=True)
class ConvKey:
    """What a generated tile is compiled for; layers with equal keys share it."""

    run: int  # bytes of one filter row (of the whole padded window when gathered)
    rows: int  # filter rows
    step: int  # bytes between the windows of neighbouring output pixels
    act_min: int
    act_max: int


@dataclass
class ConvKernel:
    key: ConvKey
    name: str
    direct_entry: bool = False  # called on the whole layer
    conv_entry: bool = False  # a tp_conv_w16_kernel wrapper (in-place row-wise driver)
    window_entry: bool = False  # a tp_window_fn wrapper (fused layers, patches)
    layers: list[int] = field(default_factory=list)


def conv_key(low: Lowered) -> ConvKey | None:
    """The key of a layer lowered to tp_conv_w16_s8 that a generated tile can compute, else
    None: filter rows read in place need no horizontal dilation (rows of whole words already
    hold for tp_conv_w16_s8); gathered windows are one row of the padded window."""
    p = low.params
    if low.func != GENERIC or "requant" not in p or p["groups"] != 1 or p["output_c"] % 4:
        return None
    if p["read_in_place"]:
        if p["dilation_w"] != 1:
            return None
        run, rows = p["filter_w"] * p["input_c"], p["filter_h"]
        step = p["stride_w"] * p["input_c"]
    else:
        run = step = p["filter_h"] * p["filter_w"] * p["filter_c"] + p["patch_pad"]
        rows = 1
    if run % 4 or run > MAX_RUN or step > MAX_STEP or 2 * rows * run + 16 > 0xFFFF:
        return None
    return ConvKey(run, rows, step, int(p["act_min"]), int(p["act_max"]))


def conv_contexts(name: str, kernels: list[ConvKernel]) -> list[dict[str, object]]:
    """What conv.c.j2 prints for each generated tile. Tiles with the same activation range share
    their requantization code (emitted with the first of them): it is a fifth of a tile's code
    and 2 instructions per call in about 500 per block."""
    ranges: list[tuple[int, int]] = []
    out = []
    for kernel in kernels:
        act = (kernel.key.act_min, kernel.key.act_max)
        first = act not in ranges
        if first:
            ranges.append(act)
        out.append(
            {
                **conv_context(kernel),
                "results": f"{name}_conv_rq{ranges.index(act)}",
                "emit_results": first,
            }
        )
    return out


def conv_context(kernel: ConvKernel) -> dict[str, object]:
    """What conv.c.j2 prints for one generated tile, but for its requantization's name."""
    key = kernel.key
    unroll = unroll_for(key.run, MAX_UNROLL)
    return {
        "name": kernel.name,
        "run": key.run,
        "rows": key.rows,
        "step": key.step,
        "act_min": key.act_min,
        "act_max": key.act_max,
        "unroll": unroll,
        "looped": unroll < key.run,
        "runs": list(range(0, unroll, 4)),
        "clamp": clamp_lines(key.act_min, key.act_max),
        "layers": kernel.layers,
        "blob_bytes_per_channel": 2 * key.rows * key.run + 16,
        "direct_entry": kernel.direct_entry,
        "conv_entry": kernel.conv_entry,
        "window_entry": kernel.window_entry,
    }


def specialize_conv(
    name: str, graph: Graph, lowered: list[Lowered], enabled: bool = True
) -> tuple[list[Lowered], list[ConvKernel]]:
    """`lowered` (after the memory plan and the pointwise kernels) with every other eligible
    tp_conv_w16_s8 layer on a generated tile, and the tiles to emit. Planning is unchanged:
    tp_conv_tiled_s8 needs no more scratch than tp_conv_w16_s8 (tp_conv_tiled.h)."""
    if not enabled:
        return lowered, []
    kernels: dict[ConvKey, ConvKernel] = {}
    kernel_for = kernel_finder(kernels, conv_key, lambda key, i: ConvKernel(key, f"{name}_conv{i}"))
    result = list(lowered)
    for k, low in enumerate(lowered):
        if low.func == GENERIC and low.emits_code:
            kern = kernel_for(low, k)
            if kern is None:
                continue
            kern.direct_entry = True
            params = {f: (None if f in ("bias", "requant") else v) for f, v in low.params.items()}
            result[k] = replace(
                low,
                func=kern.name,
                params=params,
                args=[low.args[0], C("pointwise"), *low.args[2:]],
                consts={"pointwise": _blob_of(low)},
            )
        elif low.func == INPLACE_GENERIC and low.params.get("kernel") == Raw(GENERIC):
            inner = replace(low, func=GENERIC, params=unprefixed(low.params, "conv."))
            kern = kernel_for(inner, k)
            if kern is None:
                continue
            kern.conv_entry = True
            cast = Raw(f"(const int16_t *)(const void *){name}_op{k}_pointwise")
            result[k] = inplace_call(low, kern.name, cast, "pointwise", _blob_of(inner))
        else:
            swap_windows(lowered, result, k, WINDOW_GENERIC, kernel_for, "pointwise", _layer_consts)
        if result[k] is not low and RUNTIME not in result[k].requires:
            result[k] = replace(result[k], requires=(*result[k].requires, RUNTIME))
    return result, list(kernels.values())
