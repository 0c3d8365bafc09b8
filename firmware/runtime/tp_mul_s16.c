#include "tp_mul_s16.h"

static void mul_row(const void *params, const int16_t *x1, int32_t s1, const int16_t *x2,
                    int32_t s2, int16_t *out, int32_t n)
{
    const tp_mul_s16_params *p = (const tp_mul_s16_params *)params;
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
    tp_broadcast_rows_s16(&p->broadcast, mul_row, p, input1, input2, output);
}
