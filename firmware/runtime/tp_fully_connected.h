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
} tp_fully_connected_params;

void tp_fully_connected_s8(const tp_fully_connected_params *p, const int8_t *input,
                           const int8_t *weights, int8_t *output);

#endif
