/* DEPTHWISE_CONV_2D on a Helium core, depth multiplier 1: the sums of tp_depthwise_conv.c (bias
 * folded on the host, padded taps reading a row of input zero points) with four channels in the
 * four int32 lanes of a vector. Per tap, VLDRB.S32 widens four input and four filter bytes,
 * VMUL makes the four exact products and VADD accumulates them; the last 1-3 channels are
 * tail-predicated, so no byte past the channels is read. Other depth multipliers and windows
 * bigger than the tap table go to the generic kernel. */
#include "tp_depthwise_conv.h"
#include "tp_mve.h"

#ifdef TP_MVE
/* tap[t]: where tap t of the window at input (iy0, ix0) reads its channels, or pad_row (the
 * input zero point in every channel) where it falls outside the input. */
static void mve_taps(const tp_depthwise_conv_params *p, const int8_t *in_b, int32_t iy0,
                     int32_t ix0, const int8_t *pad_row, const int8_t **tap)
{
    const int32_t input_row = p->input_w * p->input_c;
    for (int32_t ky = 0, t = 0; ky < p->filter_h; ++ky) {
        const int32_t iy = iy0 + ky * p->dilation_h;
        for (int32_t kx = 0; kx < p->filter_w; ++kx, ++t) {
            const int32_t ix = ix0 + kx * p->dilation_w;
            const int inside = iy >= 0 && iy < p->input_h && ix >= 0 && ix < p->input_w;
            tap[t] = inside ? in_b + iy * input_row + ix * p->input_c : pad_row;
        }
    }
}

/* The row of input zero points padded taps read (scratch, input_c bytes; NULL when no window
 * reaches the padding). */
static const int8_t *mve_pad_row(const tp_depthwise_conv_params *p, void *scratch)
{
    if (scratch) {
        const int8x16_t zp = vdupq_n_s8((int8_t)(-p->input_offset));
        for (int32_t c = 0; c < p->input_c; c += 16) {
            vstrbq_p_s8((int8_t *)scratch + c, zp, vctp8q((uint32_t)(p->input_c - c)));
        }
    }
    return (const int8_t *)scratch;
}

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
    const tp_output_q q = {p->output_offset, p->act_min, p->act_max};
    const int32_t *bias = p->bias, *rq_mult = p->multiplier, *shift = p->shift;
    const int8_t *pad_row = mve_pad_row(p, scratch);
    const int8_t *tap[TP_DW_MAX_TAPS];

    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *in_b = input + b * in_h * in_w * in_c;
        for (int32_t y = 0; y < out_h; ++y) {
            for (int32_t x = 0; x < out_w; ++x) {
                int8_t *out = output + ((b * out_h + y) * out_w + x) * in_c;
                mve_taps(p, in_b, y * stride_h - p->pad_h, x * stride_w - p->pad_w, pad_row, tap);
                int32_t c = 0;
                for (; c + 4 <= in_c; c += 4) {
                    int32x4_t acc = vldrwq_s32(bias + c);
                    const int8_t *w = filter + c;
                    for (int32_t t = 0; t < taps; ++t, w += in_c) {
                        acc = vaddq_s32(acc, vmulq_s32(vldrbq_s32(tap[t] + c), vldrbq_s32(w)));
                    }
                    tp_mve_output_s8(acc, rq_mult + c, shift + c, q, out + c, 4);
                }
                if (c < in_c) { /* the last 1-3 channels: lanes past them neither read nor stored */
                    const mve_pred16_t pr = vctp32q((uint32_t)(in_c - c));
                    int32x4_t acc = vldrwq_z_s32(bias + c, pr);
                    const int8_t *w = filter + c;
                    for (int32_t t = 0; t < taps; ++t, w += in_c) {
                        acc = vaddq_s32(acc, vmulq_s32(vldrbq_z_s32(tap[t] + c, pr),
                                                       vldrbq_z_s32(w, pr)));
                    }
                    tp_mve_output_s8(acc, rq_mult + c, shift + c, q, out + c, in_c - c);
                }
            }
        }
    }
}

/* The int16 filter the host interleaved for the Cortex-M4 (tp_depthwise_conv.h): per group of
 * 4 channels and tap, w[c], w[c+2], w[c+1], w[c+3]. Eight channels (two groups) go at once:
 * per tap, one gather load puts their eight weights back in channel order into int16 lanes,
 * VLDRB.S16 widens the eight input bytes, and VMULLB/VMULLT make the exact int32 products of
 * the even and of the odd lanes, added to one accumulator each (channels c, c+2, c+4, c+6 and
 * c+1, c+3, c+5, c+7). Their outputs are stored to every second byte; a group of 4 left over
 * goes alone through the four-lane loop. The requantization comes as the host's 3-word
 * records. */
void tp_depthwise_conv_w16_s8(const tp_depthwise_conv_params *p, const int8_t *input,
                              const int16_t *filter16, int8_t *output, void *scratch)
{
    const int32_t in_h = p->input_h, in_w = p->input_w, in_c = p->input_c; /* in_c % 4 == 0 */
    const int32_t taps = p->filter_h * p->filter_w;
    const int32_t out_h = p->output_h, out_w = p->output_w;
    const tp_output_q q = {p->output_offset, p->act_min, p->act_max};
    const int32_t *bias = p->bias, *rq = p->requant;
    const uint32x4_t order4 = {0, 2, 1, 3};
    const uint16_t g = (uint16_t)(4 * taps); /* from one group's weights to the next's */
    const uint16x8_t order8 = {0, 2, 1, 3, g, (uint16_t)(g + 2), (uint16_t)(g + 1), (uint16_t)(g + 3)};
    const uint32x4_t even = {0, 2, 4, 6}, odd = {1, 3, 5, 7}; /* channel offsets of the lanes */
    const uint32x4_t even_rq = {0, 6, 12, 18}, odd_rq = {3, 9, 15, 21}; /* their records */
    const int8_t *pad_row = mve_pad_row(p, scratch);
    const int8_t *tap[TP_DW_MAX_TAPS];

    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *in_b = input + b * in_h * in_w * in_c;
        for (int32_t y = 0; y < out_h; ++y) {
            for (int32_t x = 0; x < out_w; ++x) {
                int8_t *out = output + ((b * out_h + y) * out_w + x) * in_c;
                mve_taps(p, in_b, y * p->stride_h - p->pad_h, x * p->stride_w - p->pad_w,
                         pad_row, tap);
                const int16_t *w = filter16;
                int32_t c = 0;
                for (; c + 8 <= in_c; c += 8, w += 2 * g) {
                    int32x4_t acc_e = vldrwq_gather_shifted_offset_s32(bias + c, even);
                    int32x4_t acc_o = vldrwq_gather_shifted_offset_s32(bias + c, odd);
                    for (int32_t t = 0; t < taps; ++t) {
                        const int16x8_t wv = vldrhq_gather_shifted_offset_s16(w + 4 * t, order8);
                        const int16x8_t xv = vldrbq_s16(tap[t] + c);
                        acc_e = vaddq_s32(acc_e, vmullbq_int_s16(xv, wv));
                        acc_o = vaddq_s32(acc_o, vmulltq_int_s16(xv, wv));
                    }
                    tp_mve_output_rq_scatter_s8(acc_e, rq + 3 * c, even_rq, q, out + c, even);
                    tp_mve_output_rq_scatter_s8(acc_o, rq + 3 * c, odd_rq, q, out + c, odd);
                }
                if (c < in_c) { /* one group of 4 left */
                    int32x4_t acc = vldrwq_s32(bias + c);
                    for (int32_t t = 0; t < taps; ++t) {
                        const int32x4_t wv = vldrhq_gather_shifted_offset_s32(w + 4 * t, order4);
                        acc = vaddq_s32(acc, vmulq_s32(vldrbq_s32(tap[t] + c), wv));
                    }
                    tp_mve_output_rq_s8(acc, rq + 3 * c, q, out + c);
                }
            }
        }
    }
}
#else
typedef int tp_depthwise_conv_no_mve; /* ISO C: no empty translation unit */
#endif
