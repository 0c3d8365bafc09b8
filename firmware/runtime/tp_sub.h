/* SUB, int8, with broadcasting (tp_broadcast, in tp_common.h).
 *
 * TFLite's int8 subtraction is ADD's pipeline with a minus sign (see tp_add.h):
 *   a = requant((in1 - zp1) << left_shift, M1)     M1 = s1 / (2 max(s1, s2))
 *   b = requant((in2 - zp2) << left_shift, M2)     M2 = s2 / (2 max(s1, s2))
 *   out = clamp(requant(a - b, Mo) + zp_out)       Mo = 2 max(s1, s2) / (2^left_shift s_out)
 * TFLM derives the multipliers in float32 (ADD does it in double), so the host computes them
 * separately; every multiplier is below one (shift <= 0) and left_shift is 20.
 */
#ifndef TP_SUB_H
#define TP_SUB_H

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
    int32_t output_offset; /* zero_point of the output */
    int32_t act_min;       /* fused activation clamp, quantized */
    int32_t act_max;
} tp_sub_params;

void tp_sub_s8(const tp_sub_params *p, const int8_t *input1, const int8_t *input2,
               int8_t *output);

#endif
