"""4-bit packed weights for CONV_2D and FULLY_CONNECTED layers with few distinct weight values.

A layer whose int8 weights take at most 16 distinct values, in the whole layer or in each
output channel (what weight clustering produces, see tinypipe.model.cluster), is compiled to
`tp_conv_w4_s8` / `tp_fully_connected_w4_s8`: one 4-bit index per weight plus a 16-entry
codebook, decoded in the kernel. The decoded weight is the .tflite's int8 weight itself, so the
result is TFLM's bit for bit by construction; only the storage changes.

This is a hook after the ordinary lowering (which has already checked the op): it replaces
that lowering only when the packed form is smaller and provably safe, and otherwise leaves it.
"""

from __future__ import annotations

import numpy as np

from tinypipe.compiler.graph import Graph, Operator, Tensor

from .base import C, Lowered, T, channel_multipliers, fused_activation_range, io
from .conv import check_conv_op

LEVELS = 16
_PACKABLE = ("CONV_2D", "FULLY_CONNECTED")


def codebook_of(w: np.ndarray) -> tuple[np.ndarray, np.ndarray, int] | None:
    """(codebook, indices, stride) for int8 weights `w` shaped [channels, taps], or None if some
    channel has more than 16 distinct values. One shared codebook (stride 0) when the whole
    layer has at most 16 values, else one per output channel (stride 16). Unused entries are 0."""
    layer = np.unique(w)
    if layer.size <= LEVELS:
        book = np.zeros(LEVELS, np.int8)
        book[: layer.size] = layer
        return book, np.searchsorted(layer, w).astype(np.uint8), 0
    books = np.zeros((w.shape[0], LEVELS), np.int8)
    idx = np.empty(w.shape, np.uint8)
    for c, row in enumerate(w):
        values = np.unique(row)
        if values.size > LEVELS:
            return None
        books[c, : values.size] = values
        idx[c] = np.searchsorted(values, row)
    return books, idx, LEVELS


def pack_nibbles(indices: np.ndarray) -> np.ndarray:
    """Two 4-bit indices per byte, the first in the low nibble (what the kernels read)."""
    flat = indices.ravel().astype(np.uint8)
    if flat.size % 2:
        flat = np.append(flat, np.uint8(0))
    return (flat[0::2] | (flat[1::2] << 4)).astype(np.uint8)


def packed_bytes(w: np.ndarray) -> int | None:
    """Bytes of `w` ([channels, taps] int8) in the packed form (indices + codebooks), or None."""
    book = codebook_of(w)
    return None if book is None else (w.size + 1) // 2 + book[0].size


def maybe_pack(op: Operator, g: Graph, low: Lowered) -> Lowered:
    """The packed lowering of `op` if it applies and saves bytes, else `low` unchanged."""
    if op.opcode not in _PACKABLE:
        return low
    ins, (out,) = io(g, op)
    inp, weights = ins[0], ins[1]
    bias = ins[2] if len(ins) > 2 else None
    if weights.data is None or np.any(weights.quant.zero_point != 0):
        return low
    channels = weights.shape[0]
    w = weights.data.reshape(channels, -1).astype(np.int8)
    book = codebook_of(w)
    if book is None or (w.size + 1) // 2 + book[0].size >= w.size:
        return low
    codebook, indices, stride = book
    raw_bias = np.zeros(channels, np.int64) if bias is None else bias.data.astype(np.int64)
    # Every partial sum is bounded by |bias| + 255 * sum |w| (|x - zp_in| <= 255): keep it in int32.
    if (np.abs(raw_bias) + 255 * np.abs(w.astype(np.int64)).sum(axis=1)).max() >= 2**31:
        return low
    consts = {
        "weights": pack_nibbles(indices),
        "codebook": codebook.ravel(),
        "bias": raw_bias.astype(np.int32),
    }
    if op.opcode == "CONV_2D":
        common, mult, shift = check_conv_op(op, inp, weights, bias, out, channel_axis=0)
        keys = """batches input_h input_w input_c filter_h filter_w output_h output_w stride_h
            stride_w dilation_h dilation_w pad_h pad_w input_offset output_offset act_min
            act_max""".split()
        params = {k: common[k] for k in keys}
        params["filter_c"] = weights.shape[3]
        params["output_c"] = channels
        params["groups"] = inp.shape[3] // weights.shape[3]
        source, kernel = "tp_w4", "tp_conv_w4"
    else:
        mult, shift = channel_multipliers(inp, weights, out, channels)
        shift = shift.astype(np.int32)
        lo, hi = fused_activation_range(op, out.scale, out.zero_point)
        params = {
            "batches": inp.size // w.shape[1],
            "in_features": w.shape[1],
            "out_features": channels,
            "input_offset": -inp.zero_point,
            "output_offset": out.zero_point,
            "act_min": lo,
            "act_max": hi,
        }
        source, kernel = "tp_w4", "tp_fully_connected_w4"
    consts.update({"multiplier": mult, "shift": shift})
    params.update(
        {
            "codebook": C("codebook"),
            "codebook_stride": stride,
            "bias": C("bias"),
            "multiplier": C("multiplier"),
            "shift": C("shift"),
        }
    )
    return Lowered(
        func=f"{kernel}_s8",
        source=source,
        params_type=f"{kernel}_params",
        params=params,
        args=[T(inp.index), C("weights"), T(out.index)],
        consts=consts,
    )


def packed_weight_bytes(weights: Tensor) -> int | None:
    """Bytes a constant weight tensor takes packed (None if it cannot be)."""
    if weights.data is None:
        return None
    return packed_bytes(weights.data.reshape(weights.shape[0], -1).astype(np.int8))
