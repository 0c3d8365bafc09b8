#include "tp_sub.h"

static int8_t sub_one(const void *params, int8_t x1, int8_t x2)
{
    const tp_sub_params *p = (const tp_sub_params *)params;
    const int32_t v1 = (x1 + p->input1_offset) * (1 << p->left_shift);
    const int32_t v2 = (x2 + p->input2_offset) * (1 << p->left_shift);
    const int32_t a = tp_requantize(v1, p->input1_multiplier, p->input1_shift);
    const int32_t b = tp_requantize(v2, p->input2_multiplier, p->input2_shift);
    const int32_t diff = tp_requantize(a - b, p->output_multiplier, p->output_shift);
    return (int8_t)tp_clamp_i32(diff + p->output_offset, p->act_min, p->act_max);
}

void tp_sub_s8(const tp_sub_params *p, const int8_t *input1, const int8_t *input2,
               int8_t *output)
{
    tp_broadcast_s8(&p->broadcast, sub_one, p, input1, input2, output);
}
