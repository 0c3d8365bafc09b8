/* RESIZE_NEAREST_NEIGHBOR and RESIZE_BILINEAR, int8, NHWC.
 *
 * Where each output row and column samples the input depends only on the sizes and options,
 * so the host precomputes it per row (y) and per column (x):
 *   nearest:  out[n, y, x, c] = in[n, y_src[y], x_src[x], c]
 *   bilinear: with 10-bit fractions fy = y_frac[y], fx = x_frac[x] (1 = 1024),
 *     s = in[n, y_lo, x_lo, c] (1024 - fy)(1024 - fx) + in[n, y_hi, x_lo, c] fy (1024 - fx)
 *       + in[n, y_lo, x_hi, c] (1024 - fy) fx     + in[n, y_hi, x_hi, c] fy fx
 *     out = s / 2^20, rounded half away from zero
 * as TFLM's integer bilinear kernel. Input and output share one quantization.
 */
#ifndef TP_RESIZE_H
#define TP_RESIZE_H

#include "tp_common.h"

typedef struct {
    int32_t batches;
    int32_t in_h, in_w;
    int32_t out_h, out_w;
    int32_t depth;
    const int32_t *y_src; /* [out_h] input row of each output row */
    const int32_t *x_src; /* [out_w] input column of each output column */
} tp_resize_nearest_params;

void tp_resize_nearest_s8(const tp_resize_nearest_params *p, const int8_t *input,
                          int8_t *output);

typedef struct {
    int32_t batches;
    int32_t in_h, in_w;
    int32_t out_h, out_w;
    int32_t depth;
    const int32_t *y_lo, *y_hi, *y_frac; /* [out_h] */
    const int32_t *x_lo, *x_hi, *x_frac; /* [out_w] */
} tp_resize_bilinear_params;

void tp_resize_bilinear_s8(const tp_resize_bilinear_params *p, const int8_t *input,
                           int8_t *output);

#endif
