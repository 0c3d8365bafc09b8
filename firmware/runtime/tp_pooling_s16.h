/* AVERAGE_POOL_2D and MAX_POOL_2D, int16 (16x8 models), NHWC: the int8 kernels' windows and
 * rounding (tp_pooling.h) on int16 values. TFLM requires input and output to share their
 * quantization, so no rescaling is needed.
 *   average: out = clamp(round(sum / count)), rounding half away from zero, count = the taps
 *            inside the input
 *   max:     out = clamp(max) */
#ifndef TP_POOLING_S16_H
#define TP_POOLING_S16_H

#include "tp_common_s16.h"

typedef struct {
    int32_t batches;
    int32_t in_h, in_w;
    int32_t depth; /* channels, the same for input and output */
    int32_t out_h, out_w;
    int32_t filter_h, filter_w;
    int32_t stride_h, stride_w;
    int32_t pad_h, pad_w; /* leading (top/left) padding */
    int32_t act_min;      /* fused activation clamp, quantized */
    int32_t act_max;
} tp_pooling_s16_params;

void tp_average_pool_s16(const tp_pooling_s16_params *p, const int16_t *input, int16_t *output);
void tp_max_pool_s16(const tp_pooling_s16_params *p, const int16_t *input, int16_t *output);

#endif
