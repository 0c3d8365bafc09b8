#include "tp_conv_s16.h"

static int16_t conv_out(const tp_conv_s16_params *p, int32_t oc, int64_t acc)
{
    const int32_t v = tp_rescale_s16(acc, p->wide, p->multiplier[oc], p->shift[oc]);
    return (int16_t)tp_clamp_i32(v, p->act_min, p->act_max);
}

void tp_conv_s16(const tp_conv_s16_params *p, const int16_t *input, const int8_t *filter,
                 int16_t *output)
{
    const int32_t per_group = p->output_c / p->groups;
    const int32_t filter_size = p->filter_h * p->filter_w * p->filter_c;
    for (int32_t b = 0; b < p->batches; ++b) {
        const int16_t *image = input + b * p->input_h * p->input_w * p->input_c;
        for (int32_t y = 0; y < p->output_h; ++y) {
            const int32_t iy0 = y * p->stride_h - p->pad_h;
            int32_t ky0, ky1;
            tp_tap_range(iy0, p->dilation_h, p->input_h, p->filter_h, &ky0, &ky1);
            for (int32_t x = 0; x < p->output_w; ++x) {
                const int32_t ix0 = x * p->stride_w - p->pad_w;
                int32_t kx0, kx1;
                tp_tap_range(ix0, p->dilation_w, p->input_w, p->filter_w, &kx0, &kx1);
                for (int32_t oc = 0; oc < p->output_c; ++oc) {
                    const int32_t channel0 = (oc / per_group) * p->filter_c;
                    const int8_t *w = filter + oc * filter_size;
                    int64_t acc = p->bias[oc];
                    for (int32_t ky = ky0; ky < ky1; ++ky) {
                        const int32_t iy = iy0 + ky * p->dilation_h;
                        for (int32_t kx = kx0; kx < kx1; ++kx) {
                            const int32_t ix = ix0 + kx * p->dilation_w;
                            const int16_t *in = image + (iy * p->input_w + ix) * p->input_c;
                            acc = tp_dot_s16_s64(in + channel0,
                                                 w + (ky * p->filter_w + kx) * p->filter_c,
                                                 p->filter_c, acc);
                        }
                    }
                    *output++ = conv_out(p, oc, acc);
                }
            }
        }
    }
}

void tp_depthwise_conv_s16(const tp_conv_s16_params *p, const int16_t *input,
                           const int8_t *filter, int16_t *output)
{
    for (int32_t b = 0; b < p->batches; ++b) {
        const int16_t *image = input + b * p->input_h * p->input_w * p->input_c;
        for (int32_t y = 0; y < p->output_h; ++y) {
            const int32_t iy0 = y * p->stride_h - p->pad_h;
            int32_t ky0, ky1;
            tp_tap_range(iy0, p->dilation_h, p->input_h, p->filter_h, &ky0, &ky1);
            for (int32_t x = 0; x < p->output_w; ++x) {
                const int32_t ix0 = x * p->stride_w - p->pad_w;
                int32_t kx0, kx1;
                tp_tap_range(ix0, p->dilation_w, p->input_w, p->filter_w, &kx0, &kx1);
                for (int32_t oc = 0; oc < p->output_c; ++oc) {
                    const int32_t ic = oc / p->depth_multiplier;
                    int64_t acc = p->bias[oc];
                    for (int32_t ky = ky0; ky < ky1; ++ky) {
                        const int32_t iy = iy0 + ky * p->dilation_h;
                        for (int32_t kx = kx0; kx < kx1; ++kx) {
                            const int32_t ix = ix0 + kx * p->dilation_w;
                            const int32_t xv = image[(iy * p->input_w + ix) * p->input_c + ic];
                            const int32_t wv = filter[(ky * p->filter_w + kx) * p->output_c + oc];
                            acc += xv * wv;
                        }
                    }
                    *output++ = conv_out(p, oc, acc);
                }
            }
        }
    }
}
