#include "tp_relu_s16.h"

void tp_relu_s16(const tp_relu_s16_params *p, const int16_t *input, int16_t *output)
{
    for (int32_t i = 0; i < p->size; ++i) {
        const int32_t d = input[i] + p->input_offset;
        const int32_t v = d >= 0 ? tp_requantize(d, p->pos_multiplier, p->pos_shift)
                                 : tp_requantize(d, p->neg_multiplier, p->neg_shift);
        output[i] = (int16_t)tp_clamp_i32(p->output_offset + v, p->act_min, 32767);
    }
}
