/* AVERAGE_POOL_2D and MAX_POOL_2D, int8, NHWC.
 *
 * For every output pixel (y, x) and channel c the window is the filter placed at
 * (y * stride_h - pad_h, x * stride_w - pad_w), clipped to the input; only taps inside the
 * input count (padding contributes nothing, not even to the divisor).
 *   average: out = clamp(round(sum / count)), rounding half away from zero
 *   max:     out = clamp(max)
 * Input and output share scale and zero point (TFLite requires it), so no rescaling is needed.
 */
#ifndef TP_POOLING_H
#define TP_POOLING_H

#include "tp_common.h"

typedef struct {
    int32_t batches;
    int32_t in_h, in_w;
    int32_t depth; /* channels, the same for input and output */
    int32_t out_h, out_w;
    int32_t filter_h, filter_w;
    int32_t stride_h, stride_w;
    int32_t pad_h, pad_w; /* leading (top/left) padding; trailing padding is implied */
    int32_t act_min;      /* fused activation clamp, quantized */
    int32_t act_max;
} tp_pooling_params;

void tp_average_pool_s8(const tp_pooling_params *p, const int8_t *input, int8_t *output);
void tp_max_pool_s8(const tp_pooling_params *p, const int8_t *input, int8_t *output);

#endif
