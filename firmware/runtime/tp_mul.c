#include "tp_mul.h"

static int8_t mul_one(const tp_mul_params *p, int8_t x1, int8_t x2)
{
    const int32_t prod = (x1 + p->input1_offset) * (x2 + p->input2_offset);
    const int32_t out = tp_requantize(prod, p->output_multiplier, p->output_shift);
    return (int8_t)tp_clamp_i32(out + p->output_offset, p->act_min, p->act_max);
}

void tp_mul_s8(const tp_mul_params *p, const int8_t *input1, const int8_t *input2,
               int8_t *output)
{
    const int32_t *n = p->dims, *s1 = p->in1_stride, *s2 = p->in2_stride;
    for (int32_t i0 = 0; i0 < n[0]; ++i0) {
        for (int32_t i1 = 0; i1 < n[1]; ++i1) {
            for (int32_t i2 = 0; i2 < n[2]; ++i2) {
                const int8_t *x1 = input1 + i0 * s1[0] + i1 * s1[1] + i2 * s1[2];
                const int8_t *x2 = input2 + i0 * s2[0] + i1 * s2[1] + i2 * s2[2];
                for (int32_t i3 = 0; i3 < n[3]; ++i3) {
                    *output++ = mul_one(p, x1[i3 * s1[3]], x2[i3 * s2[3]]);
                }
            }
        }
    }
}
