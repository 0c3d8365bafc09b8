#include "tp_add_s16.h"

static void add_row(const void *params, const int16_t *x1, int32_t s1, const int16_t *x2,
                    int32_t s2, int16_t *out, int32_t n)
{
    const tp_add_s16_params *p = (const tp_add_s16_params *)params;
    const int32_t left = p->left_shift, sign = p->subtract ? -1 : 1;
    const int32_t m1 = p->input1_multiplier, sh1 = p->input1_shift;
    const int32_t m2 = p->input2_multiplier, sh2 = p->input2_shift;
    const int32_t mo = p->output_multiplier, sho = p->output_shift;
    const int32_t lo = p->act_min, hi = p->act_max;
    for (int32_t i = 0; i < n; ++i) {
        const int32_t a = tp_requantize_nonneg(x1[i * s1] * (1 << left), m1, sh1);
        const int32_t b = tp_requantize_nonneg(x2[i * s2] * (1 << left), m2, sh2);
        const int32_t v = tp_requantize_nonneg(a + sign * b, mo, sho);
        out[i] = (int16_t)tp_clamp_i32(v, lo, hi);
    }
}

void tp_add_s16(const tp_add_s16_params *p, const int16_t *input1, const int16_t *input2,
                int16_t *output)
{
    tp_broadcast_rows_s16(&p->broadcast, add_row, p, input1, input2, output);
}
