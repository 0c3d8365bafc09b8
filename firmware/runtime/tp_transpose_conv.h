/* TRANSPOSE_CONV, NHWC: int8 with per-channel (or per-tensor) int8 weights, and 16x8.
 *
 * Each input pixel (iy, ix) spreads its channels over the output window whose top-left corner is
 * (iy * stride_h - pad_h, ix * stride_w - pad_w). Gathering instead of spreading, output pixel
 * (oy, ox) collects the filter taps (ky, kx) with oy + pad_h - ky = iy * stride_h for an input
 * row iy inside the input (and the same for columns):
 *   acc[oc] = bias[oc] + sum_{taps, ic} (in[n, iy, ix, ic] - zp_in) * w[oc, ky, kx, ic]
 *   out[n, oy, ox, oc] = clamp(requant(acc[oc], M[oc]) + zp_out, act_min, act_max)
 * The same integer sums as TFLM's scatter loop, so the result is bit-exact without its scratch
 * copy of the output. The taps of one output row are ky = (oy + pad_h) mod stride_h, then every
 * stride_h-th, with iy going down by one each step (columns alike); tp_transpose_taps clips
 * that walk to the input once per output pixel. In the int8 kernel each tap's inner sum is split
 * as sum x * w + (-zp_in) * sum w, the weight sums precomputed on the host, so the products run
 * through the shared int8 dot product (SMLAD on Cortex-M4).
 *
 * The 16x8 kernel (int16 input and output with zero point 0, int8 weights) walks the same taps
 * and sums in int64 as TFLM's 16x8 kernel does, whatever the bias:
 *   acc[oc] = bias[oc] + sum_{taps, ic} in[n, iy, ix, ic] * w[oc, ky, kx, ic]
 *   out[n, oy, ox, oc] = clamp(tp_requantize_s64(acc[oc], M[oc]), act_min, act_max)
 */
#ifndef TP_TRANSPOSE_CONV_H
#define TP_TRANSPOSE_CONV_H

#include "tp_common_s16.h"

typedef struct {
    int32_t batches;
    int32_t in_h, in_w, in_c;
    int32_t out_h, out_w, out_c;
    int32_t k_h, k_w;
    int32_t stride_h, stride_w;
    int32_t pad_h, pad_w; /* leading padding of the equivalent convolution, < k_h, k_w */
} tp_transpose_conv_geometry;

typedef struct {
    tp_transpose_conv_geometry g;
    int32_t input_offset;    /* -zero_point of the input */
    int32_t output_offset;   /* zero_point of the output */
    int32_t act_min, act_max;
    const int32_t *bias;     /* [out_c] or NULL */
    const int32_t *multiplier; /* [out_c] */
    const int32_t *shift;      /* [out_c] */
    const int32_t *weight_sum; /* [out_c][k_h][k_w]: sum over ic of w[oc, ky, kx, ic] */
} tp_transpose_conv_params;

typedef struct {
    tp_transpose_conv_geometry g;
    int32_t act_min, act_max;  /* fused activation clamp, quantized */
    const int64_t *bias;       /* [out_c], zeros when the layer has none */
    const int32_t *multiplier; /* [out_c], Q15 (tp_requantize_s64) */
    const int32_t *shift;      /* [out_c], total right shift */
} tp_transpose_conv_s16_params;

void tp_transpose_conv_s8(const tp_transpose_conv_params *p, const int8_t *input,
                          const int8_t *weights, int8_t *output);

void tp_transpose_conv_s16(const tp_transpose_conv_s16_params *p, const int16_t *input,
                           const int8_t *weights, int16_t *output);

#endif
