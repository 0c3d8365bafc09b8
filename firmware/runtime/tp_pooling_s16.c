#include "tp_pooling_s16.h"

/* One pooled value per (output pixel, channel); `average` selects the reduction. */
static void pool(const tp_pooling_s16_params *p, const int16_t *input, int16_t *output,
                 int average)
{
    for (int32_t b = 0; b < p->batches; ++b) {
        const int16_t *in = input + b * p->in_h * p->in_w * p->depth;
        for (int32_t oy = 0; oy < p->out_h; ++oy) {
            const int32_t top = oy * p->stride_h - p->pad_h;
            const int32_t y0 = tp_max_i32(top, 0), y1 = tp_min_i32(top + p->filter_h, p->in_h);
            for (int32_t ox = 0; ox < p->out_w; ++ox) {
                const int32_t left = ox * p->stride_w - p->pad_w;
                const int32_t x0 = tp_max_i32(left, 0);
                const int32_t x1 = tp_min_i32(left + p->filter_w, p->in_w);
                /* Never zero: the host checked that every window overlaps the input. */
                const int32_t count = (y1 - y0) * (x1 - x0);
                for (int32_t c = 0; c < p->depth; ++c) {
                    int32_t acc = average ? 0 : -32768;
                    for (int32_t y = y0; y < y1; ++y) {
                        for (int32_t x = x0; x < x1; ++x) {
                            const int32_t v = in[(y * p->in_w + x) * p->depth + c];
                            acc = average ? acc + v : tp_max_i32(acc, v);
                        }
                    }
                    if (average) { /* divide rounding half away from zero */
                        acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
                    }
                    *output++ = (int16_t)tp_clamp_i32(acc, p->act_min, p->act_max);
                }
            }
        }
    }
}

void tp_average_pool_s16(const tp_pooling_s16_params *p, const int16_t *input, int16_t *output)
{
    pool(p, input, output, 1);
}

void tp_max_pool_s16(const tp_pooling_s16_params *p, const int16_t *input, int16_t *output)
{
    pool(p, input, output, 0);
}
