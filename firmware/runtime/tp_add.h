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
 * evaluates requant((in - zp) << left_shift, M) for each of them (table[in + 128]) in TFLM's
 * arithmetic; the device adds two table entries and does the output requantization only. */
typedef struct {
    tp_broadcast broadcast;
    const int32_t *table1; /* a for input 1 = -128..127 */
    const int32_t *table2; /* b for input 2 */
    int32_t output_multiplier;
    int32_t output_shift;
    int32_t output_offset;
    int32_t act_min;
    int32_t act_max;
} tp_add_lut_params;

void tp_add_lut_s8(const tp_add_lut_params *p, const int8_t *input1, const int8_t *input2,
                   int8_t *output);

/* SUB: the same with out = clamp(requant(a - b, Mo) + zp_out); TFLM derives its multipliers
 * in float32 rather than double (see ops/sub.py). */
void tp_sub_s8(const tp_add_params *p, const int8_t *input1, const int8_t *input2,
               int8_t *output);

#endif
