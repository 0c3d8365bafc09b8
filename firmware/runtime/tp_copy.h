/* Strided copy, int8: the one kernel behind the data-movement ops (TRANSPOSE, SLICE,
 * STRIDED_SLICE, DEPTH_TO_SPACE, SPACE_TO_DEPTH).
 *
 * Each output element, in memory order, is one input element:
 *   out[i0, ..., i5] = in[in_offset + i0 * in_stride[0] + ... + i5 * in_stride[5]]
 * The host writes every op as such a view of its input (a permutation of the input strides, a
 * start offset and strides scaled by the slice step, possibly negative), merges neighbouring
 * dims that step through the input contiguously, and pads with leading 1s.
 */
#ifndef TP_COPY_H
#define TP_COPY_H

#include "tp_common.h"

#define TP_COPY_MAX_DIMS 6

typedef struct {
    int32_t dims[TP_COPY_MAX_DIMS];      /* output shape, outermost first */
    int32_t in_stride[TP_COPY_MAX_DIMS]; /* input elements per step along each output dim */
    int32_t in_offset;                   /* input element of output element 0 */
} tp_copy_params;

void tp_copy_s8(const tp_copy_params *p, const int8_t *input, int8_t *output);

#endif
