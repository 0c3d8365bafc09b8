/* PRELU, int8, with the slope (alpha) broadcast against the input (tp_broadcast).
 *
 * As TFLM computes it, with x = in - zp_in and a = alpha - zp_alpha:
 *   out = clamp(requant(x, M1) + zp_out)        if x >= 0,   M1 = s_in / s_out
 *   out = clamp(requant(x * a, M2) + zp_out)    otherwise,   M2 = s_in s_alpha / s_out
 */
#ifndef TP_PRELU_H
#define TP_PRELU_H

#include "tp_common.h"

typedef struct {
    tp_broadcast broadcast; /* output shape; input 1 is the input, input 2 the slopes */
    int32_t input_offset;   /* -zero_point of the input */
    int32_t alpha_offset;   /* -zero_point of alpha */
    int32_t multiplier_pos, shift_pos;
    int32_t multiplier_neg, shift_neg;
    int32_t output_offset;  /* zero_point of the output */
} tp_prelu_params;

void tp_prelu_s8(const tp_prelu_params *p, const int8_t *input, const int8_t *alpha,
                 int8_t *output);

#endif
