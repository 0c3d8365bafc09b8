/* ADD and SUB, 16x8 (int16, zero points 0), with broadcasting (tp_broadcast, tp_common.h).
 *
 * TFLM runs int16 ADD through the int8 general rescaling with a left shift of 15:
 *   a = requant(in1 << 15, M1)      M1 = s1 / (2 max(s1, s2))
 *   b = requant(in2 << 15, M2)      M2 = s2 / (2 max(s1, s2))
 *   out = clamp(requant(a + b, Mo), act_min, act_max)     Mo = 2 max(s1, s2) / (2^15 s_out)
 * SUB is the same with a - b. All multipliers are below one (shift <= 0). */
#ifndef TP_ADD_S16_H
#define TP_ADD_S16_H

#include "tp_common_s16.h"

typedef struct {
    tp_broadcast broadcast; /* output shape and input strides */
    int32_t subtract;       /* 0: ADD, 1: SUB */
    int32_t left_shift;
    int32_t input1_multiplier;
    int32_t input1_shift;
    int32_t input2_multiplier;
    int32_t input2_shift;
    int32_t output_multiplier;
    int32_t output_shift;
    int32_t act_min;        /* fused activation clamp, quantized */
    int32_t act_max;
} tp_add_s16_params;

void tp_add_s16(const tp_add_s16_params *p, const int16_t *input1, const int16_t *input2,
                int16_t *output);

#endif
