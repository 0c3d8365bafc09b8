#include "tp_w4.h"

/* Weight i of a packed tensor: its 4-bit index (low nibble first) looked up in `codebook`. */
static inline int32_t w4_weight(const uint8_t *packed, const int8_t *codebook, int32_t i)
{
    const uint8_t byte = packed[i >> 1];
    return codebook[(i & 1) ? (byte >> 4) : (byte & 15)];
}

static inline int8_t w4_output(int32_t acc, int32_t multiplier, int32_t shift, int32_t offset,
                               int32_t lo, int32_t hi)
{
    return (int8_t)tp_clamp_i32(tp_requantize(acc, multiplier, shift) + offset, lo, hi);
}

void tp_conv_w4_s8(const tp_conv_w4_params *p, const int8_t *input, const uint8_t *packed,
                   int8_t *output)
{
    const int32_t per_group = p->output_c / p->groups;
    const int32_t taps = p->filter_h * p->filter_w * p->filter_c;
    for (int32_t b = 0; b < p->batches; ++b) {
        for (int32_t y = 0; y < p->output_h; ++y) {
            const int32_t oy = y * p->stride_h - p->pad_h;
            int32_t ky0, ky1;
            tp_tap_range(oy, p->dilation_h, p->input_h, p->filter_h, &ky0, &ky1);
            for (int32_t x = 0; x < p->output_w; ++x) {
                const int32_t ox = x * p->stride_w - p->pad_w;
                int32_t kx0, kx1;
                tp_tap_range(ox, p->dilation_w, p->input_w, p->filter_w, &kx0, &kx1);
                int8_t *out = output + ((b * p->output_h + y) * p->output_w + x) * p->output_c;
                for (int32_t oc = 0; oc < p->output_c; ++oc) {
                    const int8_t *cb = p->codebook + oc * p->codebook_stride;
                    const int32_t c0 = (oc / per_group) * p->filter_c;
                    int32_t acc = p->bias[oc];
                    for (int32_t ky = ky0; ky < ky1; ++ky) {
                        const int32_t iy = oy + ky * p->dilation_h;
                        for (int32_t kx = kx0; kx < kx1; ++kx) {
                            const int32_t ix = ox + kx * p->dilation_w;
                            const int8_t *in =
                                input + ((b * p->input_h + iy) * p->input_w + ix) * p->input_c + c0;
                            const int32_t w0 = oc * taps + (ky * p->filter_w + kx) * p->filter_c;
                            for (int32_t ic = 0; ic < p->filter_c; ++ic) {
                                acc += w4_weight(packed, cb, w0 + ic) * (in[ic] + p->input_offset);
                            }
                        }
                    }
                    out[oc] = w4_output(acc, p->multiplier[oc], p->shift[oc], p->output_offset,
                                        p->act_min, p->act_max);
                }
            }
        }
    }
}

void tp_fully_connected_w4_s8(const tp_fully_connected_w4_params *p, const int8_t *input,
                              const uint8_t *packed, int8_t *output)
{
    const int32_t n = p->in_features, outs = p->out_features;
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *x = input + b * n;
        for (int32_t o = 0; o < outs; ++o) {
            const int8_t *cb = p->codebook + o * p->codebook_stride;
            int32_t acc = p->bias[o];
            for (int32_t d = 0; d < n; ++d) {
                acc += w4_weight(packed, cb, o * n + d) * (x[d] + p->input_offset);
            }
            output[b * outs + o] = w4_output(acc, p->multiplier[o], p->shift[o], p->output_offset,
                                             p->act_min, p->act_max);
        }
    }
}
