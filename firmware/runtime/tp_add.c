#include "tp_add.h"

/* TFLM's three requantizations; tp_requantize_nonneg is tp_requantize for the non-negative
 * multipliers the host makes, in fewer instructions (the proof is in tp_common.h). */
static int8_t add_one(const void *params, int8_t x1, int8_t x2)
{
    const tp_add_params *p = (const tp_add_params *)params;
    const int32_t v1 = (x1 + p->input1_offset) * (1 << p->left_shift);
    const int32_t v2 = (x2 + p->input2_offset) * (1 << p->left_shift);
    const int32_t a = tp_requantize_nonneg(v1, p->input1_multiplier, p->input1_shift);
    const int32_t b = tp_requantize_nonneg(v2, p->input2_multiplier, p->input2_shift);
    const int32_t sum = tp_requantize_nonneg(a + b, p->output_multiplier, p->output_shift);
    return (int8_t)tp_clamp_i32(sum + p->output_offset, p->act_min, p->act_max);
}

void tp_add_s8(const tp_add_params *p, const int8_t *input1, const int8_t *input2,
               int8_t *output)
{
    /* A local copy: read through p, the constants would be reloaded after every int8 store. */
    const tp_add_params local = *p;
    tp_broadcast_s8(&local.broadcast, add_one, &local, input1, input2, output);
}

/* tp_add_lut_params' output record as the requantization below takes it. Without a 64-bit
 * multiply (TP_SPLIT_MULTIPLY) the product comes from tp_mul_round_high_nonneg(s, Mo) =
 * floor((t - [s < 0]) / 2) (its rounding term is 2^30 - [s < 0] 2^31 over 2^32), so halving
 * the offset (even, as r >= 2) and the shift gives the same floor((t + offset - [s < 0]) / 2^r). */
typedef struct {
    int32_t multiplier, offset, shift;
} add_lut_rq;

static add_lut_rq add_lut_record(const tp_add_lut_params *p)
{
#ifdef TP_SPLIT_MULTIPLY
    const add_lut_rq q = {p->output_multiplier, p->output_offset / 2, p->output_shift - 1};
#else
    const add_lut_rq q = {p->output_multiplier, p->output_offset, p->output_shift};
#endif
    return q;
}

/* (t + offset - [s2 < 0]) >> r for s2 = 2(a + b): clamp it for the output (tp_add.h). */
TP_INLINE int32_t add_lut_requant(int32_t s2, add_lut_rq q)
{
#ifdef TP_SPLIT_MULTIPLY
    return (tp_mul_round_high_nonneg(s2 >> 1, q.multiplier) + q.offset) >> q.shift;
#elif defined(TP_DSP) && defined(__GNUC__)
    int32_t t; /* SMMLAR: high word of s2 * Mo + offset * 2^32 + 2^31 */
    __asm__("smmlar %0, %1, %2, %3" : "=r"(t) : "r"(s2), "r"(q.multiplier), "r"(q.offset));
    return (t + (s2 >> 31)) >> q.shift;
#else
    const uint64_t c = (uint64_t)(uint32_t)q.offset << 32 | 0x80000000u;
    const int32_t t = (int32_t)(((int64_t)s2 * q.multiplier + (int64_t)c) >> 32);
    return (t + (s2 >> 31)) >> q.shift;
#endif
}

/* One output: the clamp of add_lut_requant to the activation range. */
TP_INLINE int8_t add_lut_out(int32_t s2, add_lut_rq q, int32_t act_min, int32_t act_max)
{
    return (int8_t)tp_clamp_i32(add_lut_requant(s2, q), act_min, act_max);
}

#ifdef TP_DSP
/* Four int8 results packed little-endian into one word: three BFIs (gcc builds each byte
 * with a mask and a shift otherwise). */
TP_INLINE uint32_t add_pack4(int32_t v0, int32_t v1, int32_t v2, int32_t v3)
{
    uint32_t w = (uint32_t)v0;
    __asm__("bfi %0, %1, #8, #8\n\tbfi %0, %2, #16, #8\n\tbfi %0, %3, #24, #8"
            : "+r"(w)
            : "r"(v1), "r"(v2), "r"(v3));
    return w;
}

/* add_lut_requant saturated to int8. */
TP_INLINE int32_t add_lut_sat(int32_t s2, add_lut_rq q)
{
    return __ssat(add_lut_requant(s2, q), 8);
}
#endif

/* rows x n outputs: row k reads its inputs from x1 + k row1 and x2 + k row2, their elements
 * `stride1` and `stride2` apart (0: broadcast), and writes n outputs on. With DSP, contiguous
 * rows go four outputs at a time: each saturated to int8 and packed into a word, which is then
 * clamped to the activation range bytewise (the same clamp, as every value is an int8 by then).
 * Not inlined into the broadcast nest: the loop needs every register, which it only gets in a
 * function of its own; the rows of the innermost two dims share its setup. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void add_lut_rows(const tp_add_lut_params *p, const int8_t *x1, int32_t row1,
                         int32_t stride1, const int8_t *x2, int32_t row2, int32_t stride2,
                         int8_t *out, int32_t rows, int32_t n)
{
    const int32_t *t1 = p->table1 + 128, *t2 = p->table2 + 128; /* indexed by -128..127 */
    const add_lut_rq q = add_lut_record(p);
    const int32_t act_min = p->act_min, act_max = p->act_max;
    const int contiguous = stride1 == 1 && stride2 == 1;
#ifdef TP_DSP
    const uint32_t lo4 = 0x01010101u * (uint8_t)act_min, hi4 = 0x01010101u * (uint8_t)act_max;
#endif
    for (int32_t r = 0; r < rows; ++r, x1 += row1, x2 += row2, out += n) {
        int32_t i = 0;
#ifdef TP_DSP
        if (contiguous) {
            for (; i + 4 <= n; i += 4) {
                uint32_t w = add_pack4(add_lut_sat(t1[x1[i]] + t2[x2[i]], q),
                                       add_lut_sat(t1[x1[i + 1]] + t2[x2[i + 1]], q),
                                       add_lut_sat(t1[x1[i + 2]] + t2[x2[i + 2]], q),
                                       add_lut_sat(t1[x1[i + 3]] + t2[x2[i + 3]], q));
                w = tp_min_s8x4(tp_max_s8x4(w, lo4), hi4);
                memcpy(out + i, &w, 4);
            }
        }
#else
        if (contiguous) { /* the strides' registers free for the constants */
            for (; i < n; ++i) {
                out[i] = add_lut_out(t1[x1[i]] + t2[x2[i]], q, act_min, act_max);
            }
        }
#endif
        for (; i < n; ++i) {
            const int32_t s2 = t1[x1[i * stride1]] + t2[x2[i * stride2]];
            out[i] = add_lut_out(s2, q, act_min, act_max);
        }
    }
}

/* The broadcast nest (tp_broadcast_s8's), the innermost two dims in one add_lut_rows call: a
 * same-shape ADD is a single row. */
void tp_add_lut_s8(const tp_add_lut_params *p, const int8_t *input1, const int8_t *input2,
                   int8_t *output)
{
    const int32_t *n = p->broadcast.dims, *s1 = p->broadcast.in1_stride;
    const int32_t *s2 = p->broadcast.in2_stride;
    for (int32_t i0 = 0; i0 < n[0]; ++i0) {
        for (int32_t i1 = 0; i1 < n[1]; ++i1) {
            add_lut_rows(p, input1 + i0 * s1[0] + i1 * s1[1], s1[2], s1[3],
                         input2 + i0 * s2[0] + i1 * s2[1], s2[2], s2[3], output, n[2], n[3]);
            output += n[2] * n[3];
        }
    }
}

/* SUB is the same pipeline with the second scaled input subtracted (its constants differ only
 * in the precision TFLM derives them in, which the host handles). */
static int8_t sub_one(const void *params, int8_t x1, int8_t x2)
{
    const tp_add_params *p = (const tp_add_params *)params;
    const int32_t v1 = (x1 + p->input1_offset) * (1 << p->left_shift);
    const int32_t v2 = (x2 + p->input2_offset) * (1 << p->left_shift);
    const int32_t a = tp_requantize_nonneg(v1, p->input1_multiplier, p->input1_shift);
    const int32_t b = tp_requantize_nonneg(v2, p->input2_multiplier, p->input2_shift);
    const int32_t diff = tp_requantize_nonneg(a - b, p->output_multiplier, p->output_shift);
    return (int8_t)tp_clamp_i32(diff + p->output_offset, p->act_min, p->act_max);
}

void tp_sub_s8(const tp_add_params *p, const int8_t *input1, const int8_t *input2,
               int8_t *output)
{
    const tp_add_params local = *p;
    tp_broadcast_s8(&local.broadcast, sub_one, &local, input1, input2, output);
}
