/* CONV_2D through a generated tile function (tinypipe/compiler/conv_gen.py): the same
 * convolution as tp_conv_w16_s8 (tp_conv.h), with the per-layer inner work done by a function
 * compiled for the layer's filter row length, filter height and horizontal stride.
 *
 * The tile computes `pixels` output pixels of one output row, pixel i at output + i * output_c.
 * Pixel i's window starts at input + i * stride_w * input_c; its filter row r (r < filter_h) is
 * the filter_w * input_c bytes at row_step * r past that. `blob` holds, per 4 output channels,
 * their folded bias, their int16 weights in the tile's order and their requantization records.
 *
 * tp_conv_tiled_s8 runs the tile on windows inside the input where they lie (row_step: the
 * input row, times the vertical dilation), and on copies of the others with padded taps set to
 * the input zero point, which adds w * (zp_in - zp_in) = 0 as TFLM's skipped tap does:
 * - read_in_place layers (ungrouped, no horizontal dilation, filter rows of whole words): the
 *   copy holds the rows of the output pixels' windows side by side (a small image, two pixels
 *   at a time when it fits the scratch), so the tile reads it as it reads the input;
 * - the other layers (a 3x3 window over 1-3 channels): every window is gathered as one run of
 *   filter_h * filter_w * filter_c + patch_pad bytes, two windows back to back, and the tile is
 *   compiled for one filter row of that length.
 * Scratch: 2 * filter_h * filter_w * filter_c (+ 2 * patch_pad) bytes, or NULL when no window
 * needs a copy, as tp_conv_w16_s8's. */
#ifndef TP_CONV_TILED_H
#define TP_CONV_TILED_H

#include "tp_conv.h"
#include "tp_conv_thumb1.h"

typedef void (*tp_conv_tile)(int32_t pixels, const int8_t *input, const int32_t *blob,
                             int8_t *output, int32_t output_c, int32_t row_step);

/* The portable tile's step (cores without the DSP extension, the host): acc[c] += the dot
 * products of the `run` bytes at x (a multiple of 4) with channel c's weights, as the blob holds
 * them: per 4 bytes, word c pairs taps 0 and 2, word 4 + c taps 1 and 3, each as two int16
 * halves (low first). Returns the weights past them. */
static inline const int32_t *tp_conv_tile_row(int32_t acc[4], const int8_t *x, int32_t run,
                                              const int32_t *w)
{
#if defined(__ARM_ARCH_6M__)
    return tp_t1_dot1x4_w16(x, w, w + 2 * run, acc); /* the Thumb-1 order (thumb1.py) */
#else
    for (int32_t k = 0; k < run; k += 4, x += 4, w += 8) {
        const int32_t x0 = x[0], x1 = x[1], x2 = x[2], x3 = x[3];
        for (int32_t c = 0; c < 4; ++c) {
            acc[c] += x0 * (int16_t)(uint16_t)w[c] + x2 * (w[c] >> 16) +
                      x1 * (int16_t)(uint16_t)w[4 + c] + x3 * (w[4 + c] >> 16);
        }
    }
    return w;
#endif
}

void tp_conv_tiled_s8(const tp_conv_params *p, const int8_t *input, const int32_t *blob,
                      int8_t *output, void *scratch, tp_conv_tile tile);

#endif
