"""TFLite/gemmlowp fixed-point arithmetic, emulated exactly on Python integers.

The int8 activation ops (LOGISTIC, TANH, HARD_SWISH, ...) take only 256 distinct inputs, so
tinypipe evaluates their TFLM integer pipelines here, on the host, and ships the results as a
256-entry table. Each function below mirrors one integer primitive of TFLite's reference
kernels (gemmlowp's `fixedpoint.h` and TFLite's `common.h`), including int32/int16 wrap-around,
truncating C division and arithmetic right shifts, so the tables are bit-exact by construction.
No float math happens here except where TFLM's Prepare itself uses float/double.
"""

from __future__ import annotations

import math

import numpy as np

INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1
INT16_MIN, INT16_MAX = -(1 << 15), (1 << 15) - 1


def wrap(x: int, bits: int = 32) -> int:
    """Two's-complement wrap of `x` into a signed `bits`-bit integer (what the C cast does)."""
    m = 1 << bits
    x &= m - 1
    return x - m if x >= m >> 1 else x


def c_div(a: int, b: int) -> int:
    """C integer division: truncates toward zero."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def srdhm(a: int, b: int, bits: int = 32) -> int:
    """gemmlowp SaturatingRoundingDoublingHighMul: round(a * b / 2^(bits-1)), saturating MIN*MIN."""
    lo = -(1 << (bits - 1))
    if a == lo and b == lo:
        return -lo - 1
    ab = a * b
    nudge = (1 << (bits - 2)) if ab >= 0 else 1 - (1 << (bits - 2))
    return wrap(c_div(ab + nudge, 1 << (bits - 1)), bits)


def rdbpot(x: int, exponent: int, bits: int = 32) -> int:
    """gemmlowp RoundingDivideByPOT: x / 2^exponent rounded half away from zero.

    The mask is built as `(1ll << exponent) - 1` cast to the raw type, like gemmlowp's Dup."""
    mask = wrap((1 << exponent) - 1, bits)
    remainder = x & mask
    threshold = wrap((mask >> 1) + (1 if x < 0 else 0), bits)
    return wrap((x >> exponent) + (1 if remainder > threshold else 0), bits)


def mul_by_quantized_multiplier(x: int, multiplier: int, shift: int) -> int:
    """TFLM MultiplyByQuantizedMultiplier (double rounding): x * multiplier * 2^(shift - 31).
    The left shift wraps in int32 exactly as TFLM's `x * (1 << left_shift)` does on its targets."""
    left = shift if shift > 0 else 0
    right = -shift if shift < 0 else 0
    return rdbpot(srdhm(wrap(x * (1 << left)), multiplier), right)


def quantize_multiplier(real: float) -> tuple[int, int]:
    """TFLite QuantizeMultiplier as built into TFLM (double rounding: no clamp of shift > 30)."""
    if real == 0.0:
        return 0, 0
    q, shift = math.frexp(real)
    q_fixed = int(math.copysign(math.floor(abs(q) * (1 << 31) + 0.5), q))
    if q_fixed == (1 << 31):
        q_fixed //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    return q_fixed, shift


def calculate_input_radius(integer_bits: int, left_shift: int, total_bits: int = 31) -> int:
    """TFLite CalculateInputRadius: floor(max_input * 2^(total - int_bits) / 2^left_shift)."""
    value = ((1 << integer_bits) - 1) * float(1 << (total_bits - integer_bits)) / (1 << left_shift)
    return int(math.floor(value))


def _mul(a: int, b: int) -> int:
    """FixedPoint operator* on raw int32 values."""
    return srdhm(a, b)


def _mul_pot(x: int, exponent: int) -> int:
    """gemmlowp SaturatingRoundingMultiplyByPOT<exponent> on an int32 raw value."""
    if exponent == 0:
        return x
    if exponent < 0:
        return rdbpot(x, -exponent)
    threshold = (1 << (31 - exponent)) - 1
    if x > threshold:
        return INT32_MAX
    if x < -threshold:
        return INT32_MIN
    return wrap(x * (1 << exponent))


def rescale(x: int, src_int_bits: int, dst_int_bits: int) -> int:
    """gemmlowp Rescale<dst>(FixedPoint<int32, src>)."""
    return _mul_pot(x, src_int_bits - dst_int_bits)


def _exp_on_interval_between_negative_one_quarter_and_0_excl(a: int) -> int:
    """exp(a) for a in [-1/4, 0), Q0.31 in and out (Taylor series around -1/8)."""
    constant_term = 1895147668  # exp(-1/8)
    constant_1_over_3 = 715827883
    x = wrap(a + (1 << 28))  # a + 1/8
    x2 = _mul(x, x)
    x3 = _mul(x2, x)
    x4 = _mul(x2, x2)
    x4_over_4 = _mul_pot(x4, -2)
    poly = _mul_pot(wrap(_mul(wrap(x4_over_4 + x3), constant_1_over_3) + x2), -1)
    return wrap(constant_term + _mul(constant_term, wrap(x + poly)))


_EXP_BARREL = [  # (exponent, Q0.31 multiplier exp(-2^exponent))
    (-2, 1672461947),
    (-1, 1302514674),
    (0, 790015084),
    (1, 290630308),
    (2, 39332535),
    (3, 720401),
    (4, 242),
]


def exp_on_negative_values(a: int, integer_bits: int) -> int:
    """gemmlowp exp_on_negative_values: exp(a) for a <= 0 in Q(integer_bits), result Q0.31."""
    frac_bits = 31 - integer_bits
    one_quarter = 1 << (frac_bits - 2)
    mask = one_quarter - 1
    a_mod_quarter_minus_one_quarter = wrap((a & mask) - one_quarter)
    result = _exp_on_interval_between_negative_one_quarter_and_0_excl(
        rescale(a_mod_quarter_minus_one_quarter, integer_bits, 0)
    )
    remainder = wrap(a_mod_quarter_minus_one_quarter - a)
    for exponent, multiplier in _EXP_BARREL:
        if integer_bits > exponent:
            shift = frac_bits + exponent
            if remainder & (1 << shift):
                result = _mul(result, multiplier)
    if integer_bits > 5:
        clamp = -(1 << (36 - integer_bits))
        if a < clamp:
            result = 0
    if a == 0:
        result = INT32_MAX
    return result


def _newton_reciprocal_f2(half_denominator: int) -> int:
    """The 3-step Newton-Raphson 1/half_denominator of gemmlowp, as a Q2.29 raw value."""
    constant_48_over_17 = 1515870810
    constant_neg_32_over_17 = -1010580540
    one_f2 = 1 << 29
    x = wrap(constant_48_over_17 + _mul(half_denominator, constant_neg_32_over_17))
    for _ in range(3):
        half_denominator_times_x = _mul(half_denominator, x)
        one_minus = wrap(one_f2 - half_denominator_times_x)
        x = wrap(x + rescale(_mul(x, one_minus), 2 + 2, 2))
    return x


def _rounding_half_sum(a: int, b: int) -> int:
    s = a + b
    return wrap(c_div(s + (1 if s >= 0 else -1), 2))


def one_over_one_plus_x_for_x_in_0_1(a: int) -> int:
    """gemmlowp one_over_one_plus_x_for_x_in_0_1 on Q0.31 raw values."""
    half_denominator = _rounding_half_sum(a, INT32_MAX)
    x = _newton_reciprocal_f2(half_denominator)
    return rescale(x, 2 - 1, 0)  # Rescale<0>(ExactMulByPot<-1>(x)): Q1 -> Q0


def one_minus_x_over_one_plus_x_for_x_in_0_1(a: int) -> int:
    """gemmlowp one_minus_x_over_one_plus_x_for_x_in_0_1 on Q0.31 raw values."""
    half_denominator = _rounding_half_sum(a, INT32_MAX)
    x = _newton_reciprocal_f2(half_denominator)
    return rescale(wrap(x - (1 << 29)), 2, 0)


def logistic(a: int, integer_bits: int) -> int:
    """gemmlowp logistic: 1 / (1 + exp(-a)) for a in Q(integer_bits), result Q0.31."""
    if a == 0:
        return 1 << 30
    abs_a = a if a > 0 else wrap(-a)
    positive = one_over_one_plus_x_for_x_in_0_1(exp_on_negative_values(wrap(-abs_a), integer_bits))
    return positive if a > 0 else wrap(INT32_MAX - positive)


def tanh(a: int, integer_bits: int) -> int:
    """gemmlowp tanh for a in Q(integer_bits), result Q0.31."""
    if a == 0:
        return 0
    n = a if a < 0 else wrap(-a)  # -|a|
    # neg_tanh_on_negative_values: ExactMulByPot<1> reinterprets n as Q(integer_bits + 1)
    t = one_minus_x_over_one_plus_x_for_x_in_0_1(exp_on_negative_values(n, integer_bits + 1))
    return wrap(-t) if a < 0 else t


def int8_inputs() -> np.ndarray:
    """All int8 values, ordered by their byte value: the table index is (uint8_t)x."""
    return np.arange(256, dtype=np.uint8).view(np.int8).astype(np.int64)
