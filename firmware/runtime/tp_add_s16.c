#include "tp_add_s16.h"

static int16_t add_one(const void *params, int16_t x1, int16_t x2)
{
    const tp_add_s16_params *p = (const tp_add_s16_params *)params;
    const int32_t a = tp_requantize(x1 * (1 << p->left_shift), p->input1_multiplier,
                                    p->input1_shift);
    const int32_t b = tp_requantize(x2 * (1 << p->left_shift), p->input2_multiplier,
                                    p->input2_shift);
    const int32_t raw = p->subtract ? a - b : a + b;
    const int32_t v = tp_requantize(raw, p->output_multiplier, p->output_shift);
    return (int16_t)tp_clamp_i32(v, p->act_min, p->act_max);
}

void tp_add_s16(const tp_add_s16_params *p, const int16_t *input1, const int16_t *input2,
                int16_t *output)
{
    tp_broadcast_s16(&p->broadcast, add_one, p, input1, input2, output);
}
