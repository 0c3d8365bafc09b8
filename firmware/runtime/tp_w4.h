/* CONV_2D and FULLY_CONNECTED, int8, with 4-bit weight indices into a small codebook.
 *
 * A layer whose int8 weights take at most 16 distinct values (in the whole layer, or in each
 * output channel: weight clustering gives that) is stored as one 4-bit index per weight plus
 * a 16-entry int8 codebook, shared by the layer (codebook_stride 0) or one per output channel
 * (codebook_stride 16). Weight i of the flattened OHWI / [out][in] tensor is
 *
 *   w[i] = codebook[channel * codebook_stride + nibble(i)],  nibble(i) = packed[i / 2] >> (4 * (i % 2)) & 15
 *
 * i.e. exactly the int8 weight the .tflite holds, so the sums below are TFLM's, term by term:
 *
 *   CONV_2D:          acc = bias[oc] + sum_{ky,kx,ic} w[oc][ky][kx][ic] * (in[b][iy][ix][g*filter_c + ic] - zp_in)
 *                     (taps outside the input skipped: zero padding; g = oc / (output_c / groups))
 *   FULLY_CONNECTED:  acc = bias[o] + sum_d w[o][d] * (in[b][d] - zp_in)
 *   out = clamp(requant(acc, M[oc]) + zp_out, act_min, act_max)
 *
 * The weights are symmetric (zero point 0). The host checks that no partial sum leaves int32.
 */
#ifndef TP_W4_H
#define TP_W4_H

#include "tp_common.h"

typedef struct {
    int32_t batches;
    int32_t input_h, input_w, input_c;
    int32_t filter_h, filter_w, filter_c; /* filter_c = input_c / groups */
    int32_t output_h, output_w, output_c;
    int32_t groups;
    int32_t stride_h, stride_w;
    int32_t dilation_h, dilation_w;
    int32_t pad_h, pad_w;                 /* top/left padding (TFLite's ComputePadding) */
    int32_t input_offset;                 /* -zero_point of the input */
    int32_t output_offset;                /* zero_point of the output */
    int32_t act_min, act_max;             /* fused activation clamp, quantized */
    const int8_t *codebook;               /* 16 values, per layer or per output channel */
    int32_t codebook_stride;              /* 0: one codebook; 16: one per output channel */
    const int32_t *bias;                  /* the int32 bias per output channel (0s without one) */
    const int32_t *multiplier;            /* per output channel */
    const int32_t *shift;
} tp_conv_w4_params;

typedef struct {
    int32_t batches;       /* rows of the input */
    int32_t in_features;   /* accumulation depth */
    int32_t out_features;  /* output channels */
    int32_t input_offset;  /* -zero_point of the input */
    int32_t output_offset; /* zero_point of the output */
    int32_t act_min, act_max;
    const int8_t *codebook;  /* 16 values, per layer or per output channel */
    int32_t codebook_stride; /* 0: one codebook; 16: one per output channel */
    const int32_t *bias;     /* the int32 bias per output channel (0s without one) */
    const int32_t *multiplier;
    const int32_t *shift;
} tp_fully_connected_w4_params;

void tp_conv_w4_s8(const tp_conv_w4_params *p, const int8_t *input, const uint8_t *packed,
                   int8_t *output);

void tp_fully_connected_w4_s8(const tp_fully_connected_w4_params *p, const int8_t *input,
                              const uint8_t *packed, int8_t *output);

#endif
