/* ARG_MAX and ARG_MIN, int8 input, int32 output.
 *
 * Viewing the input as [outer, axis_size, inner] and the output as [outer, inner]:
 *   out[o, i] = the smallest k with in[o, k, i] = max_k in[o, k, i]   (min for ARG_MIN)
 * i.e. the first of equal extremes, as TFLM's strict comparison picks it.
 */
#ifndef TP_ARG_MIN_MAX_H
#define TP_ARG_MIN_MAX_H

#include "tp_common.h"

typedef struct {
    int32_t outer;     /* product of the dims before the axis */
    int32_t axis_size; /* >= 1 */
    int32_t inner;     /* product of the dims after the axis */
    int32_t is_max;    /* 1: ARG_MAX, 0: ARG_MIN */
} tp_arg_min_max_params;

void tp_arg_min_max_s8(const tp_arg_min_max_params *p, const int8_t *input,
                       int32_t *output);

#endif
