#include "tp_conv.h"

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

/* The patch of the output pixel whose window starts at input (iy0, ix0), for the input
 * channels [c0, c0 + filter_c): either in place, or gathered into col with padded taps set to
 * the input zero point. *row_step is the distance between its filter rows. */
static const int8_t *conv_patch(const tp_conv_params *p, const int8_t *in_b, int32_t iy0,
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
    for (int32_t ky = 0; ky < k_h; ++ky) {
        const int32_t iy = iy0 + ky * p->dilation_h;
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
                    const int8_t *x0 = conv_patch(p, in_b, iy0, ix0, g * k_c, col, &step0);
                    const int8_t *x1 = x0;
                    if (pair) {
                        x1 = conv_patch(p, in_b, iy0, ix0 + stride_w, g * k_c,
                                        col + filter_size, &step1);
                    }
                    /* Back-to-back filter rows make the patch one run of filter_size bytes. */
                    const int one_run = k_h == 1 || (step0 == filter_row && step1 == filter_row);
                    const int32_t rows = one_run ? 1 : k_h;
                    const int32_t len = one_run ? filter_size : filter_row;
                    const int32_t oc_end = (g + 1) * filters_per_group;
                    int32_t oc = g * filters_per_group;
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
