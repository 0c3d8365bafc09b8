#include "tp_conv.h"

#include <string.h>

/* A Helium core gets tp_conv_s8 and tp_conv_w16_s8 from tp_conv_mve.c. */
#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)
#define tp_conv_s8 tp_conv_generic_s8
#define tp_conv_w16_s8 tp_conv_w16_generic_s8
#endif

/* How the loops are arranged, and why each step keeps TFLM's result bit for bit:
 *
 * - The input offset is folded into p->bias on the host (see tp_conv.h), so each output is
 *   bias + a plain int8 dot product of the filter with the input window. Integer addition is
 *   exact and the host checks that no partial sum can leave int32, so the order of the terms
 *   does not matter.
 * - The window ("patch") is laid out like the filter: [filter_h][filter_w][filter_c]. When the
 *   host allows it (p->read_in_place: ungrouped, no horizontal dilation) and the window lies
 *   inside the input, each filter row is filter_w * input_c contiguous input bytes, so the
 *   patch is read where it lies. Any other window is first copied into scratch with padded taps
 *   set to zp_in (im2col), which adds w * (zp_in - zp_in) = 0, the same as TFLM skipping it.
 * - Output pixels go in pairs and output channels go in pairs: each loaded input byte meets two
 *   filters and each filter byte two patches (tp_dot2x2_s8). With the DSP extension the dot
 *   products use SMLAD (see tp_common.h).
 */

/* tp_conv.h */
const int8_t *tp_conv_patch(const tp_conv_params *p, const int8_t *in_b, int32_t iy0,
                            int32_t ix0, int32_t c0, int8_t *col, int32_t *row_step)
{
    const int32_t k_h = p->filter_h, k_w = p->filter_w, k_c = p->filter_c;
    const int32_t input_row = p->input_w * p->input_c;
    if (p->read_in_place && iy0 >= 0 && iy0 + (k_h - 1) * p->dilation_h < p->input_h &&
        ix0 >= 0 && ix0 + k_w <= p->input_w) {
        *row_step = p->dilation_h * input_row;
        return in_b + iy0 * input_row + ix0 * p->input_c;
    }
    const int8_t pad = (int8_t)(-p->input_offset); /* the input zero point */
    int8_t *dst = col;
    /* Whether whole filter rows are contiguous input bytes inside the input: ungrouped, no
     * horizontal dilation, the window's columns all inside. */
    const int32_t run = k_w * k_c;
    const int rows_whole = k_c == p->input_c && p->dilation_w == 1 && ix0 >= 0 &&
                           ix0 + k_w <= p->input_w;
    for (int32_t ky = 0; ky < k_h; ++ky) {
        const int32_t iy = iy0 + ky * p->dilation_h;
        if (rows_whole && iy >= 0 && iy < p->input_h) { /* one run, copied a word at a time */
            const int8_t *src = in_b + iy * input_row + ix0 * k_c;
            int32_t i = 0;
            for (; i + 4 <= run; i += 4) {
                memcpy(dst + i, src + i, 4);
            }
            for (; i < run; ++i) {
                dst[i] = src[i];
            }
            dst += run;
            continue;
        }
        for (int32_t kx = 0; kx < k_w; ++kx, dst += k_c) {
            const int32_t ix = ix0 + kx * p->dilation_w;
            if (iy >= 0 && iy < p->input_h && ix >= 0 && ix < p->input_w) {
                const int8_t *src = in_b + iy * input_row + ix * p->input_c + c0;
                for (int32_t ic = 0; ic < k_c; ++ic) {
                    dst[ic] = src[ic];
                }
            } else {
                for (int32_t ic = 0; ic < k_c; ++ic) {
                    dst[ic] = pad;
                }
            }
        }
    }
    for (int32_t i = 0; i < p->patch_pad; ++i) { /* met by zero weights: any value adds 0 */
        *dst++ = pad;
    }
    *row_step = k_w * k_c;
    return col;
}

void tp_conv_s8(const tp_conv_params *p, const int8_t *input, const int8_t *filter,
                int8_t *output, void *scratch)
{
    const int32_t k_h = p->filter_h, k_c = p->filter_c;
    const int32_t out_h = p->output_h, out_w = p->output_w, out_c = p->output_c;
    const int32_t groups = p->groups, filters_per_group = out_c / groups;
    const int32_t filter_row = p->filter_w * k_c;  /* one ky row of one filter */
    const int32_t filter_size = k_h * filter_row; /* one output channel's filter */
    int8_t *col = (int8_t *)scratch;               /* two gathered patches */
    /* Local copies: the int8 output stores could alias *p, which would force reloads. */
    const int32_t *bias = p->bias, *mult = p->multiplier, *shift = p->shift;
    const tp_output_q q = {p->output_offset, p->act_min, p->act_max};
    const int32_t stride_w = p->stride_w;

    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *in_b = input + b * p->input_h * p->input_w * p->input_c;
        for (int32_t y = 0; y < out_h; ++y) {
            const int32_t iy0 = y * p->stride_h - p->pad_h;
            for (int32_t x = 0; x < out_w; x += 2) {
                const int pair = x + 1 < out_w; /* pixels x and x + 1, or x alone at the end */
                const int32_t ix0 = x * stride_w - p->pad_w;
                int8_t *out0 = output + ((b * out_h + y) * out_w + x) * out_c;
                int8_t *out1 = out0 + out_c;
                for (int32_t g = 0; g < groups; ++g) {
                    int32_t step0, step1 = filter_row;
                    const int8_t *x0 = tp_conv_patch(p, in_b, iy0, ix0, g * k_c, col, &step0);
                    const int8_t *x1 = x0;
                    if (pair) {
                        x1 = tp_conv_patch(p, in_b, iy0, ix0 + stride_w, g * k_c,
                                        col + filter_size, &step1);
                    }
                    /* Back-to-back filter rows make the patch one run of filter_size bytes. */
                    const int one_run = k_h == 1 || (step0 == filter_row && step1 == filter_row);
                    const int32_t rows = one_run ? 1 : k_h;
                    const int32_t len = one_run ? filter_size : filter_row;
                    const int32_t oc_end = (g + 1) * filters_per_group;
                    int32_t oc = g * filters_per_group;
#if defined(__ARM_ARCH_6M__)
                    /* 4 channels per pass, each pixel on its own (tp_conv_thumb1.c) */
                    for (; oc + 4 <= oc_end; oc += 4) {
                        const int8_t *w0 = filter + oc * filter_size;
                        int32_t a[4] = {bias[oc], bias[oc + 1], bias[oc + 2], bias[oc + 3]};
                        int32_t b[4] = {a[0], a[1], a[2], a[3]};
                        for (int32_t r = 0; r < rows; ++r) {
                            tp_t1_dot1x4_s8(x0 + r * step0, w0 + r * len, filter_size, len, a);
                            if (pair) {
                                tp_t1_dot1x4_s8(x1 + r * step1, w0 + r * len, filter_size, len, b);
                            }
                        }
                        for (int32_t c = 0; c < 4; ++c) {
                            out0[oc + c] = tp_output_s8(a[c], mult[oc + c], shift[oc + c], q);
                        }
                        for (int32_t c = 0; pair && c < 4; ++c) {
                            out1[oc + c] = tp_output_s8(b[c], mult[oc + c], shift[oc + c], q);
                        }
                    }
#endif
                    for (; oc + 2 <= oc_end; oc += 2) {
                        const int8_t *w0 = filter + oc * filter_size, *w1 = w0 + filter_size;
                        const int32_t m0 = mult[oc], s0 = shift[oc];
                        const int32_t m1 = mult[oc + 1], s1 = shift[oc + 1];
                        if (pair) {
                            int32_t acc[4] = {bias[oc], bias[oc + 1], bias[oc], bias[oc + 1]};
                            for (int32_t r = 0; r < rows; ++r) {
                                tp_dot2x2_s8(x0 + r * step0, x1 + r * step1, w0 + r * len,
                                             w1 + r * len, len, acc);
                            }
                            out1[oc] = tp_output_s8(acc[2], m0, s0, q);
                            out1[oc + 1] = tp_output_s8(acc[3], m1, s1, q);
                            out0[oc] = tp_output_s8(acc[0], m0, s0, q);
                            out0[oc + 1] = tp_output_s8(acc[1], m1, s1, q);
                        } else {
                            int32_t acc0 = bias[oc], acc1 = bias[oc + 1];
                            for (int32_t r = 0; r < rows; ++r) {
                                tp_dot2_s8(x0 + r * step0, w0 + r * len, w1 + r * len, len,
                                           &acc0, &acc1);
                            }
                            out0[oc] = tp_output_s8(acc0, m0, s0, q);
                            out0[oc + 1] = tp_output_s8(acc1, m1, s1, q);
                        }
                    }
                    if (oc < oc_end) { /* an odd channel left over: one filter, both patches */
                        const int8_t *w0 = filter + oc * filter_size;
                        int32_t acc0 = bias[oc], acc1 = bias[oc];
                        for (int32_t r = 0; r < rows; ++r) {
                            tp_dot2_s8(w0 + r * len, x0 + r * step0, x1 + r * step1, len, &acc0,
                                       &acc1);
                        }
                        const int32_t m0 = mult[oc], s0 = shift[oc];
                        out0[oc] = tp_output_s8(acc0, m0, s0, q);
                        if (pair) {
                            out1[oc] = tp_output_s8(acc1, m0, s0, q);
                        }
                    }
                }
            }
        }
    }
}

/* ---- tp_conv_w16_s8: the same convolution on int16-expanded, interleaved weights ----
 *
 * The host stores the filters in the order this loop reads them (see tp_conv.h): for each group
 * of 4 output channels and each run of 4 filter taps k..k+3, per channel the int16 pairs
 * (w[k], w[k+2]) and (w[k+1], w[k+3]). With the DSP extension SXTB16 splits 4 input bytes into
 * the int16 lanes (x[k], x[k+2]) and (x[k+1], x[k+3]), so one SMLAD per pair of words adds
 * x[k]*w[k] + x[k+2]*w[k+2] with no sign extension of the weights at all: 4 channels times 2
 * pixels share each input load and extension. The products and sums are the plain loop's, in
 * another order, so the result is the same integer (the host bounds every partial sum). */

#if defined(__ARM_ARCH_6M__)
/* On a Cortex-M0 the host stores filter16 in the Thumb-1 order instead (thumb1.py): per tap k
 * the int16 halves of w[c0][k] + 2^16 w[c1][k] and of w[c2][k] + 2^16 w[c3][k], that is
 * w[c0][k], w[c1][k] - [w[c0][k] < 0], w[c2][k], w[c3][k] - [w[c2][k] < 0]. Whole words go to
 * the assembly loop (tp_conv_thumb1.c); a filter that is not word-aligned takes this loop. */
static const int16_t *conv_dot1x4_t1(const int8_t *x, const int16_t *w, int32_t n,
                                     int32_t acc[4])
{
    if (((uintptr_t)w & 3) == 0) {
        const int32_t *w32 = (const int32_t *)(const void *)w;
        return (const int16_t *)(const void *)tp_t1_dot1x4_w16(x, w32, w32 + 2 * n, acc);
    }
    for (int32_t i = 0; i < n; ++i, w += 4) {
        const int32_t xi = x[i];
        acc[0] += xi * w[0];
        acc[1] += xi * (w[1] + (w[0] < 0));
        acc[2] += xi * w[2];
        acc[3] += xi * (w[3] + (w[2] < 0));
    }
    return w;
}
#endif

/* acc[c] += the 4-channel dot products of x over n bytes (n a multiple of 4); w advances. */
static inline const int16_t *conv_dot1x4_w16(const int8_t *x, const int16_t *w, int32_t n,
                                             int32_t acc[4])
{
#if defined(__ARM_ARCH_6M__)
    return conv_dot1x4_t1(x, w, n, acc);
#endif
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    for (int32_t i = 0; i < n; i += 4, w += 16) {
#ifdef TP_DSP
        const uint32_t xv = tp_load_x4(x + i);
        const int32_t xe = __sxtb16(xv), xo = tp_sxtb16_odd(xv);
        a0 = __smlad(xe, (int32_t)tp_load_x4((const int8_t *)(w + 0)), a0);
        a0 = __smlad(xo, (int32_t)tp_load_x4((const int8_t *)(w + 2)), a0);
        a1 = __smlad(xe, (int32_t)tp_load_x4((const int8_t *)(w + 4)), a1);
        a1 = __smlad(xo, (int32_t)tp_load_x4((const int8_t *)(w + 6)), a1);
        a2 = __smlad(xe, (int32_t)tp_load_x4((const int8_t *)(w + 8)), a2);
        a2 = __smlad(xo, (int32_t)tp_load_x4((const int8_t *)(w + 10)), a2);
        a3 = __smlad(xe, (int32_t)tp_load_x4((const int8_t *)(w + 12)), a3);
        a3 = __smlad(xo, (int32_t)tp_load_x4((const int8_t *)(w + 14)), a3);
#else
        const int32_t x0 = x[i], x1 = x[i + 1], x2 = x[i + 2], x3 = x[i + 3];
        a0 += x0 * w[0] + x2 * w[1] + x1 * w[2] + x3 * w[3];
        a1 += x0 * w[4] + x2 * w[5] + x1 * w[6] + x3 * w[7];
        a2 += x0 * w[8] + x2 * w[9] + x1 * w[10] + x3 * w[11];
        a3 += x0 * w[12] + x2 * w[13] + x1 * w[14] + x3 * w[15];
#endif
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
    return w;
}

/* The same for two patches: acc[c] for x0 and acc[4 + c] for x1. Not inlined: the loop needs
 * every register, which it only gets in a function of its own. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static const int16_t *conv_dot2x4_w16(const int8_t *x0, const int8_t *x1,
                                             const int16_t *w, int32_t n, int32_t acc[8])
{
#if defined(__ARM_ARCH_6M__)
    /* Too few registers for a 2-pixel tile: one pixel at a time, each reading the weights. */
    if (((uintptr_t)w & 3) == 0) {
        const int32_t *w32 = (const int32_t *)(const void *)w;
        return (const int16_t *)(const void *)tp_t1_dot2x4_w16(x0, x1, w32, w32 + 2 * n, acc);
    }
    conv_dot1x4_t1(x0, w, n, acc);
    return conv_dot1x4_t1(x1, w, n, acc + 4);
#endif
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    int32_t b0 = acc[4], b1 = acc[5], b2 = acc[6], b3 = acc[7];
#ifdef TP_DSP
    /* The same SXTB16/SMLAD steps as tp_dot2x2_s8, with the loop written out so that the 8
     * accumulators, 3 pointers and 3 temporaries fit the 14 usable registers with no spill
     * (gcc's own schedule of the intrinsics spills a third of the loop): input words are
     * loaded twice rather than held, and the end pointer is compared from memory. */
    const int16_t *const end = w + 4 * n; /* n >= 4 */
    int32_t xa, xb, wv;
    __asm__("1:\n\t"
            "ldr    %[xa], [%[x0]]\n\t"
            "ldr    %[xb], [%[x1]]\n\t"
            "sxtb16 %[xa], %[xa]\n\t"
            "sxtb16 %[xb], %[xb]\n\t"
            "ldr    %[wv], [%[w], #0]\n\t"
            "smlad  %[a0], %[xa], %[wv], %[a0]\n\t"
            "smlad  %[b0], %[xb], %[wv], %[b0]\n\t"
            "ldr    %[wv], [%[w], #8]\n\t"
            "smlad  %[a1], %[xa], %[wv], %[a1]\n\t"
            "smlad  %[b1], %[xb], %[wv], %[b1]\n\t"
            "ldr    %[wv], [%[w], #16]\n\t"
            "smlad  %[a2], %[xa], %[wv], %[a2]\n\t"
            "smlad  %[b2], %[xb], %[wv], %[b2]\n\t"
            "ldr    %[wv], [%[w], #24]\n\t"
            "smlad  %[a3], %[xa], %[wv], %[a3]\n\t"
            "smlad  %[b3], %[xb], %[wv], %[b3]\n\t"
            "ldr    %[xa], [%[x0]], #4\n\t"
            "ldr    %[xb], [%[x1]], #4\n\t"
            "sxtb16 %[xa], %[xa], ror #8\n\t"
            "sxtb16 %[xb], %[xb], ror #8\n\t"
            "ldr    %[wv], [%[w], #4]\n\t"
            "smlad  %[a0], %[xa], %[wv], %[a0]\n\t"
            "smlad  %[b0], %[xb], %[wv], %[b0]\n\t"
            "ldr    %[wv], [%[w], #12]\n\t"
            "smlad  %[a1], %[xa], %[wv], %[a1]\n\t"
            "smlad  %[b1], %[xb], %[wv], %[b1]\n\t"
            "ldr    %[wv], [%[w], #20]\n\t"
            "smlad  %[a2], %[xa], %[wv], %[a2]\n\t"
            "smlad  %[b2], %[xb], %[wv], %[b2]\n\t"
            "ldr    %[wv], [%[w], #28]\n\t"
            "smlad  %[a3], %[xa], %[wv], %[a3]\n\t"
            "smlad  %[b3], %[xb], %[wv], %[b3]\n\t"
            "adds   %[w], %[w], #32\n\t"
            "ldr    %[xa], %[end]\n\t"
            "cmp    %[w], %[xa]\n\t"
            "bne    1b"
            : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [b0] "+r"(b0),
              [b1] "+r"(b1), [b2] "+r"(b2), [b3] "+r"(b3), [x0] "+r"(x0), [x1] "+r"(x1),
              [w] "+r"(w), [xa] "=&r"(xa), [xb] "=&r"(xb), [wv] "=&r"(wv)
            : [end] "m"(end)
            : "cc", "memory");
#else
    for (const int16_t *const end = w + 4 * n; w < end; w += 16) {
        const int32_t p0 = x0[0], p1 = x0[1], p2 = x0[2], p3 = x0[3];
        const int32_t q0 = x1[0], q1 = x1[1], q2 = x1[2], q3 = x1[3];
        a0 += p0 * w[0] + p2 * w[1] + p1 * w[2] + p3 * w[3];
        b0 += q0 * w[0] + q2 * w[1] + q1 * w[2] + q3 * w[3];
        a1 += p0 * w[4] + p2 * w[5] + p1 * w[6] + p3 * w[7];
        b1 += q0 * w[4] + q2 * w[5] + q1 * w[6] + q3 * w[7];
        a2 += p0 * w[8] + p2 * w[9] + p1 * w[10] + p3 * w[11];
        b2 += q0 * w[8] + q2 * w[9] + q1 * w[10] + q3 * w[11];
        a3 += p0 * w[12] + p2 * w[13] + p1 * w[14] + p3 * w[15];
        b3 += q0 * w[12] + q2 * w[13] + q1 * w[14] + q3 * w[15];
        x0 += 4;
        x1 += 4;
    }
#endif
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
    acc[4] = b0;
    acc[5] = b1;
    acc[6] = b2;
    acc[7] = b3;
    return w;
}

void tp_conv_w16_s8(const tp_conv_params *p, const int8_t *input, const int16_t *filter,
                    int8_t *output, void *scratch)
{
    /* A 1x1 convolution with stride 1 and no padding maps input pixel i to output pixel i, so
     * the image can be seen as one long row: pixel pairs then run on across row ends instead of
     * leaving a pixel alone at the end of every odd-width row. */
    tp_conv_params flat = *p;
    if (p->filter_h == 1 && p->filter_w == 1 && p->stride_h == 1 && p->stride_w == 1 &&
        p->pad_h == 0 && p->pad_w == 0 && p->input_h == p->output_h &&
        p->input_w == p->output_w) {
        flat.input_w = flat.output_w = p->output_h * p->output_w;
        flat.input_h = flat.output_h = 1;
        p = &flat;
    }
    const int32_t k_h = p->filter_h;
    const int32_t out_h = p->output_h, out_w = p->output_w, out_c = p->output_c;
    const int32_t filter_row = p->filter_w * p->filter_c;
    const int32_t filter_size = k_h * filter_row + p->patch_pad; /* a multiple of 4 */
    int8_t *col = (int8_t *)scratch;
    /* Local copies: the int8 output stores could alias *p, which would force reloads. */
    const int32_t *bias = p->bias;
    const int32_t act_min = p->act_min, act_max = p->act_max;
    const int32_t stride_w = p->stride_w;

    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *in_b = input + b * p->input_h * p->input_w * p->input_c;
        for (int32_t y = 0; y < out_h; ++y) {
            const int32_t iy0 = y * p->stride_h - p->pad_h;
            for (int32_t x = 0; x < out_w; x += 2) {
                const int pair = x + 1 < out_w; /* pixels x and x + 1, or x alone at the end */
                const int32_t ix0 = x * stride_w - p->pad_w;
                int8_t *out0 = output + ((b * out_h + y) * out_w + x) * out_c;
                int8_t *out1 = out0 + out_c;
                int32_t step0, step1 = filter_row;
                const int8_t *x0 = tp_conv_patch(p, in_b, iy0, ix0, 0, col, &step0);
                const int8_t *x1 = x0;
                if (pair) {
                    x1 = tp_conv_patch(p, in_b, iy0, ix0 + stride_w, 0, col + filter_size, &step1);
                }
                const int one_run = k_h == 1 || (step0 == filter_row && step1 == filter_row);
                const int32_t rows = one_run ? 1 : k_h;
                const int32_t len = one_run ? filter_size : filter_row;
                const int16_t *w = filter;
                const int32_t *rq = p->requant;
                for (int32_t oc = 0; oc < out_c; oc += 4, rq += 12) {
                    int32_t acc[8];
                    for (int32_t c = 0; c < 4; ++c) {
                        acc[c] = acc[4 + c] = bias[oc + c];
                    }
                    for (int32_t r = 0; r < rows; ++r) {
                        w = pair ? conv_dot2x4_w16(x0 + r * step0, x1 + r * step1, w, len, acc)
                                 : conv_dot1x4_w16(x0 + r * step0, w, len, acc);
                    }
                    /* Written out: as a loop, its counter and pointers cost a third more. */
                    out0[oc] = tp_output_rq_s8(acc[0], rq, act_min, act_max);
                    out0[oc + 1] = tp_output_rq_s8(acc[1], rq + 3, act_min, act_max);
                    out0[oc + 2] = tp_output_rq_s8(acc[2], rq + 6, act_min, act_max);
                    out0[oc + 3] = tp_output_rq_s8(acc[3], rq + 9, act_min, act_max);
                    if (pair) {
                        out1[oc] = tp_output_rq_s8(acc[4], rq, act_min, act_max);
                        out1[oc + 1] = tp_output_rq_s8(acc[5], rq + 3, act_min, act_max);
                        out1[oc + 2] = tp_output_rq_s8(acc[6], rq + 6, act_min, act_max);
                        out1[oc + 3] = tp_output_rq_s8(acc[7], rq + 9, act_min, act_max);
                    }
                }
            }
        }
    }
}
