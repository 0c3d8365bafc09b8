/* tinypipe runtime: Helium (M-profile Vector Extension, MVE) building blocks for the int8
 * kernels on cores that have it (Cortex-M55, M85). Each kernel's `_mve.c` file uses them and is
 * empty elsewhere; on an MVE core the generic kernel is compiled under a `_generic` name and
 * kept for the cases the vector code leaves to it.
 *
 * Why each block returns TFLM's result bit for bit:
 * - Dot products (VMLADAVA.S8): sixteen int8 x int8 products, each exact, summed into a 32-bit
 *   accumulator; the sum is the same integer sum in another order, and the hosts check that no
 *   partial sum leaves int32. Tails use tail predication (VCTP): lanes past the end are neither
 *   loaded (no memory access) nor added (zeroed).
 * - Requantization of four int32 lanes, TFLM's MultiplyByQuantizedMultiplier for a multiplier
 *   >= 0 (the hosts refuse others):
 *     1. x << max(shift, 0), wrapping like the scalar code (VSHL, register);
 *     2. gemmlowp's SaturatingRoundingDoublingHighMul is floor((a*b + 2^30) / 2^31) for both
 *        signs of a*b (proof in tp_common.h), which is what VQRDMULH computes (it saturates the
 *        same single case, a = b = INT32_MIN, which a multiplier >= 0 cannot reach);
 *     3. RoundingDivideByPOT by r = max(-shift, 0) rounds half away from zero, i.e.
 *        floor((t + 2^(r-1) - [t < 0]) / 2^r); VRSHL by -r computes floor((v + 2^(r-1)) / 2^r)
 *        without overflow, so v = t - [t < 0] when r > 0 (VQADD of the sign mask; saturating at
 *        t = INT32_MIN gives the same floor) and v = t when r = 0.
 *   Then + output zero point, clamp to the fused activation, and a narrowing byte store.
 */
#ifndef TP_MVE_H
#define TP_MVE_H

#include "tp_common.h"

#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)
#include <arm_mve.h>
#define TP_MVE 1

/* acc[j] += sum_{i<n} x[i] * w_j[i] for the rows w_j = w + j * stride, j < rows (1..4): each
 * 16-byte slice of x is loaded once and meets every row. Rows past `rows` repeat row 0: their
 * sums are computed and left for the caller to ignore. Whole slices run unpredicated; the tail
 * slice is loaded with its lanes past n zeroed (and not read), so they add nothing. */
static inline void tp_mve_dot4_s8(const int8_t *x, const int8_t *w, int32_t stride, int32_t rows,
                                  int32_t n, int32_t acc[4])
{
    const int8_t *w0 = w;
    const int8_t *w1 = rows > 1 ? w + stride : w;
    const int8_t *w2 = rows > 2 ? w + 2 * stride : w;
    const int8_t *w3 = rows > 3 ? w + 3 * stride : w;
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    int32_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const int8x16_t xv = vldrbq_s8(x + i);
        a0 = vmladavaq_s8(a0, xv, vldrbq_s8(w0 + i));
        a1 = vmladavaq_s8(a1, xv, vldrbq_s8(w1 + i));
        a2 = vmladavaq_s8(a2, xv, vldrbq_s8(w2 + i));
        a3 = vmladavaq_s8(a3, xv, vldrbq_s8(w3 + i));
    }
    if (i < n) {
        const mve_pred16_t p = vctp8q((uint32_t)(n - i));
        const int8x16_t xv = vldrbq_z_s8(x + i, p);
        a0 = vmladavaq_s8(a0, xv, vldrbq_z_s8(w0 + i, p));
        a1 = vmladavaq_s8(a1, xv, vldrbq_z_s8(w1 + i, p));
        a2 = vmladavaq_s8(a2, xv, vldrbq_z_s8(w2 + i, p));
        a3 = vmladavaq_s8(a3, xv, vldrbq_z_s8(w3 + i, p));
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

/* The four requantized lanes of acc: TFLM's MultiplyByQuantizedMultiplier (see above). */
static inline int32x4_t tp_mve_requantize(int32x4_t acc, int32x4_t multiplier, int32x4_t shift)
{
    const int32x4_t zero = vdupq_n_s32(0);
    const int32x4_t neg_right = vminq_s32(shift, zero); /* -r */
    const int32x4_t t = vqrdmulhq_s32(vshlq_s32(acc, vmaxq_s32(shift, zero)), multiplier);
    /* -1 where t < 0 and r > 0 (the sign bit of t & -r), else 0 */
    const int32x4_t fixup = vshrq_n_s32(vandq_s32(t, neg_right), 31);
    return vrshlq_s32(vqaddq_s32(t, fixup), neg_right);
}

/* Lanes [0, count) of the int8 outputs of four accumulators, stored at out: requantized,
 * offset by the output zero point and clamped to the activation range. */
static inline void tp_mve_output4_s8(int32x4_t acc, int32x4_t multiplier, int32x4_t shift,
                                     tp_output_q q, int8_t *out, int32_t count)
{
    int32x4_t v = vaddq_s32(tp_mve_requantize(acc, multiplier, shift), vdupq_n_s32(q.zero_point));
    v = vminq_s32(vmaxq_s32(v, vdupq_n_s32(q.act_min)), vdupq_n_s32(q.act_max));
    vstrbq_p_s32(out, v, vctp32q((uint32_t)count));
}

/* The same with the per-channel multipliers and shifts read from their arrays. */
static inline void tp_mve_output_s8(int32x4_t acc, const int32_t *multiplier,
                                    const int32_t *shift, tp_output_q q, int8_t *out,
                                    int32_t count)
{
    const mve_pred16_t p = vctp32q((uint32_t)count);
    tp_mve_output4_s8(acc, vldrwq_z_s32(multiplier, p), vldrwq_z_s32(shift, p), q, out, count);
}

/* Four channels whose requantization comes as the host's 3-word records (tp_output_rq_s8 in
 * tp_common.h): lane j's record starts at word record[j] of rq, and its output goes to
 * out[offset[j]]. multiplier = rq[0] and shift = -(rq[2] + 1) of each record. */
static inline void tp_mve_output_rq_scatter_s8(int32x4_t acc, const int32_t *rq,
                                               uint32x4_t record, tp_output_q q, int8_t *out,
                                               uint32x4_t offset)
{
    const int32x4_t multiplier = vldrwq_gather_shifted_offset_s32(rq, record);
    const int32x4_t r_minus_1 = vldrwq_gather_shifted_offset_s32(rq + 2, record);
    int32x4_t v = tp_mve_requantize(acc, multiplier, vsubq_s32(vdupq_n_s32(-1), r_minus_1));
    v = vaddq_s32(v, vdupq_n_s32(q.zero_point));
    v = vminq_s32(vmaxq_s32(v, vdupq_n_s32(q.act_min)), vdupq_n_s32(q.act_max));
    vstrbq_scatter_offset_s32(out, offset, v);
}

/* The same for four consecutive channels and records. */
static inline void tp_mve_output_rq_s8(int32x4_t acc, const int32_t *rq, tp_output_q q,
                                       int8_t *out)
{
    const uint32x4_t record = {0, 3, 6, 9}, offset = {0, 1, 2, 3};
    tp_mve_output_rq_scatter_s8(acc, rq, record, q, out, offset);
}
#endif

#endif /* TP_MVE_H */
