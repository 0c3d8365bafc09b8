#include "tp_fully_connected.h"

/* Expanding (x + io)(w + fo) = x*w + fo*x + io*w + io*fo, the terms that do not depend on the
 * input are folded into p->bias on the host, so the inner loop is a plain int8 dot product.
 * Integer arithmetic is exact, so the result equals TFLM's term by term.
 * Outputs go in pairs so both read each input byte once (tp_dot2_s8); with the DSP extension the
 * dot products use SMLAD, whose 16x16-bit products and 32-bit sums are exact (tp_common.h). */
void tp_fully_connected_s8(const tp_fully_connected_params *p, const int8_t *input,
                           const int8_t *weights, int8_t *output)
{
    /* Local copies: the int8 output stores could alias *p, which would force reloads. */
    const int32_t n = p->in_features, outs = p->out_features;
    const int32_t *bias = p->bias, *mult = p->multiplier, *shift = p->shift;
    const tp_output_q q = {p->output_offset, p->act_min, p->act_max};
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *x = input + b * n;
        int8_t *out = output + b * outs;
        int32_t x_sum = 0;
        if (p->filter_offset != 0) { /* only asymmetric per-tensor weights need sum(x) */
            for (int32_t d = 0; d < n; ++d) {
                x_sum += x[d];
            }
        }
        const int32_t x_term = p->filter_offset * x_sum;
        int32_t o = 0;
        for (; o + 2 <= outs; o += 2) {
            const int8_t *w0 = weights + o * n;
            int32_t acc0 = bias[o] + x_term, acc1 = bias[o + 1] + x_term;
            tp_dot2_s8(x, w0, w0 + n, n, &acc0, &acc1);
            out[o] = tp_output_s8(acc0, mult[o], shift[o], q);
            out[o + 1] = tp_output_s8(acc1, mult[o + 1], shift[o + 1], q);
        }
        if (o < outs) { /* an odd output left over */
            const int32_t acc = tp_dot_s8(x, weights + o * n, n, bias[o] + x_term);
            out[o] = tp_output_s8(acc, mult[o], shift[o], q);
        }
    }
}
