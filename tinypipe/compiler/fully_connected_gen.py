"""Generated kernels for FULLY_CONNECTED layers on int8 weights.

The layers tp_fully_connected_x4_s8 runs (symmetric weights, in_features a multiple of 4) with
out_features a multiple of 8 get, after the memory plan, a function written for their
in_features K and activation range (templates/c/fully_connected.c.j2): 8 outputs per pass over
the input with every accumulator in a register, the inner loop written out with the input read
at immediate offsets, the requantization records next to the weights (one array per layer, the
"blob"), tp_output_rq_s8's requantization in a few instructions. Layers with equal keys share
the function; rows and out_features are arguments. The weights stay int8 (the flash of a
dense layer is its weights), two SXTB16 per weight word.

The function computes tp_fully_connected_x4_s8's integers: the folded bias plus the plain int8
dot product (in another order, exact: the host bounds every partial sum), then the same
records. Its portable C path (host, cores without the DSP extension) reads the same blob.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .graph import Graph
from .ops.base import C, Lowered
from .pointwise import Key, blob_blocks, loop_context

GENERIC = "tp_fully_connected_x4_s8"
MAX_K = 4095  # the row step is a 12-bit immediate
# Inputs per pass of the inner loop, written out (about 170 bytes per 4 inputs): the weights,
# not the code, are a dense layer's flash.
MAX_UNROLL = 32


@dataclass
class DenseKernel:
    key: Key
    name: str
    layers: list[int] = field(default_factory=list)


def dense_key(low: Lowered) -> Key | None:
    """The key of a layer lowered to tp_fully_connected_x4_s8 that a generated kernel can
    compute (out_features in eights), else None."""
    p = low.params
    if low.func != GENERIC or p["out_features"] % 8 or p["in_features"] > MAX_K:
        return None
    return Key(p["in_features"], int(p["act_min"]), int(p["act_max"]))


def dense_blob(weights: np.ndarray, bias: np.ndarray, requant: np.ndarray) -> np.ndarray:
    """The generated kernel's constants as int32 words, per group of 8 outputs o..o+7, in the
    order it reads them (fully_connected.c.j2): bias[o..o+7]; per run of 4 inputs k..k+3, for c
    in 0..7 the bytes w[o+c][k..k+3] as one little-endian word; the 3 requantization words of
    each of the 8 outputs (tp_output_rq_s8)."""
    outs, k = weights.shape
    w = weights.astype(np.int8).reshape(outs // 8, 8, k // 4, 4).transpose(0, 2, 1, 3)
    words = np.ascontiguousarray(w).reshape(outs // 8, -1).view("<i4").astype(np.int64)
    return blob_blocks(bias, words, requant, 8)


def dense_context(kernel: DenseKernel) -> dict[str, object]:
    """What fully_connected.c.j2 prints for one generated function."""
    return {
        **loop_context(kernel.name, kernel.key, kernel.layers, MAX_UNROLL),
        "blob_bytes_per_output": kernel.key.k + 16,
    }


def specialize_fully_connected(
    name: str, graph: Graph, lowered: list[Lowered], enabled: bool = True
) -> tuple[list[Lowered], list[DenseKernel]]:
    """`lowered` (after the memory plan) with every eligible FULLY_CONNECTED layer calling a
    generated kernel, and the kernels to emit."""
    if not enabled:
        return lowered, []
    result = list(lowered)
    kernels: dict[Key, DenseKernel] = {}
    for k, low in enumerate(lowered):
        key = dense_key(low) if low.emits_code else None
        if key is None:
            continue
        if key not in kernels:
            kernels[key] = DenseKernel(key, f"{name}_dense{len(kernels)}")
        kern = kernels[key]
        kern.layers.append(k)
        p = low.params
        w = graph.tensors[graph.operators[k].inputs[1]].data.reshape(p["out_features"], key.k)
        blob = dense_blob(w, low.consts["bias"], low.consts["requant"])
        result[k] = Lowered(
            func=kern.name,
            source=low.source,
            args=[p["batches"], low.args[0], C("dense"), low.args[2], p["out_features"]],
            consts={"dense": blob},
            inplace_of=low.inplace_of,
        )
    return result, list(kernels.values())
