/* MUL, 16x8 (int16 operands and output, zero points 0), with broadcasting (tp_broadcast,
 * tp_common.h), as TFLM's int16 reference MUL:
 *   out = clamp(requant(in1 * in2, M), act_min, act_max),   M = s1 * s2 / s_out
 * The product of two int16 values fits int32 (|in1 * in2| <= 2^30). The host refuses M >= 1,
 * where TFLM's left shift of such a product overflows int32, so the shift is <= 0. */
#ifndef TP_MUL_S16_H
#define TP_MUL_S16_H

#include "tp_common_s16.h"

typedef struct {
    tp_broadcast broadcast; /* output shape and input strides */
    int32_t output_multiplier;
    int32_t output_shift;   /* <= 0 */
    int32_t act_min;        /* fused activation clamp, quantized */
    int32_t act_max;
} tp_mul_s16_params;

void tp_mul_s16(const tp_mul_s16_params *p, const int16_t *input1, const int16_t *input2,
                int16_t *output);

#endif
