#include "tp_transpose_conv.h"

/* The first tap k >= 0 with o + pad - k = i * stride for some input index i, and that i. */
static void first_tap(int32_t o, int32_t pad, int32_t stride, int32_t *k, int32_t *i)
{
    const int32_t t = o + pad; /* >= 0: pad <= (k - 1) and o >= 0 */
    *k = t % stride;
    *i = t / stride;
}

void tp_transpose_conv_s8(const tp_transpose_conv_params *p, const int8_t *input,
                          const int8_t *weights, int8_t *output)
{
    const int32_t taps = p->k_h * p->k_w * p->in_c; /* weights per output channel */
    for (int32_t n = 0; n < p->batches; ++n) {
        const int8_t *image = input + n * p->in_h * p->in_w * p->in_c;
        for (int32_t oy = 0; oy < p->out_h; ++oy) {
            int32_t ky0, iy0;
            first_tap(oy, p->pad_h, p->stride_h, &ky0, &iy0);
            for (int32_t ox = 0; ox < p->out_w; ++ox) {
                int32_t kx0, ix0;
                first_tap(ox, p->pad_w, p->stride_w, &kx0, &ix0);
                for (int32_t oc = 0; oc < p->out_c; ++oc) {
                    const int8_t *w_oc = weights + oc * taps;
                    const int32_t *wsum = p->weight_sum + oc * p->k_h * p->k_w;
                    int32_t acc = p->bias ? p->bias[oc] : 0;
                    for (int32_t ky = ky0, iy = iy0; ky < p->k_h && iy >= 0;
                         ky += p->stride_h, --iy) {
                        if (iy >= p->in_h) {
                            continue;
                        }
                        for (int32_t kx = kx0, ix = ix0; kx < p->k_w && ix >= 0;
                             kx += p->stride_w, --ix) {
                            if (ix >= p->in_w) {
                                continue;
                            }
                            const int32_t tap = ky * p->k_w + kx;
                            const int8_t *x = image + (iy * p->in_w + ix) * p->in_c;
                            acc = tp_dot_s8(x, w_oc + tap * p->in_c, p->in_c, acc);
                            acc += p->input_offset * wsum[tap];
                        }
                    }
                    acc = tp_requantize(acc, p->multiplier[oc], p->shift[oc]);
                    *output++ = (int8_t)tp_clamp_i32(acc + p->output_offset, p->act_min,
                                                     p->act_max);
                }
            }
        }
    }
}
