#include "tp_softmax.h"

#define TP_ACCUM_INTEGER_BITS 12 /* the sum of exps is Q12.19 */

/* Leading zero bits of a non-zero 32-bit value. */
static int tp_clz32(uint32_t x)
{
    int n = 0;
    while (!(x & 0x80000000u)) {
        x <<= 1;
        ++n;
    }
    return n;
}

/* x * 2^exponent for 0 < exponent < 31, saturating to the int32 range. */
static int32_t tp_saturating_shift_left(int32_t x, int exponent)
{
    const int32_t threshold = (int32_t)((1u << (31 - exponent)) - 1u);
    if (x > threshold) {
        return INT32_MAX;
    }
    if (x < -threshold) {
        return INT32_MIN;
    }
    return (int32_t)((uint32_t)x << exponent);
}

/* 1 / (1 + a) for a in [0, 1), all Q0.31: three Newton-Raphson steps on the half denominator,
 * in Q2.29 (gemmlowp's one_over_one_plus_x_for_x_in_0_1). */
static int32_t tp_one_over_one_plus_x(int32_t a)
{
    const int32_t one_q2 = (int32_t)1 << 29;
    const int64_t sum = (int64_t)a + INT32_MAX;
    const int32_t half_denominator = (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
    int32_t x = 1515870810 /* 48/17 in Q2.29 */ +
                tp_sat_rounding_doubling_high_mul(half_denominator, -1010580540 /* -32/17 */);
    for (int i = 0; i < 3; ++i) {
        const int32_t one_minus = one_q2 - tp_sat_rounding_doubling_high_mul(half_denominator, x);
        x += tp_saturating_shift_left(tp_sat_rounding_doubling_high_mul(x, one_minus), 2);
    }
    /* x is 2 / (1 + a) in Q2.29, i.e. 1 / (1 + a) in Q1.30: rescale to Q0.31, saturating. */
    return tp_saturating_shift_left(x, 1);
}

/* round(x / 2^exponent) for x >= 0 and any exponent >= 0. TFLM stops (TFLITE_CHECK) when the
 * exponent exceeds 31, which needs a row of >= 512 near-maximal values; tinypipe rounds instead. */
static int32_t tp_rounding_divide_wide(int32_t x, int exponent)
{
    if (exponent <= 31) {
        return tp_rounding_divide_by_pot(x, exponent);
    }
    return (int32_t)(((int64_t)x + ((int64_t)1 << (exponent - 1))) >> exponent);
}

void tp_softmax_s8(const tp_softmax_params *p, const int8_t *input, int8_t *output)
{
    for (int32_t r = 0; r < p->rows; ++r) {
        const int8_t *x = input + r * p->depth;
        int8_t *y = output + r * p->depth;

        int32_t max = -128;
        for (int32_t c = 0; c < p->depth; ++c) {
            max = tp_max_i32(max, x[c]);
        }

        int32_t sum = 0; /* Q12.19: each Q0.31 exp is rescaled before it is added */
        for (int32_t c = 0; c < p->depth; ++c) {
            sum += tp_rounding_divide_by_pot(p->exp[max - x[c]], TP_ACCUM_INTEGER_BITS);
        }

        /* sum = (1 + f) * 2^bits_over_unit with f in [0, 1) (sum >= 1: the maximum's exp is 1);
         * scale = 1 / (1 + f) in Q0.31, and the power of two goes into the final shift. */
        const int headroom_plus_one = tp_clz32((uint32_t)sum);
        const int bits_over_unit = TP_ACCUM_INTEGER_BITS - headroom_plus_one;
        const int32_t shifted_sum_minus_one =
            (int32_t)(((uint32_t)sum << headroom_plus_one) - 0x80000000u);
        const int32_t scale = tp_one_over_one_plus_x(shifted_sum_minus_one);
        const int exponent = bits_over_unit + 31 - 8;

        for (int32_t c = 0; c < p->depth; ++c) {
            const int32_t e = p->exp[max - x[c]];
            const int32_t prob = tp_sat_rounding_doubling_high_mul(scale, e);
            y[c] = tp_sat_s8(tp_rounding_divide_wide(prob, exponent) - 128);
        }
    }
}
