/* QUANTIZE and DEQUANTIZE where int16 is involved (16x8 models), as TFLM computes them:
 *   requantize (int8/int16 -> int8/int16/int32):
 *       out = clamp(MBQM(x - zp_in, s_in / s_out) + zp_out) to the output type (TFLM's Requantize)
 *   float32 -> int16: q = clamp(round_half_away(x / scale) + zero_point), a float32 division
 *   int16 -> float32: x = scale * (q - zp) in float32. TFLM computes (float)((double)scale *
 *       (q - zp)); that double product is exact (24-bit by 17-bit), so both round the same
 *       exact value once: the results are identical. */
#ifndef TP_QUANTIZE_S16_H
#define TP_QUANTIZE_S16_H

#include "tp_common_s16.h"

typedef struct {
    int32_t size;          /* elements in the tensor */
    int32_t input_offset;  /* -zero_point of the input */
    int32_t multiplier;    /* s_in / s_out, Q31 mantissa and shift */
    int32_t shift;
    int32_t output_offset; /* zero_point of the output */
} tp_requantize_s16_params;

typedef struct {
    int32_t size;       /* elements in the tensor */
    float scale;        /* scale of the int16 tensor */
    int32_t zero_point; /* zero point of the int16 tensor */
} tp_quantize_s16_params;

void tp_requantize_s16_s8(const tp_requantize_s16_params *p, const int16_t *input, int8_t *output);
void tp_requantize_s8_s16(const tp_requantize_s16_params *p, const int8_t *input, int16_t *output);
void tp_requantize_s16_s16(const tp_requantize_s16_params *p, const int16_t *input,
                           int16_t *output);
void tp_requantize_s16_s32(const tp_requantize_s16_params *p, const int16_t *input,
                           int32_t *output);

void tp_quantize_f32_s16(const tp_quantize_s16_params *p, const float *input, int16_t *output);
void tp_dequantize_s16_f32(const tp_quantize_s16_params *p, const int16_t *input, float *output);

#endif
