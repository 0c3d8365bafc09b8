#include "tp_mul_s16.h"

/* One innermost row of the broadcast: n outputs from inputs `s1` and `s2` elements apart
 * (0 where broadcast). The parameters sit in locals for the whole row. */
static void mul_row(const tp_mul_s16_params *p, const int16_t *x1, int32_t s1,
                    const int16_t *x2, int32_t s2, int16_t *out, int32_t n)
{
    const int32_t multiplier = p->output_multiplier, shift = p->output_shift;
    const int32_t lo = p->act_min, hi = p->act_max;
    if (shift <= -2) { /* the usual case: tp_requantize_nonneg's one-multiply branch */
        for (int32_t i = 0; i < n; ++i) {
            const int32_t prod = (int32_t)x1[i * s1] * (int32_t)x2[i * s2];
            out[i] = (int16_t)tp_clamp_i32(tp_requantize_nonneg(prod, multiplier, shift), lo, hi);
        }
        return;
    }
    for (int32_t i = 0; i < n; ++i) {
        const int32_t prod = (int32_t)x1[i * s1] * (int32_t)x2[i * s2];
        out[i] = (int16_t)tp_clamp_i32(tp_requantize_nonneg(prod, multiplier, shift), lo, hi);
    }
}

void tp_mul_s16(const tp_mul_s16_params *p, const int16_t *input1, const int16_t *input2,
                int16_t *output)
{
    const int32_t *n = p->broadcast.dims, *s1 = p->broadcast.in1_stride,
                  *s2 = p->broadcast.in2_stride;
    for (int32_t i0 = 0; i0 < n[0]; ++i0) {
        for (int32_t i1 = 0; i1 < n[1]; ++i1) {
            for (int32_t i2 = 0; i2 < n[2]; ++i2) {
                const int16_t *x1 = input1 + i0 * s1[0] + i1 * s1[1] + i2 * s1[2];
                const int16_t *x2 = input2 + i0 * s2[0] + i1 * s2[1] + i2 * s2[2];
                mul_row(p, x1, s1[3], x2, s2[3], output, n[3]);
                output += n[3];
            }
        }
    }
}
