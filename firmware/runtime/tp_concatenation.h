/* CONCATENATION, int8, any axis, up to TP_CONCAT_MAX_INPUTS inputs.
 *
 * Viewing every tensor as [outer, rest] with outer = product of the dims before the axis, the
 * output row o is input 0's row o, then input 1's row o, and so on:
 *   out[o] = in0[o] ++ in1[o] ++ ... ,  row k has row_size[k] = dim_k(axis) * (dims after axis)
 * TFLite requires all inputs to share the output's scale and zero point, so bytes are copied.
 * Unused input pointers are NULL.
 */
#ifndef TP_CONCATENATION_H
#define TP_CONCATENATION_H

#include "tp_common.h"

#define TP_CONCAT_MAX_INPUTS 10 /* TFLM's limit */

typedef struct {
    int32_t outer;                          /* product of the dims before the axis */
    int32_t num_inputs;
    int32_t row_size[TP_CONCAT_MAX_INPUTS]; /* elements of input k per outer index */
} tp_concatenation_params;

void tp_concatenation_s8(const tp_concatenation_params *p, const int8_t *in0,
                         const int8_t *in1, const int8_t *in2, const int8_t *in3,
                         const int8_t *in4, const int8_t *in5, const int8_t *in6,
                         const int8_t *in7, const int8_t *in8, const int8_t *in9,
                         int8_t *output);

/* The same with the output written over input `in_place`, which starts where the output starts
 * (the memory plan gives both one offset, see tinypipe/compiler/inplace.py). Rows are written
 * from the last to the first, and in each row that input's bytes are moved first: row o of the
 * output covers bytes [o * total, (o + 1) * total), past every byte of the input's rows 0..o-1,
 * which are still to be read; the other inputs live elsewhere. */
typedef struct {
    tp_concatenation_params concat;
    int32_t in_place; /* the input sharing the output's bytes */
} tp_concatenation_inplace_params;

void tp_concatenation_inplace_s8(const tp_concatenation_inplace_params *p, const int8_t *in0,
                                 const int8_t *in1, const int8_t *in2, const int8_t *in3,
                                 const int8_t *in4, const int8_t *in5, const int8_t *in6,
                                 const int8_t *in7, const int8_t *in8, const int8_t *in9,
                                 int8_t *output);

#endif
