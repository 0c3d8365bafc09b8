/* Thumb-1 (ARMv6-M) inner loops of the convolutions (tp_conv_thumb1.c).
 * Declared for ARMv6-M builds only: other cores use the loops in tp_conv.c and the generated
 * kernels' own paths. */
#ifndef TP_CONV_THUMB1_H
#define TP_CONV_THUMB1_H

#include <stdint.h>

#include "tp_common.h"

#if defined(__ARM_ARCH_6M__)
/* acc[c] += sum over the runs of 4 taps in [w, w_end) of the products of x's 4 bytes with
 * channel c's weights, in the Thumb-1 order (tinypipe/compiler/thumb1.py); x advances 4
 * bytes per run of 32 weight bytes. Returns w_end. */
const int32_t *tp_t1_dot1x4_w16(const int8_t *x, const int32_t *w, const int32_t *w_end,
                                int32_t acc[4]);
/* tp_t1_dot1x4_w16 for x0 into acc[0..3] and x1 into acc[4..7] in one call. */
const int32_t *tp_t1_dot2x4_w16(const int8_t *x0, const int8_t *x1, const int32_t *w,
                                const int32_t *w_end, int32_t acc[8]);
/* A generated pointwise blob's blocks of 4 output channels, each: bias, weights in the
 * Thumb-1 order (weight_bytes), 12 requantization words (tp_output_rq_s8's). */
typedef struct {
    const int32_t *blob, *blob_end;
    int32_t weight_bytes; /* 8 per tap */
    int32_t x_step;       /* input bytes from one pixel to the next */
    int32_t act_min, act_max;
} tp_t1_w16_layer;
/* For each of `pixels` (>= 1) pixels, x advancing by x_step and out by 4 per block: out[c] for
 * every output channel of the blob, clamped to [act_min, act_max]; _small for a blob whose
 * records all have the small-accumulator form (tp_common.h TP_RQ_SMALL). */
void tp_t1_pixels_w16(int32_t pixels, const int8_t *x, int8_t *out, const tp_t1_w16_layer *layer);
void tp_t1_pixels_w16_small(int32_t pixels, const int8_t *x, int8_t *out,
                            const tp_t1_w16_layer *layer);
/* The one of the two for the blob: its records have one form (tinypipe/compiler/thumb1.py),
 * which the first one's third word tells. */
static inline void tp_t1_pixels(int32_t pixels, const int8_t *x, int8_t *out,
                                const tp_t1_w16_layer *layer)
{
    const int32_t *rq = layer->blob + 4 + layer->weight_bytes / 4;
    if (rq[2] & TP_RQ_SMALL) {
        tp_t1_pixels_w16_small(pixels, x, out, layer);
    } else {
        tp_t1_pixels_w16(pixels, x, out, layer);
    }
}
/* acc[c] += sum_{i<n} x[i] * w[c * stride + i] for c in 0..3 (int8 filters, tp_conv_s8). */
void tp_t1_dot1x4_s8(const int8_t *x, const int8_t *w, int32_t stride, int32_t n, int32_t acc[4]);
#endif

#endif
