/* SQUARED_DIFFERENCE, int8, with broadcasting (tp_broadcast, in tp_common.h).
 *
 * Both inputs are brought to a common scale as in ADD, with a smaller headroom shift so the
 * square of their difference still fits in int32 (255^2 * 2^14 < 2^31):
 *   a = requant((in1 - zp1) << 7, M1)     M1 = s1 / (2 max(s1, s2))
 *   b = requant((in2 - zp2) << 7, M2)     M2 = s2 / (2 max(s1, s2))
 *   out = clamp(requant((a - b)^2, Mo) + zp_out, -128, 127)
 *                                          Mo = (2 max(s1, s2))^2 / (2^14 s_out)
 */
#ifndef TP_SQUARED_DIFFERENCE_H
#define TP_SQUARED_DIFFERENCE_H

#include "tp_common.h"

typedef struct {
    tp_broadcast broadcast; /* output shape and input strides */
    int32_t input1_offset;  /* -zero_point of input 1 */
    int32_t input2_offset;  /* -zero_point of input 2 */
    int32_t left_shift;     /* 7 */
    int32_t input1_multiplier;
    int32_t input1_shift;
    int32_t input2_multiplier;
    int32_t input2_shift;
    int32_t output_multiplier;
    int32_t output_shift;
    int32_t output_offset; /* zero_point of the output */
} tp_squared_difference_params;

void tp_squared_difference_s8(const tp_squared_difference_params *p, const int8_t *input1,
                              const int8_t *input2, int8_t *output);

#endif
