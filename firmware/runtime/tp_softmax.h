/* SOFTMAX, int8 -> int8 (output scale 1/256, zero point -128), over the last axis.
 *
 * For each row, with d = x - max(row) and e(d) = exp(beta * s_in * d) in Q0.31 (the table `exp`,
 * indexed by -d and computed on the host with TFLM's fixed-point exp; 0 for the differences TFLM
 * skips):
 *     sum   = sum_c e(d_c) / 2^12                                (Q12.19, rounded per term)
 *     recip = 1 / sum, as a Q0.31 mantissa and a power of two   (gemmlowp Newton-Raphson)
 *     out_c = round(recip * e(d_c) / 2^exponent) - 128, saturated to int8
 * which is TFLM's reference int8 softmax step for step.
 */
#ifndef TP_SOFTMAX_H
#define TP_SOFTMAX_H

#include "tp_common.h"

typedef struct {
    int32_t rows;        /* product of all but the last dimension */
    int32_t depth;       /* size of the last dimension (at most 4095) */
    const int32_t *exp;  /* 256 entries: exp[k] = e(-k) in Q0.31 */
} tp_softmax_params;

void tp_softmax_s8(const tp_softmax_params *p, const int8_t *input, int8_t *output);

#endif
