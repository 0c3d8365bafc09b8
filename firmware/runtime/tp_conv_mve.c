/* CONV_2D on a Helium core: the sums of tp_conv.c (bias folded on the host, padded taps holding
 * the input zero point), four output channels a step, with the four accumulators requantized
 * and stored together (tp_mve.h says why every step is exact).
 *
 * - tp_conv_s8 (int8 filters): per output pixel, the patch is read in place or gathered with
 *   16-byte vector copies; each 16-byte slice of it is loaded once and multiplied into four
 *   filters with VMLADAVA.S8 (tp_mve_dot4_s8).
 * - tp_conv_w16_s8 (int16 filters, interleaved by the host for the Cortex-M4's SMLAD tile,
 *   see tp_conv.h): two output pixels at a time share every weight load; per run of 4 taps one
 *   gather load puts each patch's bytes into the filter's order (see w16_dot). */
#include "tp_conv.h"
#include "tp_mve.h"

#ifdef TP_MVE
/* n bytes from src to dst, or n copies of pad's bytes when src is NULL; 16 at a time, the last
 * step tail-predicated. */
static inline void mve_copy_s8(int8_t *dst, const int8_t *src, int8x16_t pad, int32_t n)
{
    for (int32_t i = 0; i < n; i += 16) {
        const mve_pred16_t pr = vctp8q((uint32_t)(n - i));
        vstrbq_p_s8(dst + i, src ? vldrbq_z_s8(src + i, pr) : pad, pr);
    }
}

/* The patch of the output pixel whose window starts at input (iy0, ix0), for input channels
 * [c0, c0 + filter_c): in place when the host allows it and the window lies inside the input,
 * else gathered into col (padded taps set to the input zero point, and p->patch_pad more bytes
 * after it). *row_step is the distance between its filter rows. */
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
    const int32_t run = k_w * k_c; /* one filter row */
    /* whole filter rows are contiguous input bytes: ungrouped, no horizontal dilation, the
     * window's columns all inside */
    const int rows_whole = k_c == p->input_c && p->dilation_w == 1 && ix0 >= 0 &&
                           ix0 + k_w <= p->input_w;
    int8_t *dst = col;
    for (int32_t ky = 0; ky < k_h; ++ky, dst += run) {
        const int32_t iy = iy0 + ky * p->dilation_h;
        if (iy < 0 || iy >= p->input_h) { /* a row of padding */
            mve_copy_s8(dst, NULL, pad, run);
        } else if (rows_whole) {
            mve_copy_s8(dst, in_b + iy * input_row + ix0 * k_c, pad, run);
        } else {
            for (int32_t kx = 0; kx < k_w; ++kx) {
                const int32_t ix = ix0 + kx * p->dilation_w;
                const int inside = ix >= 0 && ix < p->input_w;
                mve_copy_s8(dst + kx * k_c, inside ? in_b + iy * input_row + ix * p->input_c + c0 : NULL,
                            pad, k_c);
            }
        }
    }
    mve_copy_s8(dst, NULL, pad, p->patch_pad); /* met by zero weights (w16 only) */
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
                        const int8_t *w = filter + oc * filter_size;
                        int32_t sums[4] = {0, 0, 0, 0};
                        for (int32_t r = 0; r < rows; ++r) {
                            tp_mve_dot4_s8(patch + r * step, w + r * len, filter_size, n_out, len,
                                           sums);
                        }
                        const int32x4_t acc = vaddq_s32(
                            vldrwq_s32(sums), vldrwq_z_s32(bias + oc, vctp32q((uint32_t)n_out)));
                        tp_mve_output_s8(acc, mult + oc, shift + oc, q, out + oc, n_out);
                    }
                }
            }
        }
    }
}

/* The w16 layout's run of 4 taps k..k+3 holds, per channel, w[k], w[k+2], w[k+1], w[k+3]; an
 * 8-weight load is channels c and c+1 of a run. The patch bytes are gathered into the same
 * order twice over (lanes 0-3 and 4-7); `hi` keeps lanes 4-7 of that and zeroes lanes 0-3. Then
 * VMLADAVA over all lanes adds channel c's and c+1's products, over `hi` only c+1's, and c's
 * sum is the difference. */
static const uint16x8_t w16_order = {0, 2, 1, 3, 0, 2, 1, 3};

/* sums[c] (c < 4) += channel c's dot product of the patch row x (n bytes, a multiple of 4)
 * with the w16 filter at w; returns w past the row. sums[4..7] likewise for a second patch
 * row x1 when x1 is not NULL, sharing every weight load. */
static const int16_t *w16_dot(const int8_t *x0, const int8_t *x1, const int16_t *w, int32_t n,
                              int16x8_t hi_mask, int32_t sums[8])
{
    int32_t runs = n / 4; /* n >= 4 */
    int32_t all01 = 0, hi01 = 0, all23 = 0, hi23 = 0; /* pixel 0 */
    int32_t bll01 = 0, bhi01 = 0, bll23 = 0, bhi23 = 0; /* pixel 1 */
    if (x1) {
        /* The loop written out: gcc 12's schedule of the intrinsics keeps one of the eight
         * accumulators on the stack. Per run of 4 taps: 2 gathers, 2 weight loads (the second
         * advancing w), 2 masks, 8 multiply-accumulates and the two patch pointers' steps. */
        int16x8_t xa, xb, w01, w23;
        __asm__("1:\n\t"
                "vldrb.s16    %q[xa], [%[x0], %q[ord]]\n\t"
                "vldrb.s16    %q[xb], [%[x1], %q[ord]]\n\t"
                "vldrh.s16    %q[w23], [%[w], #16]\n\t"
                "vldrh.s16    %q[w01], [%[w]], #32\n\t"
                "adds         %[x0], %[x0], #4\n\t"
                "adds         %[x1], %[x1], #4\n\t"
                "vmladava.s16 %[a01], %q[xa], %q[w01]\n\t"
                "vmladava.s16 %[a23], %q[xa], %q[w23]\n\t"
                "vmladava.s16 %[b01], %q[xb], %q[w01]\n\t"
                "vmladava.s16 %[b23], %q[xb], %q[w23]\n\t"
                "vand         %q[xa], %q[xa], %q[hi]\n\t"
                "vand         %q[xb], %q[xb], %q[hi]\n\t"
                "vmladava.s16 %[ah01], %q[xa], %q[w01]\n\t"
                "vmladava.s16 %[ah23], %q[xa], %q[w23]\n\t"
                "vmladava.s16 %[bh01], %q[xb], %q[w01]\n\t"
                "vmladava.s16 %[bh23], %q[xb], %q[w23]\n\t"
                "subs         %[k], %[k], #1\n\t"
                "bne          1b"
                : [a01] "+Te"(all01), [ah01] "+Te"(hi01), [a23] "+Te"(all23), [ah23] "+Te"(hi23),
                  [b01] "+Te"(bll01), [bh01] "+Te"(bhi01), [b23] "+Te"(bll23), [bh23] "+Te"(bhi23),
                  [x0] "+r"(x0), [x1] "+r"(x1), [w] "+r"(w), [k] "+r"(runs), [xa] "=&w"(xa),
                  [xb] "=&w"(xb), [w01] "=&w"(w01), [w23] "=&w"(w23)
                : [ord] "w"(w16_order), [hi] "w"(hi_mask)
                : "cc", "memory");
    } else {
        for (int32_t i = 0; i < n; i += 4, w += 16) {
            const int16x8_t xa = vldrbq_gather_offset_s16(x0 + i, w16_order);
            const int16x8_t w01 = vldrhq_s16(w), w23 = vldrhq_s16(w + 8);
            const int16x8_t xah = vandq_s16(xa, hi_mask);
            all01 = vmladavaq_s16(all01, xa, w01);
            hi01 = vmladavaq_s16(hi01, xah, w01);
            all23 = vmladavaq_s16(all23, xa, w23);
            hi23 = vmladavaq_s16(hi23, xah, w23);
        }
    }
    sums[0] += all01 - hi01;
    sums[1] += hi01;
    sums[2] += all23 - hi23;
    sums[3] += hi23;
    sums[4] += bll01 - bhi01;
    sums[5] += bhi01;
    sums[6] += bll23 - bhi23;
    sums[7] += bhi23;
    return w;
}

void tp_conv_w16_s8(const tp_conv_params *p, const int8_t *input, const int16_t *filter16,
                    int8_t *output, void *scratch)
{
    const int32_t k_h = p->filter_h;
    const int32_t out_h = p->output_h, out_w = p->output_w, out_c = p->output_c;
    const int32_t filter_row = p->filter_w * p->filter_c;
    const int32_t filter_size = k_h * filter_row + p->patch_pad; /* a multiple of 4 */
    const int32_t *bias = p->bias, *rq = p->requant;
    const tp_output_q q = {p->output_offset, p->act_min, p->act_max};
    const int16x8_t hi_mask = {0, 0, 0, 0, -1, -1, -1, -1};
    int8_t *col = (int8_t *)scratch; /* room for two gathered patches */

    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *in_b = input + b * p->input_h * p->input_w * p->input_c;
        for (int32_t y = 0; y < out_h; ++y) {
            const int32_t iy0 = y * p->stride_h - p->pad_h;
            for (int32_t x = 0; x < out_w; x += 2) {
                const int pair = x + 1 < out_w; /* pixels x and x + 1, or x alone at the end */
                const int32_t ix0 = x * p->stride_w - p->pad_w;
                int8_t *out0 = output + ((b * out_h + y) * out_w + x) * out_c;
                int32_t step0, step1 = filter_row;
                const int8_t *x0 = mve_patch(p, in_b, iy0, ix0, 0, col, &step0);
                const int8_t *x1 = NULL;
                if (pair) {
                    x1 = mve_patch(p, in_b, iy0, ix0 + p->stride_w, 0, col + filter_size, &step1);
                }
                const int one_run = k_h == 1 || (step0 == filter_row && step1 == filter_row);
                const int32_t rows = one_run ? 1 : k_h;
                const int32_t len = one_run ? filter_size : filter_row;
                const int16_t *w = filter16;
                for (int32_t oc = 0; oc < out_c; oc += 4) {
                    int32_t sums[8] = {0, 0, 0, 0, 0, 0, 0, 0};
                    for (int32_t r = 0; r < rows; ++r) {
                        w = w16_dot(x0 + r * step0, pair ? x1 + r * step1 : NULL, w, len,
                                    hi_mask, sums);
                    }
                    const int32x4_t b4 = vldrwq_s32(bias + oc);
                    tp_mve_output_rq_s8(vaddq_s32(vldrwq_s32(sums), b4), rq + 3 * oc, q, out0 + oc);
                    if (pair) {
                        tp_mve_output_rq_s8(vaddq_s32(vldrwq_s32(sums + 4), b4), rq + 3 * oc, q,
                                            out0 + out_c + oc);
                    }
                }
            }
        }
    }
}
#else
typedef int tp_conv_no_mve; /* ISO C: no empty translation unit */
#endif
