#include "tp_fully_connected.h"

/* A Helium core gets tp_fully_connected_s8 and _x4_s8 from tp_fully_connected_mve.c. */
#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)
#define tp_fully_connected_s8 tp_fully_connected_generic_s8
#define tp_fully_connected_x4_s8 tp_fully_connected_x4_generic_s8
#endif

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

/* ---- tp_fully_connected_x4_s8: 4 outputs per pass over the input ----
 *
 * Each input word is loaded and split by SXTB16 once for 4 outputs (tp_dot2_s8 shares it by 2),
 * and the 4 weight words of a step are adjacent, so they come in with one or two multiple loads
 * instead of 4 pointers. Products and sums are the plain loop's in another order: the same
 * integer (the host bounds every partial sum). */
void tp_fully_connected_x4_s8(const tp_fully_connected_params *p, const int8_t *input,
                              const int32_t *w4, int8_t *output)
{
    /* Local copies: the int8 output stores could alias *p, which would force reloads. */
    const int32_t n = p->in_features, outs = p->out_features;
    const int32_t *bias = p->bias;
    const int32_t act_min = p->act_min, act_max = p->act_max;
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *x_row = input + b * n;
        int8_t *out = output + b * outs;
        const int32_t *w = w4;
        const int32_t *rq = p->requant;
        for (int32_t o = 0; o < outs; o += 4, rq += 12) {
            int32_t a0 = bias[o], a1 = bias[o + 1], a2 = bias[o + 2], a3 = bias[o + 3];
            for (const int8_t *x = x_row, *end = x_row + n; x < end; x += 4, w += 4) {
#ifdef TP_DSP
                const uint32_t xv = tp_load_x4(x);
                const int32_t xe = __sxtb16(xv), xo = tp_sxtb16_odd(xv);
                const uint32_t w0 = (uint32_t)w[0], w1 = (uint32_t)w[1];
                const uint32_t w2 = (uint32_t)w[2], w3 = (uint32_t)w[3];
                a0 = __smlad(xe, __sxtb16(w0), a0);
                a0 = __smlad(xo, tp_sxtb16_odd(w0), a0);
                a1 = __smlad(xe, __sxtb16(w1), a1);
                a1 = __smlad(xo, tp_sxtb16_odd(w1), a1);
                a2 = __smlad(xe, __sxtb16(w2), a2);
                a2 = __smlad(xo, tp_sxtb16_odd(w2), a2);
                a3 = __smlad(xe, __sxtb16(w3), a3);
                a3 = __smlad(xo, tp_sxtb16_odd(w3), a3);
#else
                /* The words' bytes in memory order are w[o][k..k+3] on a little-endian core
                 * (every Arm target here); elsewhere they are taken apart by shifts. */
                const int32_t x0 = x[0], x1 = x[1], x2 = x[2], x3 = x[3];
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define TP_W4B(j, i) ((int32_t)(int8_t)((uint32_t)w[j] >> (8 * (i))))
#else
#define TP_W4B(j, i) ((int32_t)((const int8_t *)w)[4 * (j) + (i)])
#endif
                a0 += x0 * TP_W4B(0, 0) + x1 * TP_W4B(0, 1) + x2 * TP_W4B(0, 2) + x3 * TP_W4B(0, 3);
                a1 += x0 * TP_W4B(1, 0) + x1 * TP_W4B(1, 1) + x2 * TP_W4B(1, 2) + x3 * TP_W4B(1, 3);
                a2 += x0 * TP_W4B(2, 0) + x1 * TP_W4B(2, 1) + x2 * TP_W4B(2, 2) + x3 * TP_W4B(2, 3);
                a3 += x0 * TP_W4B(3, 0) + x1 * TP_W4B(3, 1) + x2 * TP_W4B(3, 2) + x3 * TP_W4B(3, 3);
#undef TP_W4B
#endif
            }
            out[o] = tp_output_rq_s8(a0, rq, act_min, act_max);
            out[o + 1] = tp_output_rq_s8(a1, rq + 3, act_min, act_max);
            out[o + 2] = tp_output_rq_s8(a2, rq + 6, act_min, act_max);
            out[o + 3] = tp_output_rq_s8(a3, rq + 9, act_min, act_max);
        }
    }
}
