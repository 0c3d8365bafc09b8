/* CONV_2D on a Helium core: the sums of tp_conv.c (bias folded on the host, padded taps holding
 * the input zero point), four output channels a step, with the four accumulators requantized
 * and stored together (tp_mve.h says why every step is exact).
 *
 * - tp_conv_s8 (int8 filters): per output pixel, the patch is read in place or gathered with
 *   16-byte vector copies; each 16-byte slice of it is loaded once and multiplied into four
 *   filters with VMLADAVA.S8.
 * - tp_conv_w16_s8 (int16 filters, interleaved by the host for the Cortex-M4's SMLAD tile,
 *   see tp_conv.h): per run of 4 taps, one gather load puts the patch bytes x[k], x[k+2],
 *   x[k+1], x[k+3] into int16 lanes 0-3 and again 4-7, matching the filter order, so that
 *   predicated VMLADAVA.S16 over lanes 0-3 and over lanes 4-7 of each 8-weight load adds one
 *   channel's four products each. */
#include "tp_conv.h"
#include "tp_mve.h"

#ifdef TP_MVE
/* The patch of the output pixel whose window starts at input (iy0, ix0), for input channels
 * [c0, c0 + filter_c): in place when the host allows it and the window lies inside the input,
 * else gathered into col (padded taps set to the input zero point). *row_step is the distance
 * between its filter rows. */
static const int8_t *mve_patch(const tp_conv_params *p, const int8_t *in_b, int32_t iy0,
                               int32_t ix0, int32_t c0, int8_t *col, int32_t *row_step)
{
    const int32_t k_h = p->filter_h, k_w = p->filter_w, k_c = p->filter_c;
    const int32_t input_row = p->input_w * p->input_c;
    if (p->read_in_place && iy0 >= 0 && iy0 + (k_h - 1) * p->dilation_h < p->input_h &&
        ix0 >= 0 && ix0 + k_w <= p->input_w) {
        *row_step = p->dilation_h * input_row;
        return in_b + iy0 * input_row + ix0 * p->input_c;
    }
    const int8x16_t pad = vdupq_n_s8((int8_t)(-p->input_offset));
    int8_t *dst = col;
    for (int32_t ky = 0; ky < k_h; ++ky) {
        const int32_t iy = iy0 + ky * p->dilation_h;
        for (int32_t kx = 0; kx < k_w; ++kx, dst += k_c) {
            const int32_t ix = ix0 + kx * p->dilation_w;
            const int inside = iy >= 0 && iy < p->input_h && ix >= 0 && ix < p->input_w;
            const int8_t *src = in_b + iy * input_row + ix * p->input_c + c0;
            for (int32_t i = 0; i < k_c; i += 16) {
                const mve_pred16_t pr = vctp8q((uint32_t)(k_c - i));
                vstrbq_p_s8(dst + i, inside ? vldrbq_z_s8(src + i, pr) : pad, pr);
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
    const int32_t filter_row = p->filter_w * k_c;
    const int32_t filter_size = k_h * filter_row;
    const int32_t *bias = p->bias, *mult = p->multiplier, *shift = p->shift;
    const tp_output_q q = {p->output_offset, p->act_min, p->act_max};

    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *in_b = input + b * p->input_h * p->input_w * p->input_c;
        for (int32_t y = 0; y < out_h; ++y) {
            const int32_t iy0 = y * p->stride_h - p->pad_h;
            for (int32_t x = 0; x < out_w; ++x) {
                const int32_t ix0 = x * p->stride_w - p->pad_w;
                int8_t *out = output + ((b * out_h + y) * out_w + x) * out_c;
                for (int32_t g = 0; g < groups; ++g) {
                    int32_t step;
                    const int8_t *patch = mve_patch(p, in_b, iy0, ix0, g * k_c, scratch, &step);
                    /* back-to-back filter rows make the patch one run of filter_size bytes */
                    const int one_run = k_h == 1 || step == filter_row;
                    const int32_t rows = one_run ? 1 : k_h;
                    const int32_t len = one_run ? filter_size : filter_row;
                    const int32_t oc_end = (g + 1) * filters_per_group;
                    for (int32_t oc = g * filters_per_group; oc < oc_end; oc += 4) {
                        const int32_t n_out = oc_end - oc < 4 ? oc_end - oc : 4;
                        /* filters past the group's end re-read filter oc; never stored */
                        const int8_t *w0 = filter + oc * filter_size;
                        const int8_t *w1 = n_out > 1 ? w0 + filter_size : w0;
                        const int8_t *w2 = n_out > 2 ? w0 + 2 * filter_size : w0;
                        const int8_t *w3 = n_out > 3 ? w0 + 3 * filter_size : w0;
                        int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
                        for (int32_t r = 0; r < rows; ++r) {
                            const int8_t *xr = patch + r * step;
                            const int32_t o = r * len;
                            for (int32_t i = 0; i < len; i += 16) {
                                const mve_pred16_t pr = vctp8q((uint32_t)(len - i));
                                const int8x16_t xv = vldrbq_z_s8(xr + i, pr);
                                a0 = vmladavaq_p_s8(a0, xv, vldrbq_z_s8(w0 + o + i, pr), pr);
                                a1 = vmladavaq_p_s8(a1, xv, vldrbq_z_s8(w1 + o + i, pr), pr);
                                a2 = vmladavaq_p_s8(a2, xv, vldrbq_z_s8(w2 + o + i, pr), pr);
                                a3 = vmladavaq_p_s8(a3, xv, vldrbq_z_s8(w3 + o + i, pr), pr);
                            }
                        }
                        const int32_t sums[4] = {a0, a1, a2, a3};
                        const int32x4_t acc = vaddq_s32(
                            vldrwq_s32(sums), vldrwq_z_s32(bias + oc, vctp32q((uint32_t)n_out)));
                        tp_mve_output_s8(acc, mult + oc, shift + oc, q, out + oc, n_out);
                    }
                }
            }
        }
    }
}

void tp_conv_w16_s8(const tp_conv_params *p, const int8_t *input, const int16_t *filter16,
                    int8_t *output, void *scratch)
{
    const int32_t k_h = p->filter_h;
    const int32_t out_h = p->output_h, out_w = p->output_w, out_c = p->output_c;
    const int32_t filter_row = p->filter_w * p->filter_c; /* a multiple of 4 */
    const int32_t *bias = p->bias, *mult = p->multiplier, *shift = p->shift;
    const tp_output_q q = {p->output_offset, p->act_min, p->act_max};
    const uint16x8_t order = {0, 2, 1, 3, 0, 2, 1, 3}; /* the host's tap order in a run */
    /* int16 lanes 0-3 and 4-7, made by VCTP at run time: gcc 12 materialises the constant
     * predicate 0x00FF as all lanes */
    uint32_t four = 4;
    __asm__("" : "+r"(four));
    const mve_pred16_t lanes_lo = vctp16q(four), lanes_hi = vpnot(lanes_lo);

    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *in_b = input + b * p->input_h * p->input_w * p->input_c;
        for (int32_t y = 0; y < out_h; ++y) {
            const int32_t iy0 = y * p->stride_h - p->pad_h;
            for (int32_t x = 0; x < out_w; ++x) {
                const int32_t ix0 = x * p->stride_w - p->pad_w;
                int8_t *out = output + ((b * out_h + y) * out_w + x) * out_c;
                int32_t step;
                const int8_t *patch = mve_patch(p, in_b, iy0, ix0, 0, scratch, &step);
                const int one_run = k_h == 1 || step == filter_row;
                const int32_t rows = one_run ? 1 : k_h;
                const int32_t len = one_run ? k_h * filter_row : filter_row;
                const int16_t *w = filter16;
                for (int32_t oc = 0; oc < out_c; oc += 4) {
                    int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
                    for (int32_t r = 0; r < rows; ++r) {
                        const int8_t *xr = patch + r * step;
                        for (int32_t i = 0; i < len; i += 4, w += 16) {
                            const int16x8_t xv = vldrbq_gather_offset_s16(xr + i, order);
                            const int16x8_t w01 = vldrhq_s16(w), w23 = vldrhq_s16(w + 8);
                            a0 = vmladavaq_p_s16(a0, xv, w01, lanes_lo);
                            a1 = vmladavaq_p_s16(a1, xv, w01, lanes_hi);
                            a2 = vmladavaq_p_s16(a2, xv, w23, lanes_lo);
                            a3 = vmladavaq_p_s16(a3, xv, w23, lanes_hi);
                        }
                    }
                    const int32_t sums[4] = {a0, a1, a2, a3};
                    const int32x4_t acc = vaddq_s32(vldrwq_s32(sums), vldrwq_s32(bias + oc));
                    tp_mve_output_s8(acc, mult + oc, shift + oc, q, out + oc, 4);
                }
            }
        }
    }
}
#else
typedef int tp_conv_no_mve; /* ISO C: no empty translation unit */
#endif
