#include "tp_transpose_conv.h"

/* The input index i with i * stride = o + pad - k, or -1 if there is none inside [0, size). */
static int32_t source_index(int32_t o, int32_t k, int32_t pad, int32_t stride, int32_t size)
{
    const int32_t t = o + pad - k;
    if (t < 0 || t % stride != 0 || t / stride >= size) {
        return -1;
    }
    return t / stride;
}

void tp_transpose_conv_s8(const tp_transpose_conv_params *p, const int8_t *input,
                          const int8_t *weights, int8_t *output)
{
    const int32_t taps = p->k_h * p->k_w * p->in_c; /* weights per output channel */
    for (int32_t n = 0; n < p->batches; ++n) {
        const int8_t *image = input + n * p->in_h * p->in_w * p->in_c;
        for (int32_t oy = 0; oy < p->out_h; ++oy) {
            for (int32_t ox = 0; ox < p->out_w; ++ox) {
                for (int32_t oc = 0; oc < p->out_c; ++oc) {
                    int32_t acc = p->bias ? p->bias[oc] : 0;
                    for (int32_t ky = 0; ky < p->k_h; ++ky) {
                        const int32_t iy = source_index(oy, ky, p->pad_h, p->stride_h, p->in_h);
                        if (iy < 0) {
                            continue;
                        }
                        for (int32_t kx = 0; kx < p->k_w; ++kx) {
                            const int32_t ix =
                                source_index(ox, kx, p->pad_w, p->stride_w, p->in_w);
                            if (ix < 0) {
                                continue;
                            }
                            const int8_t *x = image + (iy * p->in_w + ix) * p->in_c;
                            const int8_t *w = weights + oc * taps + (ky * p->k_w + kx) * p->in_c;
                            for (int32_t ic = 0; ic < p->in_c; ++ic) {
                                acc += (x[ic] + p->input_offset) * w[ic];
                            }
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
