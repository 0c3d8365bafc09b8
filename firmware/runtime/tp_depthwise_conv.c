#include "tp_depthwise_conv.h"

void tp_depthwise_conv_s8(const tp_depthwise_conv_params *p, const int8_t *input,
                          const int8_t *filter, const int32_t *bias, int8_t *output)
{
    /* Local copies: the int8 output stores could alias *p, which would force reloads. */
    const int32_t in_h = p->input_h, in_w = p->input_w, in_c = p->input_c;
    const int32_t k_h = p->filter_h, k_w = p->filter_w, mult = p->depth_multiplier;
    const int32_t out_h = p->output_h, out_w = p->output_w, out_c = in_c * mult;
    const int32_t stride_h = p->stride_h, stride_w = p->stride_w;
    const int32_t dil_h = p->dilation_h, dil_w = p->dilation_w;
    const int32_t input_offset = p->input_offset, output_offset = p->output_offset;
    const int32_t act_min = p->act_min, act_max = p->act_max;
    const int32_t filter_row = k_w * out_c; /* one ky row of the filter */
    const int32_t input_row = in_w * in_c;

    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *in_b = input + b * in_h * input_row;
        for (int32_t y = 0; y < out_h; ++y) {
            const int32_t iy0 = y * stride_h - p->pad_h;
            int32_t ky0, ky1;
            tp_tap_range(iy0, dil_h, in_h, k_h, &ky0, &ky1);
            for (int32_t x = 0; x < out_w; ++x) {
                const int32_t ix0 = x * stride_w - p->pad_w;
                int32_t kx0, kx1;
                tp_tap_range(ix0, dil_w, in_w, k_w, &kx0, &kx1);
                int8_t *out = output + ((b * out_h + y) * out_w + x) * out_c;
                for (int32_t ic = 0; ic < in_c; ++ic) {
                    for (int32_t m = 0; m < mult; ++m) {
                        const int32_t oc = ic * mult + m;
                        int32_t acc = 0;
                        for (int32_t ky = ky0; ky < ky1; ++ky) {
                            const int8_t *in_row = in_b + (iy0 + ky * dil_h) * input_row + ic;
                            const int8_t *w_row = filter + ky * filter_row + oc;
                            for (int32_t kx = kx0; kx < kx1; ++kx) {
                                const int32_t x_in = in_row[(ix0 + kx * dil_w) * in_c];
                                acc += (int32_t)w_row[kx * out_c] * (x_in + input_offset);
                            }
                        }
                        if (bias) {
                            acc += bias[oc];
                        }
                        acc = tp_requantize(acc, p->multiplier[oc], p->shift[oc]) + output_offset;
                        out[oc] = (int8_t)tp_clamp_i32(acc, act_min, act_max);
                    }
                }
            }
        }
    }
}
