#include "tp_depthwise_conv.h"

/* A Helium core gets tp_depthwise_conv_s8 and _w16_s8 from tp_depthwise_conv_mve.c, which leaves
 * the cases it does not vectorise to the first of these kernels under another name. */
#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)
#define tp_depthwise_conv_s8 tp_depthwise_conv_generic_s8
#define tp_depthwise_conv_w16_s8 tp_depthwise_conv_w16_generic_s8
#endif

/* How the loops are arranged, and why each step keeps TFLM's result bit for bit:
 *
 * - The input offset is folded into p->bias on the host (see tp_depthwise_conv.h), so each
 *   output is bias + a plain int8 dot product over the window's taps. Integer addition is exact
 *   and the host checks that no partial sum can leave int32, so the order of terms is free.
 * - For each output pixel a table holds, per tap, the address of the input pixel it reads, or
 *   of a row of zero points (`scratch`) when the tap is outside the input: that adds
 *   w * (zp_in - zp_in) = 0, the same as TFLM skipping the tap. The channel loop then runs
 *   over contiguous channels with no bounds checks.
 * - With the DSP extension and depth_multiplier 1, four channels go at once: one word load
 *   brings four input (and four filter) bytes, SXTB16 splits them into int16 lanes, and
 *   SMLABB/SMLATT do one exact 16x16+32 multiply-accumulate per channel.
 */

void tp_depthwise_conv_s8(const tp_depthwise_conv_params *p, const int8_t *input,
                          const int8_t *filter, int8_t *output, void *scratch)
{
    /* Local copies: the int8 output stores could alias *p, which would force reloads. */
    const int32_t in_h = p->input_h, in_w = p->input_w, in_c = p->input_c;
    const int32_t k_h = p->filter_h, k_w = p->filter_w, mult = p->depth_multiplier;
    const int32_t out_h = p->output_h, out_w = p->output_w, out_c = in_c * mult;
    const int32_t stride_h = p->stride_h, stride_w = p->stride_w;
    const int32_t dil_h = p->dilation_h, dil_w = p->dilation_w;
    const tp_output_q q = {p->output_offset, p->act_min, p->act_max};
    const int32_t *bias = p->bias, *rq_mult = p->multiplier, *shift = p->shift;
    const int32_t taps = k_h * k_w;
    const int32_t input_row = in_w * in_c;
    const int8_t zp_in = (int8_t)(-p->input_offset);
    const int8_t *pad_row = (const int8_t *)scratch;
    const int8_t *tap[TP_DW_MAX_TAPS];

    if (scratch) {
        for (int32_t c = 0; c < in_c; ++c) {
            ((int8_t *)scratch)[c] = zp_in;
        }
    }
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *in_b = input + b * in_h * input_row;
        for (int32_t y = 0; y < out_h; ++y) {
            const int32_t iy0 = y * stride_h - p->pad_h;
            for (int32_t x = 0; x < out_w; ++x) {
                const int32_t ix0 = x * stride_w - p->pad_w;
                int8_t *out = output + ((b * out_h + y) * out_w + x) * out_c;
                if (taps > TP_DW_MAX_TAPS) { /* a huge window: the sum as written above */
                    for (int32_t oc = 0; oc < out_c; ++oc) {
                        int32_t acc = bias[oc];
                        for (int32_t t = 0; t < taps; ++t) {
                            const int32_t iy = iy0 + (t / k_w) * dil_h;
                            const int32_t ix = ix0 + (t % k_w) * dil_w;
                            const int inside = iy >= 0 && iy < in_h && ix >= 0 && ix < in_w;
                            const int32_t xv = inside ? in_b[iy * input_row + ix * in_c + oc / mult]
                                                      : zp_in;
                            acc += (int32_t)filter[t * out_c + oc] * xv;
                        }
                        out[oc] = tp_output_s8(acc, rq_mult[oc], shift[oc], q);
                    }
                    continue;
                }
                for (int32_t ky = 0, t = 0; ky < k_h; ++ky) {
                    const int32_t iy = iy0 + ky * dil_h;
                    for (int32_t kx = 0; kx < k_w; ++kx, ++t) {
                        const int32_t ix = ix0 + kx * dil_w;
                        const int inside = iy >= 0 && iy < in_h && ix >= 0 && ix < in_w;
                        tap[t] = inside ? in_b + iy * input_row + ix * in_c : pad_row;
                    }
                }
                if (mult == 1) {
                    int32_t c = 0;
#ifdef TP_DSP
                    for (; c + 4 <= in_c; c += 4) {
                        int32_t a0 = bias[c], a1 = bias[c + 1], a2 = bias[c + 2], a3 = bias[c + 3];
                        const int8_t *w = filter + c;
                        for (int32_t t = 0; t < taps; ++t, w += in_c) {
                            const uint32_t xv = tp_load_x4(tap[t] + c), wv = tp_load_x4(w);
                            const int32_t x02 = __sxtb16(xv), x13 = tp_sxtb16_odd(xv);
                            const int32_t w02 = __sxtb16(wv), w13 = tp_sxtb16_odd(wv);
                            a0 = __smlabb(x02, w02, a0); /* channel c:     byte 0 */
                            a2 = __smlatt(x02, w02, a2); /* channel c + 2: byte 2 */
                            a1 = __smlabb(x13, w13, a1); /* channel c + 1: byte 1 */
                            a3 = __smlatt(x13, w13, a3); /* channel c + 3: byte 3 */
                        }
                        out[c] = tp_output_s8(a0, rq_mult[c], shift[c], q);
                        out[c + 1] = tp_output_s8(a1, rq_mult[c + 1], shift[c + 1], q);
                        out[c + 2] = tp_output_s8(a2, rq_mult[c + 2], shift[c + 2], q);
                        out[c + 3] = tp_output_s8(a3, rq_mult[c + 3], shift[c + 3], q);
                    }
#endif
                    for (; c < in_c; ++c) {
                        int32_t acc = bias[c];
                        const int8_t *w = filter + c;
                        for (int32_t t = 0; t < taps; ++t, w += in_c) {
                            acc += (int32_t)tap[t][c] * (int32_t)*w;
                        }
                        out[c] = tp_output_s8(acc, rq_mult[c], shift[c], q);
                    }
                } else {
                    for (int32_t oc = 0; oc < out_c; ++oc) {
                        const int32_t ic = oc / mult;
                        int32_t acc = bias[oc];
                        const int8_t *w = filter + oc;
                        for (int32_t t = 0; t < taps; ++t, w += out_c) {
                            acc += (int32_t)tap[t][ic] * (int32_t)*w;
                        }
                        out[oc] = tp_output_s8(acc, rq_mult[oc], shift[oc], q);
                    }
                }
            }
        }
    }
}

/* ---- tp_depthwise_conv_w16_s8: depth multiplier 1 on int16-expanded, interleaved weights ----
 *
 * The host stores, per group of 4 channels and per tap, the weights as the int16 pairs
 * (w[c], w[c+2]) and (w[c+1], w[c+3]) (see tp_depthwise_conv.h). With the DSP extension one
 * word load brings a tap's 4 input channels, SXTB16 splits them into the same lane order, and
 * SMLABB/SMLATT add one exact 16x16 product per channel: per tap and 4 channels that is one
 * input load, two extensions, two weight loads and four multiply-accumulates, with no sign
 * extension of weights. The tap table is as in tp_depthwise_conv_s8, so padded taps read zero
 * points and add nothing; the sum is the same integer in another order. */

/* acc[k] += x[c + k] * w[k] for one tap and the 4 channels c..c+3 (w in the lane order above). */
TP_INLINE void dw_tap_w16(const int8_t *x, const int16_t *w, int32_t acc[4])
{
#ifdef TP_DSP
    const uint32_t xv = tp_load_x4(x);
    const int32_t xe = __sxtb16(xv), xo = tp_sxtb16_odd(xv);
    const int32_t we = (int32_t)tp_load_x4((const int8_t *)w);
    const int32_t wo = (int32_t)tp_load_x4((const int8_t *)(w + 2));
    acc[0] = __smlabb(xe, we, acc[0]); /* channel c:     byte 0 times w[0] */
    acc[2] = __smlatt(xe, we, acc[2]); /* channel c + 2: byte 2 times w[1] */
    acc[1] = __smlabb(xo, wo, acc[1]); /* channel c + 1: byte 1 times w[2] */
    acc[3] = __smlatt(xo, wo, acc[3]); /* channel c + 3: byte 3 times w[3] */
#else
    acc[0] += (int32_t)x[0] * w[0];
    acc[2] += (int32_t)x[2] * w[1];
    acc[1] += (int32_t)x[1] * w[2];
    acc[3] += (int32_t)x[3] * w[3];
#endif
}

/* dw_tap_w16 for the 9 taps of a 3x3 window, tap t reading the 4 bytes at table[t] + add: the
 * table holds either tap addresses (add = c) or, for a window inside the input, the taps' byte
 * offsets from its first tap (add = that address + c), which stay the same for every such
 * window. Written out in assembly, 10 instructions per tap with every operand in a register:
 * compiled from the intrinsics, the scheduler hoists the loads and spills a third of the
 * block. */
#ifdef TP_DSP
TP_INLINE void dw_3x3_w16(const void *table, uint32_t add, const int16_t *w, int32_t acc[4])
{
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    int32_t xe, xo, we, wo;
#define TP_DW_TAP(TAB, W0, W1)                                                                   \
    "ldr    %[we], [%[tab], #" TAB "]\n\t"                                                      \
    "ldr    %[xo], [%[we], %[add]]\n\t"                                                         \
    "ldr    %[we], [%[w], #" W0 "]\n\t"                                                         \
    "ldr    %[wo], [%[w], #" W1 "]\n\t"                                                         \
    "sxtb16 %[xe], %[xo]\n\t"                                                                   \
    "sxtb16 %[xo], %[xo], ror #8\n\t"                                                           \
    "smlabb %[a0], %[xe], %[we], %[a0]\n\t"                                                     \
    "smlatt %[a2], %[xe], %[we], %[a2]\n\t"                                                     \
    "smlabb %[a1], %[xo], %[wo], %[a1]\n\t"                                                     \
    "smlatt %[a3], %[xo], %[wo], %[a3]\n\t"
    __asm__(TP_DW_TAP("0", "0", "4") TP_DW_TAP("4", "8", "12") TP_DW_TAP("8", "16", "20")
                TP_DW_TAP("12", "24", "28") TP_DW_TAP("16", "32", "36")
                    TP_DW_TAP("20", "40", "44") TP_DW_TAP("24", "48", "52")
                        TP_DW_TAP("28", "56", "60") TP_DW_TAP("32", "64", "68")
            : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [xe] "=&r"(xe),
              [xo] "=&r"(xo), [we] "=&r"(we), [wo] "=&r"(wo)
            : [tab] "r"(table), [add] "r"(add), [w] "r"(w)
            : "memory");
#undef TP_DW_TAP
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}
#endif

/* One call of the kernel below. `top127` says act_max is 127, so the clamp's upper half is the
 * int8 saturation itself; the kernel instantiates this body for both values of the constant. */
TP_INLINE void dw_w16_body(const tp_depthwise_conv_params *p, const int8_t *input,
                               const int16_t *filter16, int8_t *output, void *scratch,
                               const int top127)
{
    /* Local copies: the int8 output stores could alias *p, which would force reloads. */
    const int32_t in_h = p->input_h, in_w = p->input_w, in_c = p->input_c;
    const int32_t k_h = p->filter_h, k_w = p->filter_w;
    const int32_t out_h = p->output_h, out_w = p->output_w;
    const int32_t stride_h = p->stride_h, stride_w = p->stride_w;
    const int32_t dil_h = p->dilation_h, dil_w = p->dilation_w;
    const int32_t pad_h = p->pad_h, pad_w = p->pad_w;
    const int32_t act_min = p->act_min, act_max = top127 ? 127 : p->act_max;
    const int32_t *bias = p->bias;
    const int32_t taps = k_h * k_w;
    const int32_t input_row = in_w * in_c;
    const int8_t *pad_row = (const int8_t *)scratch;
    const int8_t *tap[TP_DW_MAX_TAPS];

#ifdef TP_DSP
    /* The 3x3 taps' byte offsets from the window's first tap (see dw_3x3_w16). */
    uint32_t offset[9];
    for (int32_t t = 0; t < 9 && taps == 9; ++t) {
        offset[t] = (uint32_t)((t / 3) * dil_h * input_row + (t % 3) * dil_w * in_c);
    }
#endif
    if (scratch) {
        const int8_t zp_in = (int8_t)(-p->input_offset);
        for (int32_t c = 0; c < in_c; ++c) {
            ((int8_t *)scratch)[c] = zp_in;
        }
    }
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *in_b = input + b * in_h * input_row;
        int8_t *out = output + b * out_h * out_w * in_c;
        for (int32_t y = 0; y < out_h; ++y) {
            const int32_t iy0 = y * stride_h - pad_h;
            for (int32_t x = 0; x < out_w; ++x, out += in_c) {
                const int32_t ix0 = x * stride_w - pad_w;
#ifdef TP_DSP
                /* A 3x3 window inside the input reads its taps through the offsets. */
                const int inside = taps == 9 && iy0 >= 0 && iy0 + 2 * dil_h < in_h && ix0 >= 0 &&
                                   ix0 + 2 * dil_w < in_w;
                const int8_t *origin = inside ? in_b + iy0 * input_row + ix0 * in_c : NULL;
#else
                const int inside = 0;
#endif
                for (int32_t ky = 0, t = 0; ky < k_h && !inside; ++ky) {
                    const int32_t iy = iy0 + ky * dil_h;
                    for (int32_t kx = 0; kx < k_w; ++kx, ++t) {
                        const int32_t ix = ix0 + kx * dil_w;
                        const int in = iy >= 0 && iy < in_h && ix >= 0 && ix < in_w;
                        tap[t] = in ? in_b + iy * input_row + ix * in_c : pad_row;
                    }
                }
                const int16_t *w = filter16;
                const int32_t *rq = p->requant;
                for (int32_t c = 0; c < in_c; c += 4, w += 4 * taps, rq += 12) {
                    int32_t acc[4] = {bias[c], bias[c + 1], bias[c + 2], bias[c + 3]};
#ifdef TP_DSP
                    if (inside) {
                        dw_3x3_w16(offset, (uint32_t)(uintptr_t)(origin + c), w, acc);
                    } else if (taps == 9) {
                        dw_3x3_w16(tap, (uint32_t)c, w, acc);
                    } else
#endif
                    {
                        for (int32_t t = 0; t < taps; ++t) {
                            dw_tap_w16(tap[t] + c, w + 4 * t, acc);
                        }
                    }
                    out[c] = tp_output_rq_s8(acc[0], rq, act_min, act_max);
                    out[c + 1] = tp_output_rq_s8(acc[1], rq + 3, act_min, act_max);
                    out[c + 2] = tp_output_rq_s8(acc[2], rq + 6, act_min, act_max);
                    out[c + 3] = tp_output_rq_s8(acc[3], rq + 9, act_min, act_max);
                }
            }
        }
    }
}

void tp_depthwise_conv_w16_s8(const tp_depthwise_conv_params *p, const int8_t *input,
                              const int16_t *filter16, int8_t *output, void *scratch)
{
    if (p->act_max == 127) {
        dw_w16_body(p, input, filter16, output, scratch, 1);
    } else {
        dw_w16_body(p, input, filter16, output, scratch, 0);
    }
}
