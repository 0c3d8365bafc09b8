/* MEAN, int16 (16x8 models), over any axes: the int8 kernel's math (tp_mean.h) on int16
 * values, as TFLM's QuantizedMeanOrSum does for int16:
 *   out = clamp(requant(sum_j x_j, M), -32768, 32767)     (zero points are 0)
 * with (s_in / s_out) / N folded into M on the host. Same merged layout as tp_mean.h. */
#ifndef TP_MEAN_S16_H
#define TP_MEAN_S16_H

#include "tp_common_s16.h"

typedef struct {
    int32_t kept_dims[2];      /* kept (output) dims, outer first; unused ones are 1 */
    int32_t kept_stride[2];    /* their input strides */
    int32_t reduced_dims[2];   /* reduced dims; unused ones are 1 */
    int32_t reduced_stride[2]; /* their input strides */
    int32_t multiplier;        /* (s_in / s_out) / N as Q31 mantissa and shift */
    int32_t shift;
} tp_mean_s16_params;

void tp_mean_s16(const tp_mean_s16_params *p, const int16_t *input, int16_t *output);

#endif
