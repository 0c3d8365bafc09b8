#include "tp_mul.h"

static int8_t mul_one(const void *params, int8_t x1, int8_t x2)
{
    const tp_mul_params *p = (const tp_mul_params *)params;
    const int32_t prod = (x1 + p->input1_offset) * (x2 + p->input2_offset);
    const int32_t out = tp_requantize(prod, p->output_multiplier, p->output_shift);
    return (int8_t)tp_clamp_i32(out + p->output_offset, p->act_min, p->act_max);
}

void tp_mul_s8(const tp_mul_params *p, const int8_t *input1, const int8_t *input2,
               int8_t *output)
{
    tp_broadcast_s8(&p->broadcast, mul_one, p, input1, input2, output);
}
