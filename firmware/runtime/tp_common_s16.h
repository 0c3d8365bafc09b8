/* tinypipe runtime: helpers shared by the int16-activation ("16x8") kernels.
 *
 * In TFLite's 16x8 scheme activations are int16 with zero point 0 (symmetric) and weights are
 * int8. A layer's accumulator is int64 (an int64 bias, what the converter writes, or none) or
 * int32 (an int32 bias), and TFLM rescales the two differently:
 *   int32: tp_requantize (Q31 multiplier, doubling high multiply, rounding right shift);
 *   int64: the multiplier reduced to Q15 and one rounding shift, tp_requantize_s64 below.
 * The host picks the variant per layer and precomputes the reduced multiplier and the shift.
 */
#ifndef TP_COMMON_S16_H
#define TP_COMMON_S16_H

#include "tp_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* TFLM's MultiplyByQuantizedMultiplier for an int64 x, with the host-made
 * reduced_multiplier = round(multiplier / 2^16) (at most 2^15 - 1) and
 * total_shift = 15 - shift (1..46): (x * reduced_multiplier + 2^(total_shift-1)) >> total_shift,
 * narrowed to int32 by dropping the high bits as TFLM does. The host bounds |x| below 2^47,
 * so the product cannot overflow. */
static inline int32_t tp_requantize_s64(int64_t x, int32_t reduced_multiplier, int32_t total_shift)
{
    const int64_t r = (x * (int64_t)reduced_multiplier + ((int64_t)1 << (total_shift - 1))) >>
                      total_shift;
    return (int32_t)(uint32_t)(uint64_t)r;
}

/* acc + sum_{i<n} x[i] * w[i], int16 activations times int8 weights, in int64 */
static inline int64_t tp_dot_s16_s64(const int16_t *x, const int8_t *w, int32_t n, int64_t acc)
{
    int32_t i = 0;
    /* Partial sums stay far inside int32 (|x*w| < 2^22, 256 of them < 2^30), so they are
     * summed in 32 bits and widened once per block: the same integer, fewer 64-bit adds. */
    while (i < n) {
        const int32_t end = n - i > 256 ? i + 256 : n;
        int32_t part = 0;
        for (; i < end; ++i) {
            part += (int32_t)x[i] * (int32_t)w[i];
        }
        acc += part;
    }
    return acc;
}

/* Rescale of a 16x8 accumulator: the int64 path when `wide`, else the int32 one (see the top of
 * the file). The kernels always sum exactly in int64; for an int32 accumulator the low 32 bits
 * of that sum are what TFLM's int32 sum holds, also when it wraps (sums modulo 2^32 agree). */
static inline int32_t tp_rescale_s16(int64_t acc, int32_t wide, int32_t multiplier, int32_t shift)
{
    if (wide) {
        return tp_requantize_s64(acc, multiplier, shift);
    }
    return tp_requantize((int32_t)(uint32_t)(uint64_t)acc, multiplier, shift);
}

static inline int16_t tp_sat_s16(int32_t x) { return (int16_t)tp_clamp_i32(x, -32768, 32767); }

/* Broadcasting (tp_broadcast, tp_common.h) over int16 elements, a row at a time: `row` makes the
 * n outputs of one innermost row from inputs s1 and s2 elements apart (0 where broadcast), so a
 * kernel keeps its parameters in locals for the whole row instead of reloading them per
 * element. */
typedef void (*tp_row_s16)(const void *params, const int16_t *x1, int32_t s1, const int16_t *x2,
                           int32_t s2, int16_t *out, int32_t n);

static inline void tp_broadcast_rows_s16(const tp_broadcast *b, tp_row_s16 row,
                                         const void *params, const int16_t *input1,
                                         const int16_t *input2, int16_t *output)
{
    const int32_t *n = b->dims, *s1 = b->in1_stride, *s2 = b->in2_stride;
    for (int32_t i0 = 0; i0 < n[0]; ++i0) {
        for (int32_t i1 = 0; i1 < n[1]; ++i1) {
            for (int32_t i2 = 0; i2 < n[2]; ++i2) {
                const int16_t *x1 = input1 + i0 * s1[0] + i1 * s1[1] + i2 * s1[2];
                const int16_t *x2 = input2 + i0 * s2[0] + i1 * s2[1] + i2 * s2[2];
                row(params, x1, s1[3], x2, s2[3], output, n[3]);
                output += n[3];
            }
        }
    }
}

#ifdef __cplusplus
}
#endif

#endif /* TP_COMMON_S16_H */
