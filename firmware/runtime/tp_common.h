/* tinypipe runtime: helpers shared by the int8 kernels.
 *
 * The fixed-point helpers follow the TFLite int8 quantization spec:
 * real = scale * (q - zero_point), and a rescale by a real multiplier M is done as a Q31
 * mantissa times 2^shift, with the same rounding as TFLM's reference kernels so results are
 * bit-exact. After them come the pieces of loop plumbing several kernels share: the in-bounds
 * taps of a padded convolution window, and the broadcast loop of the two-input elementwise ops.
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

/* The filter taps k in [*first, *last) whose input coordinate origin + k * dilation lies in
 * [0, size): the taps that do not fall on zero padding. */
static inline void tp_tap_range(int32_t origin, int32_t dilation, int32_t size, int32_t taps,
                                int32_t *first, int32_t *last)
{
    int32_t lo = origin < 0 ? (-origin + dilation - 1) / dilation : 0;
    int32_t hi = size > origin ? (size - origin + dilation - 1) / dilation : 0;
    *first = lo;
    *last = hi < taps ? hi : taps;
}

/* Broadcasting of a two-input elementwise op (ADD, MUL): the host merges the output shape into
 * at most 4 dims (outermost first) and gives each input an element stride per dim, 0 where
 * that input is broadcast along it. */
typedef struct {
    int32_t dims[4];       /* output shape, merged and padded with leading 1s */
    int32_t in1_stride[4]; /* element strides of input 1 (0 = broadcast) */
    int32_t in2_stride[4]; /* element strides of input 2 (0 = broadcast) */
} tp_broadcast;

/* output = op(params, x1, x2) for every output element in memory order, x1 and x2 being the
 * input elements broadcast to it. Inlined into each kernel, so `op` becomes a direct call. */
static inline void tp_broadcast_s8(const tp_broadcast *b,
                                   int8_t (*op)(const void *params, int8_t x1, int8_t x2),
                                   const void *params, const int8_t *input1,
                                   const int8_t *input2, int8_t *output)
{
    const int32_t *n = b->dims, *s1 = b->in1_stride, *s2 = b->in2_stride;
    for (int32_t i0 = 0; i0 < n[0]; ++i0) {
        for (int32_t i1 = 0; i1 < n[1]; ++i1) {
            for (int32_t i2 = 0; i2 < n[2]; ++i2) {
                const int8_t *x1 = input1 + i0 * s1[0] + i1 * s1[1] + i2 * s1[2];
                const int8_t *x2 = input2 + i0 * s2[0] + i1 * s2[1] + i2 * s2[2];
                for (int32_t i3 = 0; i3 < n[3]; ++i3) {
                    *output++ = op(params, x1[i3 * s1[3]], x2[i3 * s2[3]]);
                }
            }
        }
    }
}

#ifdef __cplusplus
}
#endif

#endif /* TP_COMMON_H */
