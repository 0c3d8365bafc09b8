"""TFLM's int16 sigmoid and tanh (reference_integer_ops::Logistic / Tanh on int16).

Both read one 256-entry table of sigmoid(i / 24) in Q0.16 with linear interpolation, after the
input is scaled by `multiplier >> shift` (multiplier 3 scales Q3.12 onto the table's grid; tanh
uses tanh(x) = 2 sigmoid(2x) - 1 and reads the table at twice the step). The device does this in
tp_act_s16.c; this module makes the table and the (multiplier, shift) pairs, and emulates the
functions for tests and host-side checks.
"""

from __future__ import annotations

import math

import numpy as np

# TFLM's table is round(2^16 sigmoid(i / 24)) except at these entries, which hold one more
# (its table was computed at a lower precision; the values are matched, not recomputed).
_ONE_HIGHER = (
    4, 8, 12, 14, 15, 16, 17, 19, 20, 21, 22, 25, 27, 28, 29, 30, 31, 33, 34, 35, 37, 39, 40, 41,
    43, 44, 45, 46, 49, 50, 54, 62, 63, 64, 66, 82, 86, 93, 100, 103, 112, 116, 135, 255,
)  # fmt: skip


def sigmoid_table() -> np.ndarray:
    """The 256 uint16 entries of TFLM's sigmoid_table_uint16."""
    table = [math.floor(65536.0 / (1.0 + math.exp(-i / 24.0)) + 0.5) for i in range(256)]
    for i in _ONE_HIGHER:
        table[i] += 1
    return np.asarray(table, np.uint16)


def scaling(multiplier: int, left_shift: int) -> tuple[int, int]:
    """(multiplier, right shift) the kernels apply, as TFLM resolves its "power of two case"
    (multiplier 0 means 3 << left_shift and no right shift)."""
    if multiplier == 0:
        return 3 << left_shift, 0
    return multiplier, left_shift


def tanh_scaling(scale_power: int) -> tuple[int, int]:
    """(multiplier, right shift) of TFLM's LSTM tanh for an input of scale 2^scale_power."""
    left = 15 + scale_power - 3
    if left < 0:
        return scaling(3, -left)
    return scaling(0, left)


def _scaled(x: int, multiplier: int, shift: int) -> int:
    rounding = (1 << (shift - 1)) if shift > 0 else 0
    return (x * multiplier + rounding) >> shift


def sigmoid(x: int, multiplier: int, shift: int, table: np.ndarray) -> int:
    v = _scaled(x, multiplier, shift)
    a = abs(v)
    uh = a >> 9
    if uh >= 255:
        r = 0x7FFF << 10
    else:
        ua, ub = int(table[uh]), int(table[uh + 1])
        r = (ua << 9) + (a & 0x1FF) * (ub - ua)
    r = r + (1 << 9) if v >= 0 else (1 << 25) - r + (1 << 9) - 1
    return r >> 10


def tanh(x: int, multiplier: int, shift: int, table: np.ndarray) -> int:
    v = _scaled(x, multiplier, shift)
    a = abs(v)
    uh = a >> 8
    if uh >= 255:
        r = 0xFFFF << 8
    else:
        ua, ub = int(table[uh]), int(table[uh + 1])
        r = (ua << 8) + (a & 0xFF) * (ub - ua)
    r = r - (1 << 23) + (1 << 7) if v >= 0 else -r + (1 << 23) + (1 << 7) - 1
    return r >> 8
