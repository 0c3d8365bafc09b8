"""Weight layouts for ARMv6-M cores (Cortex-M0/M0+: Thumb-1, 32x32 -> 32-bit MULS only).

The int16-expanded convolution filters (tp_conv_w16_s8's, ops/conv.py interleave_w16) and the
generated pointwise kernels' blobs (pointwise.py) are laid out for SMLAD, which a Cortex-M0
lacks. For it the same bytes hold another order, emitted under `#if defined(__ARM_ARCH_6M__)`
(the layer's array has one name, size and type; the preprocessor keeps one of the two bodies,
so the flash is the same), read by tp_conv_thumb1.c:

  per group of 4 output channels c0..c3 and per tap k, two words:
      w[c0][k] + 2^16 * w[c1][k],   w[c2][k] + 2^16 * w[c3][k]      (exact, signed)

One MULS of an input byte x by such a word gives x * w[c0][k] in the low half and
x * w[c1][k] in the high half; two taps' products added keep the low half's sum exact as an
int16 (|x * w| <= 128 * 127, so two of them stay within +-32512: weights of -128 are outside
TFLite's int8 spec, and ops/conv.py keeps such layers off the int16 layout), which SXTH takes
out, and the rest shifted down is the high channel's sum. 2 channels x 2 taps in 10
instructions instead of 14.

A pointwise blob whose accumulators the host bounds below SMALL_BOUND also gets its
requantization records in small_records' form there, which tp_t1_pixels_w16_small and the M0
build of tp_output_rq_s8 turn into 3 products instead of 4.
"""

from __future__ import annotations

import numpy as np

from .pointwise import blob_blocks

GUARD = "defined(__ARM_ARCH_6M__)"


def _taps_from_w16(filter16: np.ndarray, taps: int) -> np.ndarray:
    """w[block, channel (4), tap] from interleave_w16's order (its [0, 2, 1, 3] per run of 4
    taps is its own inverse)."""
    w = np.asarray(filter16, np.int64).reshape(-1, taps // 4, 4, 4)[..., [0, 2, 1, 3]]
    return w.transpose(0, 2, 1, 3).reshape(-1, 4, taps)


def _pair_words(w: np.ndarray) -> np.ndarray:
    """The Thumb-1 words of w[block, channel (4), tap]: [block, tap, pair] as int64 values."""
    low, high = w[:, 0::2, :], w[:, 1::2, :]  # channels c0, c2 and c1, c3
    return (low + (high << 16)).transpose(0, 2, 1)


def thumb1_filter16(filter16: np.ndarray, output_c: int) -> np.ndarray:
    """tp_conv_w16_s8's filter16 (interleave_w16, output_c channels) in the Thumb-1 order, as
    int16 values of the same count (the little-endian halves of each word)."""
    taps = np.asarray(filter16).size // output_c
    words = _pair_words(_taps_from_w16(filter16, taps)).reshape(-1)
    return words.astype("<i4").view("<i2").astype(np.int16)


# Accumulators below this in magnitude take the requantization from three 32-bit products
# (tp_common.h tp_rq_small_high) instead of four.
SMALL_BOUND = 2**19
SMALL_FLAG = 0x100  # TP_RQ_SMALL, in a record's third word


def small_records(records: np.ndarray) -> np.ndarray:
    """requant_records' words [channel, 3] (multiplier m, rounding word, r - 1) in the form for
    accumulators below SMALL_BOUND (tp_common.h tp_rq_small_high): m mod 2^11 and
    floor(m / 2^11) mod 2^11 as the halves of the first word, the rounding word, and r - 1 with
    SMALL_FLAG and floor(m / 2^22) in the high half."""
    m = records[:, 0].astype(np.int64)
    if np.any(m < 0) or np.any(m >= 2**31):
        raise ValueError("requantization multipliers must lie in [0, 2^31)")
    first = (m & 0x7FF) | (((m >> 11) & 0x7FF) << 16)
    third = records[:, 2].astype(np.int64) | SMALL_FLAG | ((m >> 22) << 16)
    return np.stack([first, records[:, 1].astype(np.int64), third], axis=1)


def thumb1_pointwise_blob(blob: np.ndarray, k: int) -> np.ndarray:
    """A generated pointwise kernel's blob (pointwise_blob, K = k input channels) with each block's
    weight words in the Thumb-1 order; the bias stays, and the requantization words take
    small_records' form when every channel's accumulator stays below SMALL_BOUND (|bias| +
    128 * sum |w|, as ops/conv.py accumulator_bound; the kernel picks its loop by the first
    record)."""
    blocks = np.asarray(blob, np.int64).reshape(-1, 4 + 2 * k + 12)
    words = blocks[:, 4 : 4 + 2 * k].reshape(-1, k // 4, 2, 4)  # block, run, half, channel
    lo, hi = words & 0xFFFF, words >> 16  # lo: taps k, k+1; hi: taps k+2, k+3 (signed)
    lo = np.where(lo >= 0x8000, lo - 0x10000, lo)
    w = np.stack([lo[:, :, 0], lo[:, :, 1], hi[:, :, 0], hi[:, :, 1]], axis=-1)  # taps k..k+3
    w = w.transpose(0, 2, 1, 3).reshape(-1, 4, k)  # block, channel, tap
    bias = blocks[:, :4]
    records = blocks[:, 4 + 2 * k :].reshape(-1, 4, 3)
    if (np.abs(bias) + 128 * np.abs(w).sum(axis=2) < SMALL_BOUND).all():
        records = small_records(records.reshape(-1, 3)).reshape(-1, 4, 3)
    return blob_blocks(
        bias.reshape(-1), _pair_words(w).reshape(len(blocks), -1), records.reshape(-1), 4,
    )  # fmt: skip


def thumb1_depthwise_blob(blob: np.ndarray, taps: int) -> np.ndarray | None:
    """A generated depthwise kernel's blob (depthwise_gen.py depthwise_blob: per 4 channels c..c+3
    their bias, per tap the int16 pairs (w[c], w[c+2]) and (w[c+1], w[c+3]), 12 requantization
    words) with its records in small_records' form, when every channel's accumulator stays
    below SMALL_BOUND (|bias| + 128 * sum |w|); None when some may not (the blob stays)."""
    blocks = np.asarray(blob, np.int64).reshape(-1, 4 + 2 * taps + 12)
    words = blocks[:, 4 : 4 + 2 * taps].reshape(-1, taps, 2)  # block, tap, word
    lo, hi = words & 0xFFFF, words >> 16
    lo = np.where(lo >= 0x8000, lo - 0x10000, lo)
    w = np.stack([lo[..., 0], lo[..., 1], hi[..., 0], hi[..., 1]], axis=1)  # channels c..c+3
    if (np.abs(blocks[:, :4]) + 128 * np.abs(w).sum(axis=2) >= SMALL_BOUND).any():
        return None
    records = small_records(blocks[:, 4 + 2 * taps :].reshape(-1, 3)).reshape(len(blocks), 12)
    return np.concatenate([blocks[:, : 4 + 2 * taps], records], axis=1).reshape(-1)


def depthwise_taps(k_h: int, k_w: int, stride_w: int, cols: int) -> list[list[dict]] | None:
    """For the Thumb-1 taps of a generated depthwise kernel (depthwise_thumb1.j2): per pixel of
    the pair, per tap, the byte offset of its input column's pointer in the pair's table and of
    its first weight word in the block (after the 4 bias words); None when one is past the
    124 bytes LDR's immediate reaches (the kernel keeps its C loop)."""
    pixels = []
    for pixel in (0, 1):
        taps = []
        for ky in range(k_h):
            for kx in range(k_w):
                t = ky * k_w + kx
                taps.append({"col": 4 * (ky * cols + kx + pixel * stride_w), "w": 4 * (4 + 2 * t)})
        pixels.append(taps)
    if max(max(t["col"], t["w"] + 4) for taps in pixels for t in taps) > 124:
        return None
    return pixels
