/* MEAN, int8, over any axes (GlobalAveragePooling2D is axes [1, 2]).
 *
 * As TFLM computes it, for each output element with N inputs x_j in its reduction:
 *   out = clamp(requant(sum_j x_j - N * zp_in, M) + zp_out)
 * where M is (s_in / s_out) / N folded into one fixed-point multiplier on the host, exactly
 * as TFLM folds it (so the division by N rounds once, inside the requantization).
 *
 * Layout: the host merges dims so that the input is [k0, r0, k1, r1] in some interleaving;
 * it passes two kept dims (k) and two reduced dims (r), each with its input element stride.
 * Output elements are produced in kept-dim order, which is the output's memory order.
 */
#ifndef TP_MEAN_H
#define TP_MEAN_H

#include "tp_common.h"

typedef struct {
    int32_t kept_dims[2];      /* kept (output) dims, outer first; unused ones are 1 */
    int32_t kept_stride[2];    /* their input strides */
    int32_t reduced_dims[2];   /* reduced dims; unused ones are 1 */
    int32_t reduced_stride[2]; /* their input strides */
    int32_t sum_offset;        /* -N * zero_point of the input */
    int32_t multiplier;        /* (s_in / s_out) / N as Q31 mantissa and shift */
    int32_t shift;
    int32_t output_offset;     /* zero_point of the output */
} tp_mean_params;

void tp_mean_s8(const tp_mean_params *p, const int8_t *input, int8_t *output);

#endif
