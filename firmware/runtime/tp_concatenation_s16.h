/* CONCATENATION, int16 (16x8 models): tp_concatenation_s8's row copies (tp_concatenation.h)
 * over int16 elements. Inputs share the output's quantization (zero point 0), so values are
 * copied unchanged. Unused input pointers are NULL. */
#ifndef TP_CONCATENATION_S16_H
#define TP_CONCATENATION_S16_H

#include "tp_common_s16.h"

#define TP_CONCAT_S16_MAX_INPUTS 10 /* TFLM's limit */

typedef struct {
    int32_t outer;                              /* product of the dims before the axis */
    int32_t num_inputs;
    int32_t row_size[TP_CONCAT_S16_MAX_INPUTS]; /* elements of input k per outer index */
} tp_concatenation_s16_params;

void tp_concatenation_s16(const tp_concatenation_s16_params *p, const int16_t *in0,
                          const int16_t *in1, const int16_t *in2, const int16_t *in3,
                          const int16_t *in4, const int16_t *in5, const int16_t *in6,
                          const int16_t *in7, const int16_t *in8, const int16_t *in9,
                          int16_t *output);

#endif
