/* Strided copy of int16 elements (16x8 models): tp_copy_s8's views (tp_copy.h) over int16
 * tensors, behind TRANSPOSE, SLICE, STRIDED_SLICE, DEPTH_TO_SPACE and SPACE_TO_DEPTH:
 *   out[i0, ..., i5] = in[in_offset + i0 * in_stride[0] + ... + i5 * in_stride[5]]
 * with strides and offset in elements. */
#ifndef TP_COPY_S16_H
#define TP_COPY_S16_H

#include "tp_common_s16.h"

#define TP_COPY_S16_MAX_DIMS 6

typedef struct {
    int32_t dims[TP_COPY_S16_MAX_DIMS];      /* output shape, outermost first */
    int32_t in_stride[TP_COPY_S16_MAX_DIMS]; /* input elements per step along each output dim */
    int32_t in_offset;                       /* input element of output element 0 */
} tp_copy_s16_params;

void tp_copy_s16(const tp_copy_s16_params *p, const int16_t *input, int16_t *output);

#endif
