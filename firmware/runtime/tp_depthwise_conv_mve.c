/* DEPTHWISE_CONV_2D on a Helium core, depth multiplier 1: the sums of tp_depthwise_conv.c (bias
 * folded on the host, padded taps reading a row of input zero points) with four channels in the
 * four int32 lanes of a vector. Per tap, VLDRB.S32 widens four input and four filter bytes,
 * VMUL makes the four exact products and VADD accumulates them; the last block of a row is
 * tail-predicated, so no byte past the channels is read. Other depth multipliers and windows
 * bigger than the tap table go to the generic kernel. */
#include "tp_depthwise_conv.h"
#include "tp_mve.h"

#ifdef TP_MVE
void tp_depthwise_conv_generic_s8(const tp_depthwise_conv_params *p, const int8_t *input,
                                  const int8_t *filter, int8_t *output, void *scratch);

void tp_depthwise_conv_s8(const tp_depthwise_conv_params *p, const int8_t *input,
                          const int8_t *filter, int8_t *output, void *scratch)
{
    const int32_t in_h = p->input_h, in_w = p->input_w, in_c = p->input_c;
    const int32_t k_h = p->filter_h, k_w = p->filter_w, taps = k_h * k_w;
    if (p->depth_multiplier != 1 || taps > TP_DW_MAX_TAPS) {
        tp_depthwise_conv_generic_s8(p, input, filter, output, scratch);
        return;
    }
    const int32_t out_h = p->output_h, out_w = p->output_w;
    const int32_t stride_h = p->stride_h, stride_w = p->stride_w;
    const int32_t dil_h = p->dilation_h, dil_w = p->dilation_w;
    const tp_output_q q = {p->output_offset, p->act_min, p->act_max};
    const int32_t *bias = p->bias, *rq_mult = p->multiplier, *shift = p->shift;
    const int32_t input_row = in_w * in_c;
    const int8_t *pad_row = (const int8_t *)scratch;
    const int8_t *tap[TP_DW_MAX_TAPS];

    if (scratch) {
        for (int32_t c = 0; c < in_c; ++c) {
            ((int8_t *)scratch)[c] = (int8_t)(-p->input_offset);
        }
    }
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *in_b = input + b * in_h * input_row;
        for (int32_t y = 0; y < out_h; ++y) {
            const int32_t iy0 = y * stride_h - p->pad_h;
            for (int32_t x = 0; x < out_w; ++x) {
                const int32_t ix0 = x * stride_w - p->pad_w;
                int8_t *out = output + ((b * out_h + y) * out_w + x) * in_c;
                for (int32_t ky = 0, t = 0; ky < k_h; ++ky) {
                    const int32_t iy = iy0 + ky * dil_h;
                    for (int32_t kx = 0; kx < k_w; ++kx, ++t) {
                        const int32_t ix = ix0 + kx * dil_w;
                        const int inside = iy >= 0 && iy < in_h && ix >= 0 && ix < in_w;
                        tap[t] = inside ? in_b + iy * input_row + ix * in_c : pad_row;
                    }
                }
                for (int32_t c = 0; c < in_c; c += 4) {
                    const mve_pred16_t pr = vctp32q((uint32_t)(in_c - c));
                    int32x4_t acc = vldrwq_z_s32(bias + c, pr);
                    const int8_t *w = filter + c;
                    for (int32_t t = 0; t < taps; ++t, w += in_c) {
                        acc = vaddq_s32(acc, vmulq_s32(vldrbq_z_s32(tap[t] + c, pr), vldrbq_z_s32(w, pr)));
                    }
                    tp_mve_output_s8(acc, rq_mult + c, shift + c, q, out + c, in_c - c);
                }
            }
        }
    }
}
#else
typedef int tp_depthwise_conv_no_mve; /* ISO C: no empty translation unit */
#endif
