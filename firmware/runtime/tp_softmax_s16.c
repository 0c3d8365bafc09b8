#include "tp_softmax_s16.h"

/* Leading zeros of a nonzero 32-bit value. */
static int32_t leading_zeros(uint32_t v)
{
    int32_t n = 0;
    while (!(v & 0x80000000u)) {
        v <<= 1;
        ++n;
    }
    return n;
}

void tp_softmax_s16(const tp_softmax_s16_params *p, const int16_t *input, int16_t *output)
{
    for (int32_t r = 0; r < p->rows; ++r) {
        const int16_t *x = input + r * p->depth;
        int16_t *y = output + r * p->depth;
        int32_t max = -32768;
        for (int32_t j = 0; j < p->depth; ++j) {
            max = tp_max_i32(max, x[j]);
        }
        int32_t sum = 0; /* Q16.15; the host bounds depth so it cannot overflow */
        for (int32_t j = 0; j < p->depth; ++j) {
            const int32_t scaled = tp_requantize(x[j] - max, p->input_multiplier, p->input_shift);
            y[j] = tp_lut_s16(tp_sat_s16(scaled + 32767), p->exp_lut);
            sum += y[j];
        }
        /* sum >= 1: the row's maximum itself contributes exp(0) */
        const int32_t headroom_plus_one = leading_zeros((uint32_t)sum);
        const int32_t shifted =
            (int32_t)((((int64_t)sum << (headroom_plus_one - 1)) + (1 << 13)) >> 14);
        /* the table takes x = sum - 1, recentred from [0, 65535] to [-32768, 32767] */
        const int16_t reciprocal =
            tp_lut_s16(tp_sat_s16(shifted - (1 << 15) - (1 << 16)), p->reciprocal_lut);
        const int32_t right_shift = 31 - headroom_plus_one;
        const int64_t round = (int64_t)1 << (right_shift - 1);
        for (int32_t j = 0; j < p->depth; ++j) {
            const int64_t v = ((int64_t)y[j] * reciprocal + round) >> right_shift;
            y[j] = (int16_t)(v < 0 ? 0 : (v > 32767 ? 32767 : v));
        }
    }
}
