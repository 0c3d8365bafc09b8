#include "tp_pooling.h"

/* The part of the filter window [f_start, f_end) that lies inside [0, in_size) when the window
 * starts at input coordinate `origin` (which may be negative inside the padding). */
static void window(int32_t origin, int32_t filter, int32_t in_size, int32_t *f_start,
                   int32_t *f_end)
{
    *f_start = tp_max_i32(0, -origin);
    *f_end = tp_min_i32(filter, in_size - origin);
}

void tp_average_pool_s8(const tp_pooling_params *p, const int8_t *input, int8_t *output)
{
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *in = input + b * p->in_h * p->in_w * p->depth;
        for (int32_t oy = 0; oy < p->out_h; ++oy) {
            const int32_t y0 = oy * p->stride_h - p->pad_h;
            int32_t fy_start, fy_end;
            window(y0, p->filter_h, p->in_h, &fy_start, &fy_end);
            for (int32_t ox = 0; ox < p->out_w; ++ox) {
                const int32_t x0 = ox * p->stride_w - p->pad_w;
                int32_t fx_start, fx_end;
                window(x0, p->filter_w, p->in_w, &fx_start, &fx_end);
                /* Never zero: the host checked that every window overlaps the input. */
                const int32_t count = (fy_end - fy_start) * (fx_end - fx_start);
                for (int32_t c = 0; c < p->depth; ++c) {
                    int32_t sum = 0;
                    for (int32_t fy = fy_start; fy < fy_end; ++fy) {
                        for (int32_t fx = fx_start; fx < fx_end; ++fx) {
                            sum += in[((y0 + fy) * p->in_w + (x0 + fx)) * p->depth + c];
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
            const int32_t y0 = oy * p->stride_h - p->pad_h;
            int32_t fy_start, fy_end;
            window(y0, p->filter_h, p->in_h, &fy_start, &fy_end);
            for (int32_t ox = 0; ox < p->out_w; ++ox) {
                const int32_t x0 = ox * p->stride_w - p->pad_w;
                int32_t fx_start, fx_end;
                window(x0, p->filter_w, p->in_w, &fx_start, &fx_end);
                for (int32_t c = 0; c < p->depth; ++c) {
                    int32_t max = -128;
                    for (int32_t fy = fy_start; fy < fy_end; ++fy) {
                        for (int32_t fx = fx_start; fx < fx_end; ++fx) {
                            max = tp_max_i32(
                                max, in[((y0 + fy) * p->in_w + (x0 + fx)) * p->depth + c]);
                        }
                    }
                    *output++ = (int8_t)tp_clamp_i32(max, p->act_min, p->act_max);
                }
            }
        }
    }
}
