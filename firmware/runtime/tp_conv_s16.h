/* CONV_2D and DEPTHWISE_CONV_2D, 16x8 (int16 NHWC activations with zero point 0, int8
 * symmetric filters), as TFLM's reference 16x8 ConvPerChannel / DepthwiseConvPerChannel:
 *
 *   acc = bias[oc] + sum over the taps inside the input of w * in   (int64, or int32 without
 *         an int64 bias; taps on the padding are skipped, which is zero padding since the
 *         input zero point is 0)
 *   out = clamp(rescale(acc, M[oc]), act_min, act_max)            (tp_rescale_s16)
 *
 * CONV_2D: filter OHWI, input channel g*filter_c + ic for output channel oc of group g.
 * DEPTHWISE_CONV_2D: filter 1HWC, output channel oc = ic * depth_multiplier + m. */
#ifndef TP_CONV_S16_H
#define TP_CONV_S16_H

#include "tp_common_s16.h"

typedef struct {
    int32_t batches;
    int32_t input_h, input_w, input_c;
    int32_t filter_h, filter_w;
    int32_t filter_c;         /* CONV_2D: input channels per group; depthwise: 1 */
    int32_t output_h, output_w, output_c;
    int32_t groups;           /* CONV_2D: input_c / filter_c; depthwise: unused */
    int32_t depth_multiplier; /* depthwise: output channels per input channel; CONV_2D: unused */
    int32_t stride_h, stride_w;
    int32_t dilation_h, dilation_w;
    int32_t pad_h, pad_w;     /* top/left padding (TFLite's ComputePadding) */
    int32_t wide;             /* 1: int64 accumulator (int64 bias), 0: int32 */
    int32_t act_min, act_max; /* fused activation clamp, quantized */
    const int64_t *bias;      /* per output channel (zeros when the layer has none) */
    const int32_t *multiplier;
    const int32_t *shift;
} tp_conv_s16_params;

void tp_conv_s16(const tp_conv_s16_params *p, const int16_t *input, const int8_t *filter,
                 int16_t *output);

void tp_depthwise_conv_s16(const tp_conv_s16_params *p, const int16_t *input,
                           const int8_t *filter, int16_t *output);

#endif
