/* SPLIT, SPLIT_V and UNPACK, int8: the inverse of CONCATENATION.
 *
 * Viewing the input as [outer, rest] with outer = product of the dims before the axis, row o
 * of the input is row o of output 0, then row o of output 1, and so on:
 *   in[o] = out0[o] ++ out1[o] ++ ... ,  output k's rows have row_size[k] elements.
 * The outputs share the input's quantization, so bytes are copied. Unused pointers are NULL.
 */
#ifndef TP_SPLIT_H
#define TP_SPLIT_H

#include "tp_common.h"

#define TP_SPLIT_MAX_OUTPUTS 16

typedef struct {
    int32_t outer;                            /* product of the dims before the axis */
    int32_t num_outputs;
    int32_t row_size[TP_SPLIT_MAX_OUTPUTS];   /* elements of output k per outer index */
} tp_split_params;

void tp_split_s8(const tp_split_params *p, const int8_t *input, int8_t *out0, int8_t *out1,
                 int8_t *out2, int8_t *out3, int8_t *out4, int8_t *out5, int8_t *out6,
                 int8_t *out7, int8_t *out8, int8_t *out9, int8_t *out10, int8_t *out11,
                 int8_t *out12, int8_t *out13, int8_t *out14, int8_t *out15);

#endif
