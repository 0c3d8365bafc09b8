/* SOFTMAX, int16 (16x8 models), over the last axis, as TFLM's reference SoftmaxInt16:
 *
 *   e_j = exp_lut(clamp(requant(x_j - max, M_in) + 32767))      Q0.15, d mapped onto [-10, 0]
 *   sum = sum_j e_j, normalised by its leading zeros to [1, 2) and looked up in
 *   r   = reciprocal_lut(...)                                   1 / sum in Q0.15
 *   out_j = clamp((e_j * r + round) >> (31 - leading zeros), 0, 32767)   scale 1/32768
 *
 * The tables have 513 entries (512 segments and an end point) and are read with linear
 * interpolation over the low 7 bits (tp_lut_s16). The host generates them as TFLM does. */
#ifndef TP_SOFTMAX_S16_H
#define TP_SOFTMAX_S16_H

#include "tp_common_s16.h"

typedef struct {
    int32_t rows;
    int32_t depth;            /* length of the softmax axis */
    int32_t input_multiplier; /* beta * s_in / (10 / 65535), Q31 mantissa and shift */
    int32_t input_shift;
    const int16_t *exp_lut;        /* exp on [-10, 0] */
    const int16_t *reciprocal_lut; /* 1 / (1 + x) on [0, 1] */
} tp_softmax_s16_params;

/* TFLM's int16 table lookup: segment 256 + (x >> 7), interpolated by the low 7 bits. */
static inline int16_t tp_lut_s16(int16_t x, const int16_t *lut)
{
    const int32_t index = 256 + (x >> 7);
    const int32_t offset = x & 0x7f;
    const int16_t slope = (int16_t)(lut[index + 1] - lut[index]);
    return (int16_t)(lut[index] + ((slope * offset + 64) >> 7));
}

/* The output doubles as scratch for the exps. */
void tp_softmax_s16(const tp_softmax_s16_params *p, const int16_t *input, int16_t *output);

#endif
