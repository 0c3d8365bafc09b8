#include "tp_mul_s16.h"

static int16_t mul_one(const void *params, int16_t x1, int16_t x2)
{
    const tp_mul_s16_params *p = (const tp_mul_s16_params *)params;
    const int32_t v = tp_requantize_nonneg((int32_t)x1 * (int32_t)x2, p->output_multiplier,
                                           p->output_shift);
    return (int16_t)tp_clamp_i32(v, p->act_min, p->act_max);
}

void tp_mul_s16(const tp_mul_s16_params *p, const int16_t *input1, const int16_t *input2,
                int16_t *output)
{
    tp_broadcast_s16(&p->broadcast, mul_one, p, input1, input2, output);
}
