#include "tp_fully_connected_s16.h"

void tp_fully_connected_s16(const tp_fully_connected_s16_params *p, const int16_t *input,
                            const int8_t *weights, int16_t *output)
{
    for (int32_t b = 0; b < p->batches; ++b) {
        const int16_t *x = input + b * p->in_features;
        for (int32_t o = 0; o < p->out_features; ++o) {
            const int8_t *w = weights + o * p->in_features;
            const int64_t acc = tp_dot_s16_s64(x, w, p->in_features, p->bias[o]);
            const int32_t v = tp_rescale_s16(acc, p->wide, p->multiplier[o], p->shift[o]);
            *output++ = (int16_t)tp_clamp_i32(v, p->act_min, p->act_max);
        }
    }
}
