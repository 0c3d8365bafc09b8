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

/* acc + sum_{i<n} x[i] * w[i], sixteen bytes a step. */
static inline int32_t tp_mve_dot_s8(const int8_t *x, const int8_t *w, int32_t n, int32_t acc)
{
    for (int32_t i = 0; i < n; i += 16) {
        const mve_pred16_t p = vctp8q((uint32_t)(n - i));
        acc = vmladavaq_p_s8(acc, vldrbq_z_s8(x + i, p), vldrbq_z_s8(w + i, p), p);
    }
    return acc;
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
static inline void tp_mve_output_s8(int32x4_t acc, const int32_t *multiplier,
                                    const int32_t *shift, tp_output_q q, int8_t *out,
                                    int32_t count)
{
    const mve_pred16_t p = vctp32q((uint32_t)count);
    int32x4_t v = tp_mve_requantize(acc, vldrwq_z_s32(multiplier, p), vldrwq_z_s32(shift, p));
    v = vaddq_s32(v, vdupq_n_s32(q.zero_point));
    v = vminq_s32(vmaxq_s32(v, vdupq_n_s32(q.act_min)), vdupq_n_s32(q.act_max));
    vstrbq_p_s32(out, v, p);
}
#endif

#endif /* TP_MVE_H */
