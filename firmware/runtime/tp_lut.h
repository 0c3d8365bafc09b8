/* Table lookup over 8-bit tensors: out[i] = table[(uint8_t)in[i]].
 *
 * Used for every elementwise 8-bit op whose output depends on one input value only (LOGISTIC,
 * TANH, HARD_SWISH, RELU, RELU6, LEAKY_RELU, 8-bit QUANTIZE): an 8-bit input takes 256 values,
 * so tinypipe evaluates the op's TFLM integer pipeline on all of them at compile time and the
 * device only indexes. Tables are ordered by the input's byte value: for int8 inputs, entries
 * 0..127 are the inputs 0..127 and entries 128..255 the inputs -128..-1.
 */
#ifndef TP_LUT_H
#define TP_LUT_H

#include "tp_common.h"

typedef struct {
    int32_t size;         /* elements in the tensor */
    const int8_t *table;  /* 256 int8 results, indexed by the input's byte value */
} tp_lut_params;

typedef struct {
    int32_t size;         /* elements in the tensor */
    const uint8_t *table; /* 256 uint8 results, indexed by the input's byte value */
} tp_lut_u8_params;

/* int8 -> int8 */
void tp_lut_s8(const tp_lut_params *p, const int8_t *input, int8_t *output);

/* uint8 -> int8 (QUANTIZE of a uint8 model input) */
void tp_lut_u8_s8(const tp_lut_params *p, const uint8_t *input, int8_t *output);

/* int8 -> uint8 (QUANTIZE to a uint8 model output) */
void tp_lut_s8_u8(const tp_lut_u8_params *p, const int8_t *input, uint8_t *output);

#endif
