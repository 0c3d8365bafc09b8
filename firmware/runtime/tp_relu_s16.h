/* RELU and LEAKY_RELU, int16 (16x8 models), as TFLM's ReluQuantized / QuantizeLeakyRelu:
 *   d = x - zp_in
 *   out = clamp(zp_out + MBQM(d, d >= 0 ? M_pos : M_neg), act_min, 32767)
 * RELU: M_pos = M_neg = s_in / s_out and act_min = max(-32768, zp_out) (negative inputs end at
 * zp_out, the real 0). LEAKY_RELU: M_neg = alpha * s_in / s_out and act_min = -32768. */
#ifndef TP_RELU_S16_H
#define TP_RELU_S16_H

#include "tp_common_s16.h"

typedef struct {
    int32_t size;          /* elements in the tensor */
    int32_t input_offset;  /* -zero_point of the input */
    int32_t pos_multiplier, pos_shift; /* for d >= 0 */
    int32_t neg_multiplier, neg_shift; /* for d < 0 */
    int32_t output_offset; /* zero_point of the output */
    int32_t act_min;
} tp_relu_s16_params;

void tp_relu_s16(const tp_relu_s16_params *p, const int16_t *input, int16_t *output);

#endif
