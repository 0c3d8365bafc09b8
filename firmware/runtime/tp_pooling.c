#include "tp_pooling.h"

/* The window of output pixel (oy, ox) clipped to the input: input rows [y0, y1) and columns
 * [x0, x1). Its corner (oy * stride_h - pad_h, ox * stride_w - pad_w) may lie in the padding. */
typedef struct {
    int32_t y0, y1, x0, x1;
} pool_window;

static pool_window window_at(const tp_pooling_params *p, int32_t oy, int32_t ox)
{
    const int32_t top = oy * p->stride_h - p->pad_h;
    const int32_t left = ox * p->stride_w - p->pad_w;
    pool_window w;
    w.y0 = tp_max_i32(top, 0);
    w.y1 = tp_min_i32(top + p->filter_h, p->in_h);
    w.x0 = tp_max_i32(left, 0);
    w.x1 = tp_min_i32(left + p->filter_w, p->in_w);
    return w;
}

void tp_average_pool_s8(const tp_pooling_params *p, const int8_t *input, int8_t *output)
{
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *in = input + b * p->in_h * p->in_w * p->depth;
        for (int32_t oy = 0; oy < p->out_h; ++oy) {
            for (int32_t ox = 0; ox < p->out_w; ++ox) {
                const pool_window w = window_at(p, oy, ox);
                /* Never zero: the host checked that every window overlaps the input. */
                const int32_t count = (w.y1 - w.y0) * (w.x1 - w.x0);
                for (int32_t c = 0; c < p->depth; ++c) {
                    int32_t sum = 0;
                    for (int32_t y = w.y0; y < w.y1; ++y) {
                        for (int32_t x = w.x0; x < w.x1; ++x) {
                            sum += in[(y * p->in_w + x) * p->depth + c];
                        }
                    }
                    /* Divide rounding half away from zero (C division truncates). */
                    const int32_t avg =
                        sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
                    *output++ = (int8_t)tp_clamp_i32(avg, p->act_min, p->act_max);
                }
            }
        }
    }
}

void tp_max_pool_s8(const tp_pooling_params *p, const int8_t *input, int8_t *output)
{
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *in = input + b * p->in_h * p->in_w * p->depth;
        for (int32_t oy = 0; oy < p->out_h; ++oy) {
            for (int32_t ox = 0; ox < p->out_w; ++ox) {
                const pool_window w = window_at(p, oy, ox);
                for (int32_t c = 0; c < p->depth; ++c) {
                    int32_t max = -128;
                    for (int32_t y = w.y0; y < w.y1; ++y) {
                        for (int32_t x = w.x0; x < w.x1; ++x) {
                            max = tp_max_i32(max, in[(y * p->in_w + x) * p->depth + c]);
                        }
                    }
                    *output++ = (int8_t)tp_clamp_i32(max, p->act_min, p->act_max);
                }
            }
        }
    }
}
