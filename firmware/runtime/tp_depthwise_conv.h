/* DEPTHWISE_CONV_2D, int8 (NHWC input and output, 1HWC filter with C = input_c * depth_mult).
 * Input channel ic feeds output channels oc = ic * depth_mult + m, m < depth_mult:
 *
 *   acc = bias[oc] + sum_{ky,kx} w[ky][kx][oc] * (in[b][iy][ix][ic] - zp_in)
 *         with iy = y*stride_h - pad_h + ky*dilation_h, ix = x*stride_w - pad_w + kx*dilation_w,
 *         taps outside the input skipped (zero padding)
 *   out[b][y][x][oc] = clamp(requant(acc, M[oc]) + zp_out, act_min, act_max)
 *
 * This is TFLM's reference DepthwiseConvPerChannel; per-tensor weights repeat their multiplier.
 *
 * The kernel computes the same acc as (see tp_depthwise_conv.c)
 *
 *   acc = folded_bias[oc] + sum_{ky,kx} w[ky][kx][oc] * x~[ky][kx][ic]
 *         folded_bias[oc] = bias[oc] - zp_in * sum_{ky,kx} w[ky][kx][oc]   (host-computed)
 *         x~ = the input value, or zp_in for a tap outside the input
 *
 * which is the same sum rearranged; a padded tap adds w * (zp_in - zp_in) = 0, as in TFLM.
 */
#ifndef TP_DEPTHWISE_CONV_H
#define TP_DEPTHWISE_CONV_H

#include "tp_common.h"

/* Windows of up to this many taps run the fast path (a table of tap pointers on the stack). */
#define TP_DW_MAX_TAPS 64

typedef struct {
    int32_t batches;
    int32_t input_h, input_w, input_c;
    int32_t filter_h, filter_w;
    int32_t depth_multiplier;   /* output channels per input channel */
    int32_t output_h, output_w; /* output channels = input_c * depth_multiplier */
    int32_t stride_h, stride_w;
    int32_t dilation_h, dilation_w;
    int32_t pad_h, pad_w;       /* top/left padding (TFLite's ComputePadding) */
    int32_t input_offset;       /* -zero_point of the input */
    int32_t output_offset;      /* zero_point of the output */
    int32_t act_min, act_max;   /* fused activation clamp, quantized */
    const int32_t *bias;        /* folded_bias above, per output channel */
    const int32_t *multiplier;  /* per output channel */
    const int32_t *shift;
    const int32_t *requant;     /* tp_depthwise_conv_w16_s8 only: 3 words per channel, see
                                   tp_output_rq_s8 (multiplier and shift are unused there) */
} tp_depthwise_conv_params;

/* scratch: input_c bytes (a row of zero points that padded taps read), or NULL when the host
 * found that no window reaches the padding. */
void tp_depthwise_conv_s8(const tp_depthwise_conv_params *p, const int8_t *input,
                          const int8_t *filter, int8_t *output, void *scratch);

/* The same convolution for depth_multiplier 1, input_c a multiple of 4 and at most
 * TP_DW_MAX_TAPS taps, with the filter int16-expanded and interleaved by the host: for each
 * group of 4 channels c..c+3 and each tap t of the [filter_h][filter_w] window, in this order:
 *   w[t][c], w[t][c+2], w[t][c+1], w[t][c+3]
 * which is how SXTB16 splits 4 input bytes into int16 lanes, so the weights need no sign
 * extension. Twice the flash of the int8 filter (a few hundred bytes for a 3x3 layer).
 * Scratch as tp_depthwise_conv_s8. */
void tp_depthwise_conv_w16_s8(const tp_depthwise_conv_params *p, const int8_t *input,
                              const int16_t *filter16, int8_t *output, void *scratch);

#endif
