"""Generated kernels for FULLY_CONNECTED layers on int8 weights.

The layers tp_fully_connected_x4_s8 runs (symmetric weights, in_features a multiple of 4) with
out_features a multiple of 8 get, after the memory plan, a function written for their
in_features K and activation range (templates/c/fully_connected.c.j2): 8 outputs per pass over
the input with every accumulator in a register, the inner loop written out with the input read
at immediate offsets, the requantization records next to the weights (one array per layer, the
"blob"), tp_output_rq_s8's requantization in a few instructions. Layers with equal keys share
the function; rows and out_features are arguments. The weights stay int8: the flash of a dense
layer is its weights.

Two layouts of the weights:

- plain: per run of 4 inputs, each output's 4 weight bytes as one word; the DSP loop splits it
  with two SXTB16 into int16 lanes (1.34 instructions per MAC on the Cortex-M4).
- paired: outputs o + p and o + 4 + p (p = 0..3 within a group of 8) share int16 lanes
  L[k] = w[o + p][k] + 256 w[o + 4 + p][k], one byte per weight still. SMLAD of the input lanes
  with a word of two such lanes accumulates A = D_lo + 256 D_hi (mod 2^32), where D_lo, D_hi are
  the two outputs' accumulators; SXTB16 of the same word leaves the low bytes, w[o + p][k], and
  a second SMLAD accumulates B = D_lo. Then D_lo = B and D_hi = (A - B) >> 8 (arithmetic),
  0.97 instructions per MAC. A lane is exact when every weight lies in [-127, 127]
  (|L| <= 127 + 256 * 127 < 2^15), which TFLite's symmetric int8 weights do unless one is -128.
  The decode is exact when 256 D_hi fits in int32, i.e. D_hi in [-2^23, 2^23): the host proves
  it for every high output from its weights and folded bias, over every int8 input vector:
  D_hi = bias + sum_k x_k w[k] is smallest with x_k = -128 where w[k] > 0 and 127 where
  w[k] < 0, largest the other way round. A layer where any high output could leave that range,
  or with a -128 weight, keeps the plain layout and its kernel (both may be in one model: the
  layout is part of the kernel's key and name).

The function computes tp_fully_connected_x4_s8's integers: the folded bias plus the plain int8
dot product (in another order, exact: the host bounds every partial sum), then the same
records. Its Cortex-M3 and Cortex-M0 assembly and its portable C path (host, other cores) read
the same blob.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .graph import Graph
from .ops.base import C, Lowered
from .pointwise import Key, blob_blocks, loop_context

GENERIC = "tp_fully_connected_x4_s8"
MAX_K = 4095  # the row step is a 12-bit immediate
# Inputs per pass of the inner loop, written out (124 bytes of code per 4 inputs paired, 172
# plain): the weights, not the code, are a dense layer's flash. 64 would save 0.75 % of
# fc_autoencoder's instructions for 2 KB of flash.
MAX_UNROLL = 32
# A paired high output's accumulator times 256 must fit in int32.
PAIR_LIMIT = 1 << 23


@dataclass(frozen=True)
class DenseKey:
    """What a generated dense function is specialized for: the loop's key and the layout."""

    key: Key
    paired: bool


@dataclass
class DenseKernel:
    key: DenseKey
    name: str
    layers: list[int] = field(default_factory=list)


def dense_key(low: Lowered) -> Key | None:
    """The key of a layer lowered to tp_fully_connected_x4_s8 that a generated kernel can
    compute (out_features in eights), else None."""
    p = low.params
    if low.func != GENERIC or p["out_features"] % 8 or p["in_features"] > MAX_K:
        return None
    return Key(p["in_features"], int(p["act_min"]), int(p["act_max"]))


def accumulator_range(weights: np.ndarray, bias: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per output, the least and greatest bias + sum_k x_k w[k] over every x in [-128, 127]^K
    (exact: each term is extreme at x_k = -128 or 127, whichever its weight's sign favours)."""
    w = weights.astype(np.int64)
    b = bias.astype(np.int64)
    return b + np.minimum(-128 * w, 127 * w).sum(axis=1), b + np.maximum(-128 * w, 127 * w).sum(
        axis=1
    )


def pairable(weights: np.ndarray, bias: np.ndarray) -> bool:
    """Whether the paired layout is exact for this layer (module docstring): no -128 weight,
    and the high output of every pair (o + 4..o + 7 of each group of 8) within
    [-2^23, 2^23) for every int8 input."""
    outs, k = weights.shape
    if weights.astype(np.int64).min(initial=0) < -127:
        return False
    high = np.arange(outs).reshape(-1, 2, 4)[:, 1].reshape(-1)
    least, greatest = accumulator_range(weights[high], bias[high])
    return bool(least.min() >= -PAIR_LIMIT and greatest.max() < PAIR_LIMIT)


def dense_blob(weights: np.ndarray, bias: np.ndarray, requant: np.ndarray) -> np.ndarray:
    """The plain layout's constants as int32 words, per group of 8 outputs o..o+7, in the
    order the kernel reads them (fully_connected.c.j2): bias[o..o+7]; per run of 4 inputs k..k+3,
    for c in 0..7 the bytes w[o+c][k..k+3] as one little-endian word; the 3 requantization words
    of each of the 8 outputs (tp_output_rq_s8)."""
    outs, k = weights.shape
    w = weights.astype(np.int8).reshape(outs // 8, 8, k // 4, 4).transpose(0, 2, 1, 3)
    words = np.ascontiguousarray(w).reshape(outs // 8, -1).view("<i4").astype(np.int64)
    return blob_blocks(bias, words, requant, 8)


def paired_dense_blob(weights: np.ndarray, bias: np.ndarray, requant: np.ndarray) -> np.ndarray:
    """The paired layout's constants as int32 words (only for a pairable layer), per group of 8
    outputs o..o+7, in the order the kernel reads them (fully_connected.c.j2):
      B's start bias[o + p] for p in 0..3, then A's bias[o + p] + 256 bias[o + 4 + p] (mod 2^32);
      per run of 4 inputs k..k+3 and pair p in 0..3 the lanes L[k] = w[o + p][k] +
      256 w[o + 4 + p][k] as two words, (L[k], L[k + 2]) then (L[k + 1], L[k + 3]), low half
      first: SXTB16 of the input word gives (x[k], x[k + 2]), with ROR 8 (x[k + 1], x[k + 3]);
      the 3 requantization words of each of the 8 outputs (tp_output_rq_s8)."""
    outs, k = weights.shape
    w = weights.astype(np.int64).reshape(outs // 8, 2, 4, k)  # group, low/high, p, input
    lanes = w[:, 0] + 256 * w[:, 1]  # group, p, input
    lanes = lanes.reshape(outs // 8, 4, k // 4, 2, 2)  # group, p, run, k parity's half, parity
    words = (lanes[..., 0, :] & 0xFFFF) | (lanes[..., 1, :] << 16)  # group, p, run, parity
    words = words.transpose(0, 2, 1, 3).reshape(outs // 8, 2 * k)  # run-major, then p, parity
    b = bias.astype(np.int64).reshape(outs // 8, 2, 4)
    start = np.concatenate([b[:, 0], b[:, 0] + 256 * b[:, 1]], axis=1)
    start = (start + 2**31) % 2**32 - 2**31  # A wraps as SMLAD does
    return blob_blocks(start, words, requant, 8)


def dense_context(kernel: DenseKernel) -> dict[str, object]:
    """What fully_connected.c.j2 prints for one generated function. Beyond MAX_UNROLL inputs
    the loop body holds MAX_UNROLL of them and, when they do not divide K, the first pass
    enters the body `entry` inputs in (a loop over a divisor of K could take passes of 4)."""
    k = kernel.key.key.k
    unroll = min(k, MAX_UNROLL)
    return {
        **loop_context(kernel.name, kernel.key.key, kernel.layers, MAX_UNROLL),
        "unroll": unroll,
        "looped": unroll < k,
        "runs": list(range(0, unroll, 4)),
        "entry": -k % unroll,
        "paired": kernel.key.paired,
        "blob_bytes_per_output": k + 16,
    }


def specialize_fully_connected(
    name: str, graph: Graph, lowered: list[Lowered], enabled: bool = True
) -> tuple[list[Lowered], list[DenseKernel]]:
    """`lowered` (after the memory plan) with every eligible FULLY_CONNECTED layer calling a
    generated kernel, and the kernels to emit."""
    if not enabled:
        return lowered, []
    result = list(lowered)
    kernels: dict[DenseKey, DenseKernel] = {}
    for k, low in enumerate(lowered):
        key = dense_key(low) if low.emits_code else None
        if key is None:
            continue
        p = low.params
        w = graph.tensors[graph.operators[k].inputs[1]].data.reshape(p["out_features"], key.k)
        bias = low.consts["bias"]
        paired = pairable(w, bias)
        dkey = DenseKey(key, paired)
        if dkey not in kernels:
            suffix = "_paired" if paired else ""
            kernels[dkey] = DenseKernel(dkey, f"{name}_dense{len(kernels)}{suffix}")
        kern = kernels[dkey]
        kern.layers.append(k)
        build = paired_dense_blob if paired else dense_blob
        blob = build(w, bias, low.consts["requant"])
        result[k] = Lowered(
            func=kern.name,
            source=low.source,
            args=[p["batches"], low.args[0], C("dense"), low.args[2], p["out_features"]],
            consts={"dense": blob},
            inplace_of=low.inplace_of,
        )
    return result, list(kernels.values())
