#include "tp_fully_connected.h"

void tp_fully_connected_s8(const tp_fully_connected_params *p, const int8_t *input,
                           const int8_t *weights, const int32_t *bias, int8_t *output)
{
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *x = input + b * p->in_features;
        for (int32_t o = 0; o < p->out_features; ++o) {
            const int8_t *w = weights + o * p->in_features;
            int32_t acc = 0;
            for (int32_t d = 0; d < p->in_features; ++d) {
                acc += ((int32_t)x[d] + p->input_offset) * ((int32_t)w[d] + p->filter_offset);
            }
            if (bias) {
                acc += bias[o];
            }
            acc = tp_requantize(acc, p->multiplier[o], p->shift[o]) + p->output_offset;
            output[b * p->out_features + o] = (int8_t)tp_clamp_i32(acc, p->act_min, p->act_max);
        }
    }
}
