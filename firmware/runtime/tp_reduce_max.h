/* REDUCE_MAX, int8, over any axes (GlobalMaxPooling2D is axes [1, 2]).
 *
 * Input and output share one quantization, so the largest int8 value is the largest real one:
 *   out[k] = max_j in[k, j]   over the reduced elements j of output element k
 * Layout as in tp_mean.h: two kept dims and two reduced dims, each with its input stride.
 */
#ifndef TP_REDUCE_MAX_H
#define TP_REDUCE_MAX_H

#include "tp_common.h"

typedef struct {
    int32_t kept_dims[2];      /* kept (output) dims, outer first; unused ones are 1 */
    int32_t kept_stride[2];    /* their input strides */
    int32_t reduced_dims[2];   /* reduced dims; unused ones are 1 */
    int32_t reduced_stride[2]; /* their input strides */
} tp_reduce_max_params;

void tp_reduce_max_s8(const tp_reduce_max_params *p, const int8_t *input, int8_t *output);

#endif
