/* ADD, int8, with broadcasting (tp_broadcast, in tp_common.h).
 *
 * TFLite's int8 add brings both inputs to a common fixed-point scale before summing:
 *   a = requant((in1 - zp1) << left_shift, M1)     M1 = s1 / (2 max(s1, s2))
 *   b = requant((in2 - zp2) << left_shift, M2)     M2 = s2 / (2 max(s1, s2))
 *   out = clamp(requant(a + b, Mo) + zp_out)       Mo = 2 max(s1, s2) / (2^left_shift s_out)
 * All three multipliers are below one (shift <= 0); left_shift is 20 for int8.
 */
#ifndef TP_ADD_H
#define TP_ADD_H

#include "tp_common.h"

typedef struct {
    tp_broadcast broadcast; /* output shape and input strides */
    int32_t input1_offset;  /* -zero_point of input 1 */
    int32_t input2_offset;  /* -zero_point of input 2 */
    int32_t left_shift;
    int32_t input1_multiplier;
    int32_t input1_shift;
    int32_t input2_multiplier;
    int32_t input2_shift;
    int32_t output_multiplier;
    int32_t output_shift;
    int32_t output_offset;  /* zero_point of the output */
    int32_t act_min;        /* fused activation clamp, quantized */
    int32_t act_max;
} tp_add_params;

void tp_add_s8(const tp_add_params *p, const int8_t *input1, const int8_t *input2,
               int8_t *output);

/* The same ADD with a and b above looked up: an int8 input takes only 256 values, so the host
 * evaluates 2a = 2 requant((in - zp) << left_shift, M) for each of them (table[in + 128]) in
 * TFLM's arithmetic (SUB: its table2 holds -2b); the device adds two entries, s2 = 2(a + b), and
 * requantizes with the host's record, r = -output_shift in [2, 31]:
 *   out = clamp((t + offset - [s2 < 0]) >> r),  t + offset = floor((s2 Mo + offset 2^32 + 2^31) / 2^32)
 * where offset = 2^(r-1) + zero_point_out 2^r. This is TFLM's requant(a + b, Mo) + zp_out:
 * - its SaturatingRoundingDoublingHighMul(s, Mo) never saturates (Mo >= 0) and is
 *   floor((s Mo + 2^30) / 2^31) for either sign of s (tp_requantize_nonneg), = t above with s2 = 2s;
 * - its RoundingDivideByPOT(t, r), half away from zero, is floor((t + 2^(r-1) - [t < 0]) / 2^r),
 *   and [t < 0] may be [s < 0]: they differ only when t = 0, where both floors give 0 (r >= 1);
 * - floor(y / 2^r) + zp = floor((y + zp 2^r) / 2^r).
 * The host keeps the layer on tp_add_s8 unless s2 and t + offset - 1 stay inside int32 for every
 * pair of table entries. t + offset is one SMMLAR on cores with the DSP extension. */
typedef struct {
    tp_broadcast broadcast;
    const int32_t *table1;     /* 2a for input 1 = -128..127 */
    const int32_t *table2;     /* 2b for input 2 (SUB: -2b) */
    int32_t output_multiplier; /* Mo, Q31 */
    int32_t output_offset;     /* 2^(r-1) + zero_point_out 2^r */
    int32_t output_shift;      /* r */
    int32_t act_min;
    int32_t act_max;
} tp_add_lut_params;

/* Same-shape inputs (one contiguous dim, as in residual blocks) take a loop without the
 * broadcast nest; on cores with the DSP extension four outputs at a time, clamped with SIMD. */
void tp_add_lut_s8(const tp_add_lut_params *p, const int8_t *input1, const int8_t *input2,
                   int8_t *output);

/* SUB: the same with out = clamp(requant(a - b, Mo) + zp_out); TFLM derives its multipliers
 * in float32 rather than double (see ops/sub.py). */
void tp_sub_s8(const tp_add_params *p, const int8_t *input1, const int8_t *input2,
               int8_t *output);

#endif
