"""Generated kernels for 3x3 DEPTHWISE_CONV_2D layers.

The layers tp_depthwise_conv_w16_s8 runs (depth multiplier 1, channels in fours, int16-expanded
weights, requantization records) with a 3x3 window, no dilation and strides of 1 or 2 get, after
the memory plan, a function written for their window, strides and activation range
(templates/c/depthwise.c.j2). It computes two horizontally adjacent output pixels at a time, 4
channels per step with all 8 accumulators in registers: the two pixels' windows overlap, so each
input column of the pair's footprint (4 columns at stride 1, 5 at stride 2) is loaded and
sign-extended once for both pixels, every tap written out, and the requantization is
tp_output_rq_s8's in 6 instructions per output. The tap addresses come from a small table filled
per pixel pair (a tap outside the input reads a row of input zero points, as in
tp_depthwise_conv_w16_s8), so borders and interior run the same code. The channel count stays a
run-time value: layers that differ only in it share one function (mobilenet_v1's 13 depthwise
layers need two), which keeps the firmware within TFLM + CMSIS-NN's flash.

The function computes tp_depthwise_conv_w16_s8's integers: the folded bias plus the int8 dot
product over the window (the same exact sum in another order), then the same records. Its
portable C path (host, cores without the DSP extension) reads the same blob.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from .graph import Graph
from .ops.base import Lowered, Raw
from .pointwise import (
    blob_blocks,
    blob_layer,
    clamp_lines,
    inplace_call,
    kernel_finder,
    swap_windows,
    unprefixed,
)
from .thumb1 import depthwise_taps

GENERIC = "tp_depthwise_conv_w16_s8"
WINDOW_GENERIC = "tp_depthwise_w16_window"  # GENERIC on a window (fusion.py, patches.py)
INPLACE_GENERIC = "tp_depthwise_conv_w16_inplace_s8"  # inplace.py's row-wise driver


@dataclass(frozen=True)
class DwKey:
    """What a generated depthwise function is specialized for; layers with equal keys share it."""

    k_h: int
    k_w: int
    stride_h: int
    stride_w: int
    act_min: int
    act_max: int


@dataclass
class DwKernel:
    key: DwKey
    name: str
    conv_entry: bool = False  # the generic kernel's signature (own call, in-place driver)
    window_entry: bool = False  # a tp_window_fn wrapper (fused layers, patches)
    layers: list[int] = field(default_factory=list)


def depthwise_key(low: Lowered) -> DwKey | None:
    """The key of a layer lowered to tp_depthwise_conv_w16_s8 that a generated kernel can
    compute (a 3x3 window without dilation, strides of 1 or 2), else None."""
    p = low.params
    if low.func != GENERIC or "requant" not in p:
        return None
    ok = (
        p["filter_h"] == p["filter_w"] == 3
        and p["dilation_h"] == p["dilation_w"] == 1
        and p["stride_h"] in (1, 2)
        and p["stride_w"] in (1, 2)
        and p["depth_multiplier"] == 1
        and p["input_c"] % 4 == 0
    )
    if not ok:
        return None
    return DwKey(
        p["filter_h"],
        p["filter_w"],
        p["stride_h"],
        p["stride_w"],
        int(p["act_min"]),
        int(p["act_max"]),
    )


def depthwise_blob(filter16: np.ndarray, bias: np.ndarray, requant: np.ndarray) -> np.ndarray:
    """The generated kernel's constants as int32 words, per group of 4 channels c..c+3, in the
    order it reads them (depthwise.c.j2): bias[c..c+3]; per tap of the window (row by row) the
    int16 pairs (w[c], w[c+2]) and (w[c+1], w[c+3]) as two words (low half first); the 3
    requantization words of c, c+1, c+2, c+3 (tp_output_rq_s8). Built from
    tp_depthwise_conv_w16_s8's filter (ops/depthwise_conv.py interleave_dw_w16), which holds
    exactly these pairs per group and tap."""
    groups = bias.size // 4
    w = filter16.astype(np.int64).reshape(groups, -1, 2)
    words = (w[..., 0] & 0xFFFF) | (w[..., 1] << 16)
    return blob_blocks(bias, words, requant, 4)


def kernel_context(kernel: DwKernel) -> dict[str, object]:
    """What depthwise.c.j2 prints for one generated function: the columns of a pixel pair's
    footprint, and for each (window row, column) the taps of pixels 0 and 1 reading it."""
    key = kernel.key
    cols = key.k_w + key.stride_w
    reads = []
    for ky in range(key.k_h):
        for j in range(cols):
            taps = [
                (pixel, ky * key.k_w + j - pixel * key.stride_w)
                for pixel in (0, 1)
                if 0 <= j - pixel * key.stride_w < key.k_w
            ]
            reads.append({"slot": ky * cols + j, "taps": taps})
    slots = key.k_h * cols
    return {
        "name": kernel.name,
        "k_h": key.k_h,
        "k_w": key.k_w,
        "stride_h": key.stride_h,
        "stride_w": key.stride_w,
        "act_min": key.act_min,
        "act_max": key.act_max,
        "clamp": clamp_lines(key.act_min, key.act_max),
        "layers": kernel.layers,
        "conv_entry": kernel.conv_entry,
        "window_entry": kernel.window_entry,
        "cols": cols,
        "slots": slots,
        "taps": key.k_h * key.k_w,
        "reads": reads,
        # the pair's table and the 5 words after it, copied onto the stack in runs of 8
        "copy_runs": [min(8, slots + 5 - i) for i in range(0, slots + 5, 8)],
        # the table, advanced from one pair to the next in runs of 8
        "step_runs": [min(8, slots - i) for i in range(0, slots, 8)],
        "thumb1": depthwise_taps(key.k_h, key.k_w, key.stride_w, cols),
    }


def _blob_of(low: Lowered) -> np.ndarray:
    return depthwise_blob(low.consts["filter16"], low.consts["bias"], low.consts["requant"])


def _layer_consts(low: Lowered) -> Lowered:
    return blob_layer(low, "depthwise", _blob_of(low))


def specialize_depthwise(
    name: str, graph: Graph, lowered: list[Lowered], enabled: bool = True
) -> tuple[list[Lowered], list[DwKernel]]:
    """`lowered` (after the memory plan) with every eligible depthwise layer calling a generated
    kernel, directly, from the in-place row driver or on windows (fused layers, patches), and
    the kernels to emit. Planning is unchanged: the generated kernel reads and writes what
    tp_depthwise_conv_w16_s8 does, with the same scratch (a row of input zero points)."""
    if not enabled:
        return lowered, []
    result = list(lowered)
    kernels: dict[DwKey, DwKernel] = {}

    kernel_for = kernel_finder(
        kernels, depthwise_key, lambda key, i: DwKernel(key, f"{name}_depthwise{i}")
    )

    def blob_arg(k: int) -> Raw:
        return Raw(f"(const int16_t *)(const void *){name}_op{k}_depthwise")

    for k, low in enumerate(lowered):
        if low.func == GENERIC and low.emits_code:
            kern = kernel_for(low, k)
            if kern is not None:
                kern.conv_entry = True
                own = _layer_consts(low)
                # the generic kernel's arguments; a NULL scratch when none is planned
                args = [low.args[0], blob_arg(k), low.args[2]]
                args += [] if low.scratch_bytes else [Raw("NULL")]
                result[k] = replace(own, func=f"{kern.name}_conv", args=args)
        elif low.func == INPLACE_GENERIC and low.params.get("kernel") == Raw(GENERIC):
            inner = replace(low, func=GENERIC, params=unprefixed(low.params, "conv."))
            kern = kernel_for(inner, k)
            if kern is not None:
                kern.conv_entry = True
                result[k] = inplace_call(low, kern.name, blob_arg(k), "depthwise", _blob_of(inner))
        else:  # fused row pairs and patches
            swap_windows(lowered, result, k, WINDOW_GENERIC, kernel_for, "depthwise", _layer_consts)
    return result, list(kernels.values())
