/* MAXIMUM and MINIMUM, int8, with broadcasting (tp_broadcast, in tp_common.h).
 *
 * Both inputs share the output's scale and zero point (the host checks it), so the larger
 * (smaller) quantized value is the quantized larger (smaller) real value:
 *   out = max(in1, in2)   or   out = min(in1, in2)
 */
#ifndef TP_MINMAX_H
#define TP_MINMAX_H

#include "tp_common.h"

typedef struct {
    tp_broadcast broadcast; /* output shape and input strides */
} tp_minmax_params;

void tp_maximum_s8(const tp_minmax_params *p, const int8_t *input1, const int8_t *input2,
                   int8_t *output);
void tp_minimum_s8(const tp_minmax_params *p, const int8_t *input1, const int8_t *input2,
                   int8_t *output);

#endif
