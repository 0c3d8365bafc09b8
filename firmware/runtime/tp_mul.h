/* MUL, int8, with broadcasting (tp_broadcast, in tp_common.h).
 *   out = clamp(requant((in1 - zp1) * (in2 - zp2), M) + zp_out),   M = s1 * s2 / s_out
 * M may exceed one (shift > 0).
 */
#ifndef TP_MUL_H
#define TP_MUL_H

#include "tp_common.h"

typedef struct {
    tp_broadcast broadcast; /* output shape and input strides */
    int32_t input1_offset;  /* -zero_point of input 1 */
    int32_t input2_offset;  /* -zero_point of input 2 */
    int32_t output_multiplier;
    int32_t output_shift;
    int32_t output_offset;  /* zero_point of the output */
    int32_t act_min;        /* fused activation clamp, quantized */
    int32_t act_max;
} tp_mul_params;

void tp_mul_s8(const tp_mul_params *p, const int8_t *input1, const int8_t *input2,
               int8_t *output);

/* The same MUL with the output requantization from the host's three words (tp_output_rq_s8:
 * multiplier, rounding constant with the output zero point folded in, shift), for layers whose
 * shift is -2 or less and whose products (at most 255 * 255 in magnitude) keep the rounding's
 * high word inside int32. A row at a time, contiguous rows with their pointers stepped directly. */
typedef struct {
    tp_broadcast broadcast;
    int32_t input1_offset;
    int32_t input2_offset;
    int32_t requant[3];
    int32_t act_min;
    int32_t act_max;
} tp_mul_rq_params;

void tp_mul_rq_s8(const tp_mul_rq_params *p, const int8_t *input1, const int8_t *input2,
                  int8_t *output);

#endif
