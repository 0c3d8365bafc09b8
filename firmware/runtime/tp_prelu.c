#include "tp_prelu.h"

static int8_t prelu_one(const void *params, int8_t in, int8_t alpha)
{
    const tp_prelu_params *p = (const tp_prelu_params *)params;
    const int32_t x = in + p->input_offset;
    int32_t out;
    if (x >= 0) {
        out = tp_requantize(x, p->multiplier_pos, p->shift_pos);
    } else {
        out = tp_requantize(x * (alpha + p->alpha_offset), p->multiplier_neg, p->shift_neg);
    }
    return tp_sat_s8(out + p->output_offset);
}

void tp_prelu_s8(const tp_prelu_params *p, const int8_t *input, const int8_t *alpha,
                 int8_t *output)
{
    tp_broadcast_s8(&p->broadcast, prelu_one, p, input, alpha, output);
}
