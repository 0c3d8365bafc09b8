/* FULLY_CONNECTED, 16x8 (int16 activations with zero point 0, int8 symmetric weights):
 *   acc = bias[o] + sum_d in[b][d] * w[o][d]            (int64, or int32 without int64 bias)
 *   out[b][o] = clamp(rescale(acc, M[o]), act_min, act_max)
 * as TFLM's reference 16x8 FullyConnected; rescale is tp_rescale_s16 (tp_common_s16.h). */
#ifndef TP_FULLY_CONNECTED_S16_H
#define TP_FULLY_CONNECTED_S16_H

#include "tp_common_s16.h"

typedef struct {
    int32_t batches;      /* rows of the input */
    int32_t in_features;  /* accumulation depth */
    int32_t out_features; /* output channels */
    int32_t wide;         /* 1: int64 accumulator (int64 bias), 0: int32 */
    int32_t act_min;      /* fused activation clamp, quantized */
    int32_t act_max;
    const int64_t *bias;  /* per output channel (zeros when the layer has none) */
    const int32_t *multiplier; /* per output channel: Q31, or reduced to Q15 when wide */
    const int32_t *shift;      /* per output channel: exponent, or 15 - exponent when wide */
} tp_fully_connected_s16_params;

void tp_fully_connected_s16(const tp_fully_connected_s16_params *p, const int16_t *input,
                            const int8_t *weights, int16_t *output);

#endif
