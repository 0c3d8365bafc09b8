#include "tp_resize.h"

#include <string.h>

void tp_resize_nearest_s8(const tp_resize_nearest_params *p, const int8_t *input,
                          int8_t *output)
{
    const int32_t row = p->in_w * p->depth;
    for (int32_t n = 0; n < p->batches; ++n) {
        const int8_t *image = input + n * p->in_h * row;
        for (int32_t y = 0; y < p->out_h; ++y) {
            const int8_t *src_row = image + p->y_src[y] * row;
            for (int32_t x = 0; x < p->out_w; ++x) {
                memcpy(output, src_row + p->x_src[x] * p->depth, (size_t)p->depth);
                output += p->depth;
            }
        }
    }
}

void tp_resize_bilinear_s8(const tp_resize_bilinear_params *p, const int8_t *input,
                           int8_t *output)
{
    const int32_t row = p->in_w * p->depth, one = 1 << 10;
    for (int32_t n = 0; n < p->batches; ++n) {
        const int8_t *image = input + n * p->in_h * row;
        for (int32_t y = 0; y < p->out_h; ++y) {
            const int8_t *lo = image + p->y_lo[y] * row, *hi = image + p->y_hi[y] * row;
            const int32_t fy = p->y_frac[y];
            for (int32_t x = 0; x < p->out_w; ++x) {
                const int32_t fx = p->x_frac[x];
                const int32_t w_ll = (one - fy) * (one - fx), w_hl = fy * (one - fx);
                const int32_t w_lh = (one - fy) * fx, w_hh = fy * fx;
                const int8_t *ll = lo + p->x_lo[x] * p->depth, *lh = lo + p->x_hi[x] * p->depth;
                const int8_t *hl = hi + p->x_lo[x] * p->depth, *hh = hi + p->x_hi[x] * p->depth;
                for (int32_t c = 0; c < p->depth; ++c) {
                    /* the host checks that the weights keep s inside int32 */
                    const int32_t s = ll[c] * w_ll + hl[c] * w_hl + lh[c] * w_lh + hh[c] * w_hh;
                    const int32_t half = s > 0 ? 1 << 19 : -(1 << 19);
                    *output++ = (int8_t)((s + half) / (1 << 20));
                }
            }
        }
    }
}
