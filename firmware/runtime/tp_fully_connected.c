#include "tp_fully_connected.h"

/* Expanding (x + io)(w + fo) = x*w + fo*x + io*w + io*fo, the terms that do not depend on the
 * input are folded into p->bias on the host, so the inner loop is a plain int8 dot product.
 * Integer arithmetic is exact, so the result equals TFLM's term by term. */
void tp_fully_connected_s8(const tp_fully_connected_params *p, const int8_t *input,
                           const int8_t *weights, int8_t *output)
{
    const int32_t n = p->in_features;
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *x = input + b * n;
        int32_t x_sum = 0;
        if (p->filter_offset != 0) { /* only asymmetric per-tensor weights need sum(x) */
            for (int32_t d = 0; d < n; ++d) {
                x_sum += x[d];
            }
        }
        for (int32_t o = 0; o < p->out_features; ++o) {
            const int8_t *w = weights + o * n;
            int32_t acc = p->bias[o] + p->filter_offset * x_sum;
            for (int32_t d = 0; d < n; ++d) {
                acc += (int32_t)x[d] * (int32_t)w[d];
            }
            acc = tp_requantize(acc, p->multiplier[o], p->shift[o]) + p->output_offset;
            output[b * p->out_features + o] = (int8_t)tp_clamp_i32(acc, p->act_min, p->act_max);
        }
    }
}
