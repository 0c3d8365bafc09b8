/* int16 sigmoid and tanh as TFLM's reference integer kernels compute them (used by the LSTM
 * gates and cell): the input is scaled by (x * multiplier + round) >> shift onto the grid of a
 * 256-entry table of sigmoid(i / 24) in Q0.16, read with linear interpolation on |x| and
 * mirrored for negative inputs; tanh reads it at twice the step (tanh(x) = 2 sigmoid(2x) - 1).
 * The table and the (multiplier, shift) pairs come from the host (compiler/ops/sigmoid_s16.py);
 * the host keeps |x| * multiplier below 2^31. Results: sigmoid in [0, 32767] (Q0.15),
 * tanh in [-32767, 32767]. */
#ifndef TP_ACT_S16_H
#define TP_ACT_S16_H

#include "tp_common.h"

int16_t tp_sigmoid_s16(int16_t x, int32_t multiplier, int32_t shift, const uint16_t *table);
int16_t tp_tanh_s16(int16_t x, int32_t multiplier, int32_t shift, const uint16_t *table);

/* The LOGISTIC and TANH ops on int16 tensors (output scale 2^-15, zero points 0). */
typedef struct {
    int32_t size;       /* elements */
    int32_t multiplier; /* input scaling onto the table's grid, from TFLM's Prepare */
    int32_t shift;
    const uint16_t *table;
} tp_act_s16_params;

void tp_act_logistic_s16(const tp_act_s16_params *p, const int16_t *input, int16_t *output);
void tp_act_tanh_s16(const tp_act_s16_params *p, const int16_t *input, int16_t *output);

#endif
