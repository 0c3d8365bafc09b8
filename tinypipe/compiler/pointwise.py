"""Generated kernels for pointwise (1x1) CONV_2D layers.

A 1x1 convolution with stride 1 and no padding is a matrix product: every output pixel's N
channels are dot products of its K input channels with the N filters. tp_conv_w16_s8 computes
it with shapes read at run time; here, after the memory plan, each such layer gets a function
written for its input channel count K and activation range: K is the immediate offset
between the two pixels of a tile and the length of an unrolled inner loop, the requantization
constants sit next to the weights they follow, and the whole tile lives in registers
(templates/c/pointwise.c.j2). Layers with equal keys share one function (each costs about 1 KB of
flash; the output channel count, needed only once per 4 channels, is an argument); the weights,
bias and requantization constants of each layer are one array (the "blob") the function walks
through.

The generated function computes the same integers as tp_conv_w16_s8 (tp_conv.c): the int8 dot
product on the folded bias, then tp_output_rq_s8's single-rounding requantization from the same
host-made records; only the order of the (exact) additions changes. Its portable C path (host,
cores without the DSP extension) reads the same blob.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .graph import Graph
from .ops.base import C, Lowered, P, Raw

GENERIC = "tp_conv_w16_s8"
WINDOW_GENERIC = "tp_conv_w16_window"  # GENERIC on a window (fusion.py, patches.py)
INPLACE_GENERIC = "tp_conv_w16_inplace_s8"  # inplace.py's row-wise driver for GENERIC

# The tile reads the second pixel at an immediate offset of K bytes (12-bit immediates) and
# steps 2 * K bytes per pixel pair.
MAX_K = 1024
# The inner loop is written out for up to this many input channels per pass: beyond it, a
# pass costs 4 instructions of loop control (0.6 % of mobilenet_v1's instructions against 32
# channels per pass) but the pass takes about 450 bytes instead of 900 (1.3 KB less flash in
# mobilenet_v1, whose firmware is otherwise within 0.1 % of TFLM + CMSIS-NN's).
MAX_UNROLL = 16


@dataclass(frozen=True)
class Key:
    """What a generated function is specialized for; layers with equal keys share it."""

    k: int  # input channels (in_features of a dense layer)
    act_min: int
    act_max: int


@dataclass
class Kernel:
    key: Key
    name: str
    conv_entry: bool = False  # a tp_conv_w16_kernel wrapper (in-place row-wise driver)
    window_entry: bool = False  # a tp_window_fn wrapper (fused layers, patches)
    layers: list[int] = field(default_factory=list)


def pointwise_key(low: Lowered) -> Key | None:
    """The key of a layer lowered to tp_conv_w16_s8 that a generated kernel can compute, else
    None: a 1x1 window, stride 1, no padding (so input pixel i is output pixel i), and channel
    counts in fours, K within the tile's immediate offsets."""
    p = low.params
    if low.func != GENERIC or "requant" not in p:
        return None
    k, n = p["input_c"], p["output_c"]
    flat = (
        p["filter_h"] == p["filter_w"] == 1
        and p["stride_h"] == p["stride_w"] == 1
        and p["pad_h"] == p["pad_w"] == 0
        and p["patch_pad"] == 0
        and p["groups"] == 1
        and (p["input_h"], p["input_w"]) == (p["output_h"], p["output_w"])
    )
    if not flat or k % 4 or n % 4 or k > MAX_K:
        return None
    return Key(k, int(p["act_min"]), int(p["act_max"]))


def pointwise_blob(
    filter16: np.ndarray, bias: np.ndarray, requant: np.ndarray, k: int, n: int
) -> np.ndarray:
    """The generated kernel's constants as int32 words, per group of 4 output channels
    oc..oc+3, in the order it reads them (pointwise.c.j2):
      bias[oc..oc+3];
      per run of 4 input channels i..i+3: for c in 0..3 the int16 pair (w[oc+c][i], w[oc+c][i+2])
      as one word (low half first), then for c in 0..3 (w[oc+c][i+1], w[oc+c][i+3]);
      the 3 requantization words of oc, oc+1, oc+2, oc+3 (tp_output_rq_s8).
    Built from tp_conv_w16_s8's interleaved filter (ops/conv.py interleave_w16), whose runs hold
    per channel w[i], w[i+2], w[i+1], w[i+3]."""
    w = filter16.astype(np.int64).reshape(n // 4, k // 4, 4, 2, 2)  # block, run, c, pair, half
    words = (w[..., 0] & 0xFFFF) | (w[..., 1] << 16)  # block, run, c, pair
    words = words.transpose(0, 1, 3, 2).reshape(n // 4, 2 * k)  # pair-major within a run
    return blob_blocks(bias, words, requant, 4)


def blob_blocks(bias: np.ndarray, words: np.ndarray, requant: np.ndarray, block: int) -> np.ndarray:
    """A generated kernel's blob: per block of `block` output channels, their bias, their weight
    words (one row of `words` per block) and their 3 requantization words each."""
    blocks = bias.size // block
    parts = [bias.reshape(blocks, block), words, requant.reshape(blocks, 3 * block)]
    return np.concatenate([a.astype(np.int64) for a in parts], axis=1).astype(np.int32).reshape(-1)


def unroll_for(k: int, most: int) -> int:
    """Input channels per pass of the inner loop: all of them when at most `most`, else the
    largest multiple of 4 up to `most` dividing K (passes with no remainder)."""
    if k <= most:
        return k
    return max(u for u in range(4, most + 1, 4) if k % u == 0)


def clamp_lines(act_min: int, act_max: int) -> list[str]:
    """Assembly after SSAT #8 (which gives [-128, 127]) for a narrower activation range, with
    {r} for the register: compare and move under an IT block, immediates as Thumb-2 encodes
    them (CMN/MVN for negative values)."""

    def cmp(v: int) -> str:
        return f"cmp {{r}}, #{v}" if v >= 0 else f"cmn {{r}}, #{-v}"

    def mov(cond: str, v: int) -> str:
        return f"mov{cond} {{r}}, #{v}" if v >= 0 else f"mvn{cond} {{r}}, #{-v - 1}"

    lines = []
    if act_min > -128:
        lines += [cmp(act_min), "it lt", mov("lt", act_min)]
    if act_max < 127:
        lines += [cmp(act_max), "it gt", mov("gt", act_max)]
    return lines


def loop_context(name: str, key: Key, layers: list[int], most: int) -> dict[str, object]:
    """What the templates of the generated kernels print alike: the names, the channel count
    and how its loop is written out (at most `most` channels per pass), the clamp."""
    unroll = unroll_for(key.k, most)
    return {
        "name": name,
        "k": key.k,
        "act_min": key.act_min,
        "act_max": key.act_max,
        "unroll": unroll,
        "looped": unroll < key.k,
        "runs": list(range(0, unroll, 4)),
        "clamp": clamp_lines(key.act_min, key.act_max),
        "layers": layers,
    }


def kernel_context(kernel: Kernel) -> dict[str, object]:
    """What pointwise.c.j2 prints for one generated function."""
    return {
        **loop_context(kernel.name, kernel.key, kernel.layers, MAX_UNROLL),
        "blob_bytes_per_channel": 2 * kernel.key.k + 16,
        "conv_entry": kernel.conv_entry,
        "window_entry": kernel.window_entry,
    }


def _blob_of(low: Lowered) -> np.ndarray:
    """A tp_conv_w16_s8 layer's constants as one blob: its filter16 holds, per output channel,
    as many int16 weights as its (padded) window has taps (input_c for a pointwise layer)."""
    filter16 = low.consts["filter16"]
    n = low.params["output_c"]
    return pointwise_blob(
        filter16, low.consts["bias"], low.consts["requant"], filter16.size // n, n
    )


def blob_layer(low: Lowered, key: str, blob: np.ndarray) -> Lowered:
    """The layer's own parameters once its constants moved into `blob` (const `key`): the
    generic kernel's arrays are no longer emitted, their pointers are NULL."""
    params = {k: (None if k in ("bias", "requant") else v) for k, v in low.params.items()}
    return replace(low, params=params, consts={key: blob})


def _layer_consts(low: Lowered) -> Lowered:
    return blob_layer(low, "pointwise", _blob_of(low))


def specialize_pointwise(
    name: str, graph: Graph, lowered: list[Lowered], enabled: bool = True
) -> tuple[list[Lowered], list[Kernel]]:
    """`lowered` (after the memory plan) with every eligible pointwise layer calling a generated
    kernel, directly, from the in-place row driver or on windows (fused layers, patches), and
    the kernels to emit. Planning is unchanged: the generated kernel reads and writes what tp_conv_w16_s8 does
    and needs no scratch."""
    if not enabled:
        return lowered, []
    result = list(lowered)
    kernels: dict[Key, Kernel] = {}

    kernel_for = kernel_finder(
        kernels, pointwise_key, lambda key, i: Kernel(key, f"{name}_pointwise{i}")
    )

    for k, low in enumerate(lowered):
        if low.func == GENERIC and low.emits_code:
            kern = kernel_for(low, k)
            if kern is not None:
                p = low.params
                pixels = p["batches"] * p["output_h"] * p["output_w"]
                blob = _blob_of(low)
                result[k] = Lowered(
                    func=kern.name,
                    source=low.source,
                    args=[pixels, low.args[0], C("pointwise"), low.args[2], p["output_c"]],
                    consts={"pointwise": blob},
                    inplace_of=low.inplace_of,
                )
        elif low.func == INPLACE_GENERIC and low.params.get("kernel") == Raw(GENERIC):
            inner = replace(low, func=GENERIC, params=unprefixed(low.params, "conv."))
            kern = kernel_for(inner, k)
            if kern is not None:
                kern.conv_entry = True
                cast = Raw(f"(const int16_t *)(const void *){name}_op{k}_pointwise")
                result[k] = inplace_call(low, kern.name, cast, "pointwise", _blob_of(inner))
        else:
            swap_windows(lowered, result, k, WINDOW_GENERIC, kernel_for, "pointwise", _layer_consts)
    return result, list(kernels.values())


def kernel_finder(
    kernels: dict[Any, Any], key_of: Callable[[Lowered], Any], make: Callable[[Any, int], Any]
) -> Callable[[Lowered, int], Any]:
    """A function giving the generated kernel (from `kernels`, by `key_of`, new ones from `make`
    with their number) that layer k, lowered as `own`, runs on, and listing k under it; None
    when `key_of` finds no key."""

    def kernel_for(own: Lowered, k: int) -> Any:
        key = key_of(own)
        if key is None:
            return None
        if key not in kernels:
            kernels[key] = make(key, len(kernels))
        kernels[key].layers.append(k)
        return kernels[key]

    return kernel_for


def inplace_call(low: Lowered, kernel: str, cast: Raw, blob: str, words: np.ndarray) -> Lowered:
    """The in-place row driver's call `low` running the generated kernel's `<kernel>_conv`
    wrapper on its constant array `blob` (`words`, passed as `cast` where filter16 was); the
    generic kernel's bias and requantization arrays are no longer emitted."""
    params = {k: (None if k in ("conv.bias", "conv.requant") else v) for k, v in low.params.items()}
    params["kernel"] = Raw(f"{kernel}_conv")
    return replace(low, params=params, args=[low.args[0], cast], consts={blob: words})


def swap_windows(
    lowered: list[Lowered],
    result: list[Lowered],
    k: int,
    generic: str,
    kernel_for: Callable[[Lowered, int], Any],
    blob: str,
    layer_consts: Callable[[Lowered], Lowered],
) -> None:
    """In result[k], a fused row pair or patches (each layer as the fields <prefix>.window,
    .params, .filter): every layer run on window function `generic` that `kernel_for` gives a
    generated kernel runs on that kernel's `<name>_window` wrapper instead, reading its constant
    array `blob`; the layer's own entry (result[j], or its `inner`) gets `layer_consts`."""
    params = dict(result[k].params)
    for fld, fn in result[k].params.items():
        layer_op = params.get(f"{fld[: -len('.window')]}.params")
        if not fld.endswith(".window") or fn != Raw(generic) or not isinstance(layer_op, P):
            continue
        j = layer_op.op
        own = lowered[j] if lowered[j].fused_into is not None else lowered[j].inner
        kern = kernel_for(own, j) if own is not None else None
        if kern is None:
            continue
        kern.window_entry = True
        params[fld] = Raw(f"{kern.name}_window")
        params[f"{fld[: -len('.window')]}.filter"] = C(blob, j)
        if own is lowered[j]:
            result[j] = layer_consts(own)
        else:
            result[j] = replace(result[j], inner=layer_consts(own))
    if params != result[k].params:
        result[k] = replace(result[k], params=params)


def unprefixed(params: dict[str, object], prefix: str) -> dict[str, object]:
    """The fields of `params` named `prefix`..., without the prefix (an in-place driver's
    `conv.` fields as the layer's own)."""
    return {k[len(prefix) :]: v for k, v in params.items() if k.startswith(prefix)}
