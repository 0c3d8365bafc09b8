/* CONV_2D, int8 (NHWC input and output, OHWI filter), one output element per (b, y, x, oc):
 *
 *   acc = bias[oc] + sum_{ky,kx,ic} w[oc][ky][kx][ic] * (in[b][iy][ix][g*filter_c + ic] - zp_in)
 *         with iy = y*stride_h - pad_h + ky*dilation_h, ix = x*stride_w - pad_w + kx*dilation_w,
 *         taps outside the input skipped (zero padding), g = oc / (output_c / groups)
 *   out[b][y][x][oc] = clamp(requant(acc, M[oc]) + zp_out, act_min, act_max)
 *
 * This is TFLM's reference ConvPerChannel; per-tensor weights repeat their one multiplier.
 * The weights are symmetric (zero point 0), as the TFLite int8 spec requires.
 *
 * The kernel computes the same acc as a plain int8 dot product (see tp_conv.c):
 *
 *   acc = folded_bias[oc] + sum_{ky,kx,ic} w[oc][ky][kx][ic] * x~[ky][kx][ic]
 *         folded_bias[oc] = bias[oc] - zp_in * sum_{ky,kx,ic} w[oc][ky][kx][ic]   (host-computed)
 *         x~ = the input value, or zp_in for a tap outside the input
 *
 * which is the formula above rearranged: sum w*(x - zp_in) = sum w*x - zp_in * sum w, and a
 * padded tap holding zp_in adds w*(zp_in - zp_in) = 0, exactly as TFLM's skipped tap.
 */
#ifndef TP_CONV_H
#define TP_CONV_H

#include "tp_common.h"
#include "tp_conv_thumb1.h"

typedef struct {
    int32_t batches;
    int32_t input_h, input_w, input_c;
    int32_t filter_h, filter_w, filter_c; /* filter_c = input_c / groups */
    int32_t output_h, output_w, output_c;
    int32_t groups;                       /* input_c / filter_c; 1 for an ordinary conv */
    int32_t stride_h, stride_w;
    int32_t dilation_h, dilation_w;
    int32_t pad_h, pad_w;                 /* top/left padding (TFLite's ComputePadding) */
    int32_t input_offset;                 /* -zero_point of the input */
    int32_t output_offset;                /* zero_point of the output */
    int32_t act_min, act_max;             /* fused activation clamp, quantized */
    int32_t read_in_place;                /* 1: read windows inside the input where they lie */
    int32_t patch_pad;                    /* tp_conv_w16_s8: bytes appended to every gathered
                                             patch (their weights are 0) so that its length is
                                             a multiple of 4; 0 for tp_conv_s8 */
    const int32_t *bias;                  /* folded_bias above, per output channel */
    const int32_t *multiplier;            /* per output channel */
    const int32_t *shift;
    const int32_t *requant;               /* tp_conv_w16_s8 only: 3 words per channel, see
                                             tp_output_rq_s8 (multiplier and shift unused) */
} tp_conv_params;

/* The patch of the output pixel whose window starts at input (iy0, ix0) of image in_b, for the
 * input channels [c0, c0 + filter_c): either in place (p->read_in_place and the window inside
 * the input), or gathered into col with padded taps set to the input zero point, followed by
 * p->patch_pad bytes. *row_step is the distance between its filter rows. */
const int8_t *tp_conv_patch(const tp_conv_params *p, const int8_t *in_b, int32_t iy0,
                            int32_t ix0, int32_t c0, int8_t *col, int32_t *row_step);

/* read_in_place is set by the host for ungrouped convs without horizontal dilation whose
 * filter rows are long enough (or back to back in the input) to be read where they lie. Every
 * other window is gathered into scratch: 2 * filter_h * filter_w * filter_c bytes (two output
 * pixels at a time), or NULL when the host found that no window needs gathering. */
void tp_conv_s8(const tp_conv_params *p, const int8_t *input, const int8_t *filter,
                int8_t *output, void *scratch);

/* The same convolution with the filter int16-expanded and interleaved by the host, for
 * ungrouped convs (groups == 1) with output_c a multiple of 4 and either filter_w * filter_c a
 * multiple of 4, or every window gathered (read_in_place 0) into a patch padded by patch_pad
 * bytes to a multiple of 4, the filter padded with as many zero weights (first layers over 1-3
 * channels, such as a 3x3 window over RGB). filter16 holds, for each group of 4 output channels oc..oc+3 and each run of 4
 * taps k..k+3 of the [filter_h][filter_w][filter_c] filter, in this order:
 *   for c in 0..3: w[oc+c][k], w[oc+c][k+2], w[oc+c][k+1], w[oc+c][k+3]
 * Twice the flash of the int8 filter, in exchange for no sign extension of weights and a
 * 2-pixel x 4-channel tile (the host picks it per layer). Scratch as tp_conv_s8. */
void tp_conv_w16_s8(const tp_conv_params *p, const int8_t *input, const int16_t *filter16,
                    int8_t *output, void *scratch);

#endif
