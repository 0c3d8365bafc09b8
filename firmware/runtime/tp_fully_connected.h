/* FULLY_CONNECTED, int8:
 *   out[b][o] = clamp(requant(sum_d (in[b][d] - zp_in) * (w[o][d] - zp_w) + bias[o], M[o]) + zp_out)
 * zp_w is 0 for per-channel weights (TFLM ignores it there; nonzero ones are rejected on the host). */
#ifndef TP_FULLY_CONNECTED_H
#define TP_FULLY_CONNECTED_H

#include "tp_common.h"

typedef struct {
    int32_t batches;       /* rows of the input */
    int32_t in_features;   /* accumulation depth */
    int32_t out_features;  /* output channels */
    int32_t filter_offset; /* -zero_point of the weights (0 for symmetric int8) */
    int32_t output_offset; /* zero_point of the output */
    int32_t act_min;       /* fused activation clamp, quantized */
    int32_t act_max;
    /* bias[o] + (-zp_in) * sum_d (w[o][d] - zp_w): every input-independent term, host-computed */
    const int32_t *bias;
    const int32_t *multiplier; /* per output channel (repeated when per-tensor) */
    const int32_t *shift;
    const int32_t *requant;    /* tp_fully_connected_x4_s8 only: 3 words per output, see
                                  tp_output_rq_s8 (multiplier and shift unused there) */
} tp_fully_connected_params;

void tp_fully_connected_s8(const tp_fully_connected_params *p, const int8_t *input,
                           const int8_t *weights, int8_t *output);

/* The same for symmetric weights (filter_offset 0) with in_features and out_features multiples
 * of 4, the weights interleaved by the host for 4 outputs at a time: word (g, k, j) of w4 holds
 * the 4 bytes w[4g + j][4k .. 4k + 3] (little-endian), for output group g, input chunk k and
 * j = 0..3, in that order. Stored as int32 words, so the kernel's loads are aligned. */
void tp_fully_connected_x4_s8(const tp_fully_connected_params *p, const int8_t *input,
                              const int32_t *w4, int8_t *output);

#endif
