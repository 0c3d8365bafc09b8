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

/* For small helpers of the hot loops, which must be inlined for their arrays to live in
 * registers (gcc's heuristics give up on large kernel bodies). */
#if defined(__GNUC__)
#define TP_INLINE static inline __attribute__((always_inline))
#else
#define TP_INLINE static inline
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

/* The same nest a row at a time: `row` makes the n outputs of one innermost row from inputs s1
 * and s2 elements apart (0 where broadcast), so a kernel can keep its parameters in registers
 * for the whole row and take contiguous rows several elements at a time. */
typedef void (*tp_row_s8)(const void *params, const int8_t *x1, int32_t s1, const int8_t *x2,
                          int32_t s2, int8_t *out, int32_t n);

static inline void tp_broadcast_rows_s8(const tp_broadcast *b, tp_row_s8 row, const void *params,
                                        const int8_t *input1, const int8_t *input2,
                                        int8_t *output)
{
    const int32_t *n = b->dims, *s1 = b->in1_stride, *s2 = b->in2_stride;
    for (int32_t i0 = 0; i0 < n[0]; ++i0) {
        for (int32_t i1 = 0; i1 < n[1]; ++i1) {
            for (int32_t i2 = 0; i2 < n[2]; ++i2) {
                const int8_t *x1 = input1 + i0 * s1[0] + i1 * s1[1] + i2 * s1[2];
                const int8_t *x2 = input2 + i0 * s2[0] + i1 * s2[1] + i2 * s2[2];
                row(params, x1, s1[3], x2, s2[3], output, n[3]);
                output += n[3];
            }
        }
    }
}

/* ---- Products without a 64-bit multiply ----
 *
 * ARMv6-M (Cortex-M0/M0+) multiplies 32x32 -> 32 bits only: a 64-bit product in C becomes a
 * call to libgcc's __aeabi_lmul (about 45 instructions with its register saves). The
 * requantization needs only the high word of x * multiplier plus a constant, which four 16x16
 * products give exactly (TP_SPLIT_MULTIPLY; defining it elsewhere tests this path on the host).
 */
#if defined(__ARM_ARCH_6M__) && !defined(TP_SPLIT_MULTIPLY)
#define TP_SPLIT_MULTIPLY 1
#endif

/* floor(a * b / 2^32) for any int32 a, b (Hacker's Delight's mulhs). With a = aH * 2^16 + aL
 * and b = bH * 2^16 + bL (aH, bH signed, aL, bL in [0, 2^16)), every partial sum below stays
 * inside int32: aH * bL + 65535 <= 32768 * 65535 < 2^31, and likewise aL * bH + 65535. */
static inline int32_t tp_mul_high(int32_t a, int32_t b)
{
    const int32_t a_hi = a >> 16, b_hi = b >> 16;
    const uint32_t a_lo = (uint32_t)a & 0xFFFFu, b_lo = (uint32_t)b & 0xFFFFu;
    const int32_t mid = a_hi * (int32_t)b_lo + (int32_t)((a_lo * b_lo) >> 16);
    const int32_t mid2 = (int32_t)a_lo * b_hi + (int32_t)((uint32_t)mid & 0xFFFFu);
    return a_hi * b_hi + (mid >> 16) + (mid2 >> 16);
}

/* The high word of a * b + (hi * 2^32 + lo), wrapped to 32 bits: the low word of a * b is one
 * 32-bit multiply, and adding lo to it carries into the high word. */
static inline int32_t tp_mul_add_high(int32_t a, int32_t b, uint32_t lo, int32_t hi)
{
    const uint32_t low = (uint32_t)a * (uint32_t)b + lo;
    return (int32_t)((uint32_t)tp_mul_high(a, b) + (uint32_t)hi + (low < lo));
}

/* floor((a * m + 2^30 - [a < 0] * 2^31) / 2^32) for m in [0, 2^31): the high word of
 * tp_requantize_nonneg's multiply-add below, without the low word. As in tp_mul_high, but the
 * rounding term, 2^16 times (2^14 - [a < 0] * 2^15), goes into the middle sum: the product is
 * H * 2^32 + mid2 * 2^16 + (a_lo * m_lo mod 2^16), and the last term is too small to carry
 * into floor(mid2 / 2^16). mid2 stays inside int32: a_lo * m_hi <= 65535 * 32767, plus at
 * most 65535 + 16384, or at least -16384. */
static inline int32_t tp_mul_round_high_nonneg(int32_t a, int32_t m)
{
#if defined(__ARM_ARCH_6M__) && defined(__GNUC__)
    /* The same steps in 23 Thumb-1 instructions (gcc's own take about 35, moving the halves
     * through high registers). The round term is 0x4000 - [a < 0] * 0x8000. */
    int32_t a_hi, a_lo, m_lo, m_hi, t;
    __asm__(".syntax unified\n\t"
            "asrs %[ah], %[a], #16\n\t"
            "uxth %[al], %[a]\n\t"
            "uxth %[ml], %[m]\n\t"
            "lsrs %[mh], %[m], #16\n\t"
            "movs %[t], %[al]\n\t"
            "muls %[t], %[ml], %[t]\n\t" /* a_lo * m_lo */
            "lsrs %[t], %[t], #16\n\t"
            "muls %[ml], %[ah], %[ml]\n\t"
            "adds %[ml], %[ml], %[t]\n\t" /* mid */
            "uxth %[t], %[ml]\n\t"
            "asrs %[ml], %[ml], #16\n\t"
            "muls %[al], %[mh], %[al]\n\t"
            "adds %[al], %[al], %[t]\n\t"
            "asrs %[t], %[a], #31\n\t"
            "lsls %[t], %[t], #15\n\t"
            "adds %[al], %[al], %[t]\n\t"
            "movs %[t], #64\n\t"
            "lsls %[t], %[t], #8\n\t"
            "adds %[al], %[al], %[t]\n\t" /* mid2 */
            "asrs %[al], %[al], #16\n\t"
            "muls %[mh], %[ah], %[mh]\n\t"
            "adds %[mh], %[mh], %[ml]\n\t"
            "adds %[mh], %[mh], %[al]\n\t"
            ".syntax divided"
            : [ah] "=&l"(a_hi), [al] "=&l"(a_lo), [ml] "=&l"(m_lo), [mh] "=&l"(m_hi), [t] "=&l"(t)
            : [a] "l"(a), [m] "l"(m)
            : "cc");
    return m_hi;
#else
    const int32_t a_hi = a >> 16, m_hi = m >> 16;
    const uint32_t a_lo = (uint32_t)a & 0xFFFFu, m_lo = (uint32_t)m & 0xFFFFu;
    const int32_t mid = a_hi * (int32_t)m_lo + (int32_t)((a_lo * m_lo) >> 16);
    const int32_t round = 0x4000 - (int32_t)((uint32_t)(a >> 31) & 0x8000u);
    const int32_t mid2 = (int32_t)(a_lo * (uint32_t)m_hi) + (int32_t)((uint32_t)mid & 0xFFFFu) + round;
    return a_hi * m_hi + (mid >> 16) + (mid2 >> 16);
#endif
}

/* tp_requantize for a multiplier >= 0, which every multiplier the host makes is (the kernels
 * that use it refuse others on the host), in fewer instructions. It returns the same value:
 * - tp_sat_rounding_doubling_high_mul(a, b) saturates only for a = b = INT32_MIN, impossible
 *   with b >= 0, so it is trunc((a*b + nudge) / 2^31) with nudge = 2^30 (ab >= 0) or
 *   1 - 2^30 (ab < 0). For ab >= 0 that is floor((ab + 2^30) / 2^31). For ab = -k < 0 it is
 *   -floor((k + 2^30 - 1) / 2^31) = -ceil((k - 2^30) / 2^31) = floor((ab + 2^30) / 2^31).
 *   So both cases are t = floor((ab + 2^30) / 2^31), which lies within int32 (|a*b| < 2^62).
 * - The rounding division of t by 2^r (r = -shift > 0, half away from zero) is
 *   floor((t + 2^(r-1) - [t < 0]) / 2^r): for t >= 0 that is rounding half up, and for t < 0
 *   it is -floor((-t + 2^(r-1)) / 2^r) written as a floor. Since floor(floor(z / A) + k) / B)
 *   = floor((z + k*A) / (A*B)) for integers k and A, B > 0, both roundings are one:
 *       result = floor((ab + 2^30 - [t < 0] * 2^31 + 2^(30+r)) / 2^(31+r)).
 *   [t < 0] may be replaced by [x < 0] (= [ab < 0], as the multiplier is >= 0): they differ
 *   only for -2^30 <= ab < 0, where t = 0 and both give floor((2^(r-1) - 0 or 1) / 2^r) = 0.
 * - For r >= 2 the dividend is one 64-bit multiply-accumulate (SMLAL on Arm) of x * multiplier
 *   onto a constant whose low word is 2^30 + [x < 0] * 2^31 and whose high word is
 *   2^(r-2) - [x < 0]; 2^(31+r) >= 2^33, so the division is an arithmetic shift of the high
 *   word by r - 1. No branch on the sign, no second rounding step.
 * - A shift of -1 or more (multipliers >= 1/4, rare for int8 layers) takes the two steps as
 *   written, shifting left first as tp_requantize does. */
static inline int32_t tp_requantize_nonneg(int32_t x, int32_t multiplier, int32_t shift)
{
    if (shift <= -2) {
        const int32_t r1 = -shift - 1; /* r - 1, in [1, 30] as the host's shifts are >= -31 */
#ifdef TP_SPLIT_MULTIPLY
        return (tp_mul_round_high_nonneg(x, multiplier) + (1 << (r1 - 1))) >> r1;
#else
        const uint32_t lo = ((uint32_t)x & 0x80000000u) | 0x40000000u;
        const int32_t hi = (x >> 31) + (1 << (r1 - 1));
        const int64_t z = (int64_t)x * multiplier + (int64_t)((uint64_t)(uint32_t)hi << 32 | lo);
        return (int32_t)(z >> 32) >> r1;
#endif
    }
    const int left = shift > 0 ? shift : 0;
    const int right = shift > 0 ? 0 : -shift;
    const int32_t shifted = (int32_t)((uint32_t)x << left);
#ifdef TP_SPLIT_MULTIPLY
    /* floor((ab + 2^30) / 2^31) from the high word h and low word l of ab + 2^30 */
    const uint32_t l = (uint32_t)shifted * (uint32_t)multiplier + 0x40000000u;
    const int32_t h = tp_mul_add_high(shifted, multiplier, 0x40000000u, 0);
    const int32_t t = (int32_t)(((uint32_t)h << 1) | (l >> 31));
#else
    const int64_t ab = (int64_t)shifted * (int64_t)multiplier;
    const int32_t t = (int32_t)((ab + ((int64_t)1 << 30)) >> 31);
#endif
    return tp_rounding_divide_by_pot(t, right);
}

/* The output side of a conv-like kernel: zero point and fused-activation clamp range. The
 * kernels keep it in a local: read through the params struct, it would be reloaded after every
 * int8 store (which may alias the struct). */
typedef struct {
    int32_t zero_point, act_min, act_max;
} tp_output_q;

/* One int8 output: clamp(requant(acc) + zp_out) to the activation range, as TFLM's kernels. */
static inline int8_t tp_output_s8(int32_t acc, int32_t multiplier, int32_t shift, tp_output_q q)
{
    acc = tp_requantize_nonneg(acc, multiplier, shift) + q.zero_point;
    return (int8_t)tp_clamp_i32(acc, q.act_min, q.act_max);
}

/* ---- Requantization with host-precomputed constants (the fast kernels) ----
 *
 * For an output channel whose shift is <= -2 (r = -shift >= 2), the host stores 3 words:
 *   rq[0] = multiplier, rq[1] = 2^(r-2) + zero_point_out * 2^(r-1), rq[2] = r - 1
 * tp_output_rq_s8 then returns tp_output_s8's value with fewer instructions:
 * - it is tp_requantize_nonneg's single multiply-accumulate, whose constant's high word is
 *   [x < 0] subtracted from 2^(r-2), so the rounding needs no per-output shift arithmetic;
 * - the output zero point is added before the final shift: for an integer h,
 *   floor(h / 2^(r-1)) + zp = floor((h + zp * 2^(r-1)) / 2^(r-1)). The host checks, for every
 *   accumulator the layer can produce, that this high word stays inside int32. */
/* The records of a channel whose accumulators the host bounded by |acc| < 2^19, in the
 * Cortex-M0 blobs (tinypipe/compiler/thumb1.py small_records): TP_RQ_SMALL set in rq[2] (whose
 * low byte stays r - 1), the multiplier m in pieces m0 = m mod 2^11, m1 = floor(m / 2^11) mod
 * 2^11 (the halves of rq[0]) and m2 = floor(m / 2^22) (rq[2]'s high half). tp_rq_small_high
 * is then tp_mul_round_high_nonneg(acc, m) from three products:
 *   t1 = acc * m1 + floor(acc * m0 / 2^11) + 2^19 - [acc < 0] * 2^20   (the rounding term / 2^11)
 *   floor((acc * m + 2^30 - [acc < 0] * 2^31) / 2^32) = floor((acc * m2 + floor(t1 / 2^11)) / 2^10)
 * (nested floors of divisions by powers of two are one). Every product and sum stays inside
 * int32: |acc * m0|, |acc * m1| < 2^19 * 2^11, |acc * m2| < 2^19 * 2^9. */
#define TP_RQ_SMALL 0x100
static inline int32_t tp_rq_small_high(int32_t acc, const int32_t *rq)
{
    const int32_t m0 = rq[0] & 0x7FF, m1 = (int32_t)((uint32_t)rq[0] >> 16);
    const int32_t m2 = (int32_t)((uint32_t)rq[2] >> 16);
    const int32_t t1 = acc * m1 + ((acc * m0) >> 11) + 0x80000 - (acc < 0 ? 0x100000 : 0);
    return (acc * m2 + (t1 >> 11)) >> 10;
}

static inline int8_t tp_output_rq_s8(int32_t acc, const int32_t *rq, int32_t act_min,
                                     int32_t act_max)
{
#ifdef TP_SPLIT_MULTIPLY
    const int32_t high = (rq[2] & TP_RQ_SMALL) ? tp_rq_small_high(acc, rq)
                                               : tp_mul_round_high_nonneg(acc, rq[0]);
    const int32_t v = tp_max_i32((high + rq[1]) >> (rq[2] & 0xFF), act_min);
#else
    const uint32_t lo = ((uint32_t)acc & 0x80000000u) | 0x40000000u;
    const int32_t hi = rq[1] + (acc >> 31);
    const int64_t z = (int64_t)acc * rq[0] + (int64_t)((uint64_t)(uint32_t)hi << 32 | lo);
    const int32_t v = tp_max_i32((int32_t)(z >> 32) >> rq[2], act_min);
#endif
#ifdef TP_DSP
    if (act_max == 127) { /* the usual case: one saturating instruction */
        return (int8_t)__ssat(v, 8);
    }
#endif
    return (int8_t)tp_min_i32(v, act_max);
}

/* ---- int8 dot products, shared by CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED ----
 *
 * On a core with the DSP extension (Cortex-M4/M7/M33...) four int8 pairs are multiplied and
 * summed with two SMLAD instructions: SXTB16 sign-extends bytes 0 and 2 of a word into two int16
 * lanes, SXTB16 of the word rotated by 8 does bytes 1 and 3, and SMLAD adds both lane products
 * to a 32-bit accumulator. Every product of two int8 values is exact in 16x16->32 bits, and the
 * sum is the same integer sum in another order, so the result equals the plain loop's bit for
 * bit as long as the accumulator stays inside int32 (the hosts check this for each layer).
 * Other targets (and the host tests) use the plain loops. */
#if defined(__ARM_FEATURE_DSP) && defined(__ARM_FEATURE_SIMD32)
#include <arm_acle.h>
#include <string.h>
#define TP_DSP 1

/* The 4 bytes at p as one word (unaligned loads are fine on ARMv7E-M; memcpy keeps C aliasing
 * rules and compiles to a single LDR). */
static inline uint32_t tp_load_x4(const int8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* Bytes 1 and 3 of v sign-extended into the two int16 lanes: SXTB16 with its built-in ROR #8
 * (gcc 12 does not fold a rotate into __sxtb16, so this one instruction is written out). */
static inline int32_t tp_sxtb16_odd(uint32_t v)
{
    int32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(v));
    return r;
}

/* Bytewise signed max(a, b) and min(a, b) of four int8 lanes: SSUB8 sets each byte's GE flag
 * where a >= b, and SEL takes the flagged bytes from its first operand, the others from its
 * second. */
static inline uint32_t tp_max_s8x4(uint32_t a, uint32_t b)
{
    (void)__ssub8((int32_t)a, (int32_t)b);
    return __sel(a, b);
}

static inline uint32_t tp_min_s8x4(uint32_t a, uint32_t b)
{
    (void)__ssub8((int32_t)a, (int32_t)b);
    return __sel(b, a);
}
#endif

/* acc + sum_{i<n} x[i] * w[i] */
static inline int32_t tp_dot_s8(const int8_t *x, const int8_t *w, int32_t n, int32_t acc)
{
    int32_t i = 0;
#ifdef TP_DSP
    for (; i + 4 <= n; i += 4) {
        const uint32_t xv = tp_load_x4(x + i), wv = tp_load_x4(w + i);
        acc = __smlad(__sxtb16(xv), __sxtb16(wv), acc);
        acc = __smlad(tp_sxtb16_odd(xv), tp_sxtb16_odd(wv), acc);
    }
#endif
    for (; i < n; ++i) {
        acc += (int32_t)x[i] * (int32_t)w[i];
    }
    return acc;
}

/* *acc0 += sum_{i<n} x[i] * w0[i] and *acc1 += sum_{i<n} x[i] * w1[i]: two output channels
 * share each load (and, with DSP, each sign extension) of x. */
static inline void tp_dot2_s8(const int8_t *x, const int8_t *w0, const int8_t *w1, int32_t n,
                              int32_t *acc0, int32_t *acc1)
{
    int32_t a0 = *acc0, a1 = *acc1;
    int32_t i = 0;
#ifdef TP_DSP
    for (; i + 4 <= n; i += 4) {
        const uint32_t xv = tp_load_x4(x + i);
        const int32_t x02 = __sxtb16(xv), x13 = tp_sxtb16_odd(xv);
        const uint32_t w0v = tp_load_x4(w0 + i), w1v = tp_load_x4(w1 + i);
        a0 = __smlad(x02, __sxtb16(w0v), a0);
        a0 = __smlad(x13, tp_sxtb16_odd(w0v), a0);
        a1 = __smlad(x02, __sxtb16(w1v), a1);
        a1 = __smlad(x13, tp_sxtb16_odd(w1v), a1);
    }
#endif
    for (; i < n; ++i) {
        const int32_t xi = x[i];
        a0 += xi * (int32_t)w0[i];
        a1 += xi * (int32_t)w1[i];
    }
    *acc0 = a0;
    *acc1 = a1;
}

/* acc[2*j + k] += sum_{i<n} x_j[i] * w_k[i] for j, k in {0, 1}: two input patches times two
 * filters, so each loaded (and, with DSP, sign-extended) byte feeds two products. */
static inline void tp_dot2x2_s8(const int8_t *x0, const int8_t *x1, const int8_t *w0,
                                const int8_t *w1, int32_t n, int32_t acc[4])
{
    int32_t a00 = acc[0], a01 = acc[1], a10 = acc[2], a11 = acc[3];
    int32_t i = 0;
#ifdef TP_DSP
    for (; i + 4 <= n; i += 4) {
        const uint32_t x0v = tp_load_x4(x0 + i), x1v = tp_load_x4(x1 + i);
        const uint32_t w0v = tp_load_x4(w0 + i), w1v = tp_load_x4(w1 + i);
        int32_t xa = __sxtb16(x0v), xb = __sxtb16(x1v); /* bytes 0 and 2 */
        int32_t wa = __sxtb16(w0v), wb = __sxtb16(w1v);
        a00 = __smlad(xa, wa, a00);
        a01 = __smlad(xa, wb, a01);
        a10 = __smlad(xb, wa, a10);
        a11 = __smlad(xb, wb, a11);
        xa = tp_sxtb16_odd(x0v); /* bytes 1 and 3 */
        xb = tp_sxtb16_odd(x1v);
        wa = tp_sxtb16_odd(w0v);
        wb = tp_sxtb16_odd(w1v);
        a00 = __smlad(xa, wa, a00);
        a01 = __smlad(xa, wb, a01);
        a10 = __smlad(xb, wa, a10);
        a11 = __smlad(xb, wb, a11);
    }
#endif
    for (; i < n; ++i) {
        const int32_t xa = x0[i], xb = x1[i], wa = w0[i], wb = w1[i];
        a00 += xa * wa;
        a01 += xa * wb;
        a10 += xb * wa;
        a11 += xb * wb;
    }
    acc[0] = a00;
    acc[1] = a01;
    acc[2] = a10;
    acc[3] = a11;
}

#ifdef __cplusplus
}
#endif

#endif /* TP_COMMON_H */
