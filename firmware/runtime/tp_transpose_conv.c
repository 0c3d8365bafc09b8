#include "tp_transpose_conv.h"

/* The taps along one axis that output coordinate o gathers: filter index *k + j * stride
 * meets input index *i - j, for j = 0 .. *count - 1, all inside the filter and the input. */
static void tp_transpose_taps(int32_t o, int32_t pad, int32_t stride, int32_t filter,
                              int32_t size, int32_t *k, int32_t *i, int32_t *count)
{
    const int32_t t = o + pad; /* >= 0: the host keeps pad < filter */
    int32_t k0 = t % stride, i0 = t / stride;
    if (i0 >= size) { /* the first taps fall past the input's end */
        k0 += (i0 - size + 1) * stride;
        i0 = size - 1;
    }
    const int32_t in_filter = k0 < filter ? (filter - k0 + stride - 1) / stride : 0;
    *k = k0;
    *i = i0;
    *count = in_filter < i0 + 1 ? in_filter : i0 + 1;
}

void tp_transpose_conv_s8(const tp_transpose_conv_params *p, const int8_t *input,
                          const int8_t *weights, int8_t *output)
{
    const tp_transpose_conv_geometry *g = &p->g;
    const int32_t taps = g->k_h * g->k_w * g->in_c; /* weights per output channel */
    for (int32_t n = 0; n < g->batches; ++n) {
        const int8_t *image = input + n * g->in_h * g->in_w * g->in_c;
        for (int32_t oy = 0; oy < g->out_h; ++oy) {
            int32_t ky0, iy0, rows;
            tp_transpose_taps(oy, g->pad_h, g->stride_h, g->k_h, g->in_h, &ky0, &iy0, &rows);
            for (int32_t ox = 0; ox < g->out_w; ++ox) {
                int32_t kx0, ix0, cols;
                tp_transpose_taps(ox, g->pad_w, g->stride_w, g->k_w, g->in_w, &kx0, &ix0, &cols);
                for (int32_t oc = 0; oc < g->out_c; ++oc) {
                    const int8_t *w_oc = weights + oc * taps;
                    const int32_t *wsum = p->weight_sum + oc * g->k_h * g->k_w;
                    int32_t acc = p->bias ? p->bias[oc] : 0;
                    for (int32_t r = 0; r < rows; ++r) {
                        const int32_t ky = ky0 + r * g->stride_h, iy = iy0 - r;
                        for (int32_t c = 0; c < cols; ++c) {
                            const int32_t tap = ky * g->k_w + kx0 + c * g->stride_w;
                            const int8_t *x = image + (iy * g->in_w + ix0 - c) * g->in_c;
                            acc = tp_dot_s8(x, w_oc + tap * g->in_c, g->in_c, acc);
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

void tp_transpose_conv_s16(const tp_transpose_conv_s16_params *p, const int16_t *input,
                           const int8_t *weights, int16_t *output)
{
    const tp_transpose_conv_geometry *g = &p->g;
    const int32_t taps = g->k_h * g->k_w * g->in_c; /* weights per output channel */
    for (int32_t n = 0; n < g->batches; ++n) {
        const int16_t *image = input + n * g->in_h * g->in_w * g->in_c;
        for (int32_t oy = 0; oy < g->out_h; ++oy) {
            int32_t ky0, iy0, rows;
            tp_transpose_taps(oy, g->pad_h, g->stride_h, g->k_h, g->in_h, &ky0, &iy0, &rows);
            for (int32_t ox = 0; ox < g->out_w; ++ox) {
                int32_t kx0, ix0, cols;
                tp_transpose_taps(ox, g->pad_w, g->stride_w, g->k_w, g->in_w, &kx0, &ix0, &cols);
                for (int32_t oc = 0; oc < g->out_c; ++oc) {
                    const int8_t *w_oc = weights + oc * taps;
                    int64_t acc = p->bias[oc];
                    for (int32_t r = 0; r < rows; ++r) {
                        const int32_t ky = ky0 + r * g->stride_h, iy = iy0 - r;
                        for (int32_t c = 0; c < cols; ++c) {
                            const int32_t tap = ky * g->k_w + kx0 + c * g->stride_w;
                            const int16_t *x = image + (iy * g->in_w + ix0 - c) * g->in_c;
                            acc = tp_dot_s16_s64(x, w_oc + tap * g->in_c, g->in_c, acc);
                        }
                    }
                    const int32_t v = tp_requantize_s64(acc, p->multiplier[oc], p->shift[oc]);
                    *output++ = (int16_t)tp_clamp_i32(v, p->act_min, p->act_max);
                }
            }
        }
    }
}
