/* FULLY_CONNECTED on a Helium core: the same sums as tp_fully_connected.c (bias folded on the
 * host), four output channels a step: each 16-byte slice of the input is loaded once and
 * multiplied into four weight rows with VMLADAVA (tp_mve_dot4_s8); the four accumulators are
 * requantized and stored together (tp_mve.h says why every step is exact). */
#include "tp_fully_connected.h"
#include "tp_mve.h"

#ifdef TP_MVE
void tp_fully_connected_s8(const tp_fully_connected_params *p, const int8_t *input,
                           const int8_t *weights, int8_t *output)
{
    const int32_t n = p->in_features, outs = p->out_features;
    const int32_t *bias = p->bias, *mult = p->multiplier, *shift = p->shift;
    const tp_output_q q = {p->output_offset, p->act_min, p->act_max};
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *x = input + b * n;
        int8_t *out = output + b * outs;
        int32_t x_sum = 0;
        if (p->filter_offset != 0) { /* only asymmetric per-tensor weights need sum(x) */
            for (int32_t i = 0; i < n; i += 16) {
                const mve_pred16_t pr = vctp8q((uint32_t)(n - i));
                x_sum = vaddvaq_p_s8(x_sum, vldrbq_z_s8(x + i, pr), pr);
            }
        }
        const int32_t x_term = p->filter_offset * x_sum;
        for (int32_t o = 0; o < outs; o += 4) {
            const int32_t rows = outs - o < 4 ? outs - o : 4;
            int32_t sums[4] = {0, 0, 0, 0};
            tp_mve_dot4_s8(x, weights + o * n, n, rows, n, sums);
            const mve_pred16_t pr = vctp32q((uint32_t)rows);
            const int32x4_t acc = vaddq_s32(vaddq_s32(vldrwq_s32(sums), vldrwq_z_s32(bias + o, pr)),
                                            vdupq_n_s32(x_term));
            tp_mve_output_s8(acc, mult + o, shift + o, q, out + o, rows);
        }
    }
}

/* The weights interleaved by the host for the Cortex-M4 (tp_fully_connected.h): per group of
 * 4 outputs and chunk of 4 inputs, the 4 outputs' 4 weight bytes side by side. Four chunks (16
 * inputs) go at once: one load brings the 16 input bytes, and a gather of 4 words (one per
 * chunk, 16 bytes apart) brings one output's 16 matching weights, for VMLADAVA. A tail of 1-3
 * chunks is predicated. The requantization comes as the host's 3-word records. */
void tp_fully_connected_x4_s8(const tp_fully_connected_params *p, const int8_t *input,
                              const int32_t *w4, int8_t *output)
{
    const int32_t n = p->in_features, outs = p->out_features; /* multiples of 4 */
    const int32_t *bias = p->bias;
    const tp_output_q q = {p->output_offset, p->act_min, p->act_max};
    const uint32x4_t chunk = {0, 4, 8, 12}; /* word offsets of one output's 4 words */
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *x = input + b * n;
        int8_t *out = output + b * outs;
        const int32_t *w = w4;
        for (int32_t o = 0; o < outs; o += 4) {
            int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
            int32_t i = 0;
            for (; i + 16 <= n; i += 16, w += 16) {
                const int8x16_t xv = vldrbq_s8(x + i);
                a0 = vmladavaq_s8(a0, xv, vreinterpretq_s8_s32(vldrwq_gather_shifted_offset_s32(w, chunk)));
                a1 = vmladavaq_s8(a1, xv, vreinterpretq_s8_s32(vldrwq_gather_shifted_offset_s32(w + 1, chunk)));
                a2 = vmladavaq_s8(a2, xv, vreinterpretq_s8_s32(vldrwq_gather_shifted_offset_s32(w + 2, chunk)));
                a3 = vmladavaq_s8(a3, xv, vreinterpretq_s8_s32(vldrwq_gather_shifted_offset_s32(w + 3, chunk)));
            }
            if (i < n) { /* 1-3 chunks: the lanes past them are zero in the input */
                const int32_t left = n - i;
                const int8x16_t xv = vldrbq_z_s8(x + i, vctp8q((uint32_t)left));
                const mve_pred16_t pw = vctp32q((uint32_t)(left / 4));
                a0 = vmladavaq_s8(a0, xv, vreinterpretq_s8_s32(vldrwq_gather_shifted_offset_z_s32(w, chunk, pw)));
                a1 = vmladavaq_s8(a1, xv, vreinterpretq_s8_s32(vldrwq_gather_shifted_offset_z_s32(w + 1, chunk, pw)));
                a2 = vmladavaq_s8(a2, xv, vreinterpretq_s8_s32(vldrwq_gather_shifted_offset_z_s32(w + 2, chunk, pw)));
                a3 = vmladavaq_s8(a3, xv, vreinterpretq_s8_s32(vldrwq_gather_shifted_offset_z_s32(w + 3, chunk, pw)));
                w += left;
            }
            const int32_t sums[4] = {a0, a1, a2, a3};
            tp_mve_output_rq_s8(vaddq_s32(vldrwq_s32(sums), vldrwq_s32(bias + o)),
                                p->requant + 3 * o, q, out + o);
        }
    }
}
#else
typedef int tp_fully_connected_no_mve; /* ISO C: no empty translation unit */
#endif
