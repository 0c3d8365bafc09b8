/* QUANTIZE float32 -> int8 and DEQUANTIZE int8 -> float32: the model's float boundary.
 *
 * These are tinypipe's only kernels with float math, and they do exactly TFLM's:
 *     QUANTIZE:   q = clamp(round_half_away(x / scale) + zero_point, -128, 127)
 *                 with x / scale a float32 division (TFLM's AffineQuantize);
 *     DEQUANTIZE: x = (float)((double)scale * (q - zero_point)), which has 256 possible
 *                 results, so the host computes them and the device looks them up.
 */
#ifndef TP_QUANTIZE_H
#define TP_QUANTIZE_H

#include "tp_common.h"

typedef struct {
    int32_t size;       /* elements in the tensor */
    float scale;        /* output scale */
    int32_t zero_point; /* output zero point */
} tp_quantize_params;

typedef struct {
    int32_t size;       /* elements in the tensor */
    const float *table; /* 256 results, indexed by (uint8_t)input */
} tp_dequantize_params;

void tp_quantize_f32_s8(const tp_quantize_params *p, const float *input, int8_t *output);

void tp_dequantize_s8_f32(const tp_dequantize_params *p, const int8_t *input, float *output);

#endif
