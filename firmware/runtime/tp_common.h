/* tinypipe runtime: fixed-point helpers shared by the int8 kernels.
 *
 * These follow the TFLite int8 quantization spec: real = scale * (q - zero_point), and a
 * rescale by a real multiplier M is done as a Q31 mantissa times 2^shift, with the same
 * rounding as TFLM's reference kernels so results are bit-exact.
 */
#ifndef TP_COMMON_H
#define TP_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

static inline int32_t tp_min_i32(int32_t a, int32_t b) { return a < b ? a : b; }
static inline int32_t tp_max_i32(int32_t a, int32_t b) { return a > b ? a : b; }

static inline int32_t tp_clamp_i32(int32_t x, int32_t lo, int32_t hi)
{
    return x < lo ? lo : (x > hi ? hi : x);
}

/* round(a * b / 2^31), saturating the single overflow case INT32_MIN * INT32_MIN. */
static inline int32_t tp_sat_rounding_doubling_high_mul(int32_t a, int32_t b)
{
    if (a == INT32_MIN && b == INT32_MIN) {
        return INT32_MAX;
    }
    int64_t ab = (int64_t)a * (int64_t)b;
    int64_t nudge = ab >= 0 ? ((int64_t)1 << 30) : (1 - ((int64_t)1 << 30));
    return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}

/* x / 2^exponent, rounding half away from zero. */
static inline int32_t tp_rounding_divide_by_pot(int32_t x, int exponent)
{
    int32_t mask = (int32_t)(((int64_t)1 << exponent) - 1);
    int32_t remainder = x & mask;
    int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* x * M where M = multiplier * 2^(shift - 31): TFLM's MultiplyByQuantizedMultiplier.
 * The left shift wraps like TFLM's int32 arithmetic, done unsigned to stay defined C. */
static inline int32_t tp_requantize(int32_t x, int32_t multiplier, int32_t shift)
{
    int left = shift > 0 ? shift : 0;
    int right = shift > 0 ? 0 : -shift;
    int32_t shifted = (int32_t)((uint32_t)x << left);
    return tp_rounding_divide_by_pot(tp_sat_rounding_doubling_high_mul(shifted, multiplier), right);
}

static inline int8_t tp_sat_s8(int32_t x) { return (int8_t)tp_clamp_i32(x, -128, 127); }

#ifdef __cplusplus
}
#endif

#endif /* TP_COMMON_H */
