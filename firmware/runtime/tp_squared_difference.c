#include "tp_squared_difference.h"

static int8_t squared_difference_one(const void *params, int8_t x1, int8_t x2)
{
    const tp_squared_difference_params *p = (const tp_squared_difference_params *)params;
    const int32_t v1 = (x1 + p->input1_offset) * (1 << p->left_shift);
    const int32_t v2 = (x2 + p->input2_offset) * (1 << p->left_shift);
    const int32_t a = tp_requantize(v1, p->input1_multiplier, p->input1_shift);
    const int32_t b = tp_requantize(v2, p->input2_multiplier, p->input2_shift);
    const int32_t out = tp_requantize((a - b) * (a - b), p->output_multiplier, p->output_shift);
    return tp_sat_s8(out + p->output_offset);
}

void tp_squared_difference_s8(const tp_squared_difference_params *p, const int8_t *input1,
                              const int8_t *input2, int8_t *output)
{
    tp_broadcast_s8(&p->broadcast, squared_difference_one, p, input1, input2, output);
}
