/* A residual block conv -> conv -> ADD(block input) computed row by row over the block input:
 *
 *   mid = conv1(x); z = conv2(mid); out = add(x, z)   (or add(z, x))
 *
 * Neither mid nor z ever exists in full. For each output row y, top to bottom: the conv1 rows
 * conv2 needs are computed (each once) into a window of conv2's extent_h rows, conv2 gives row y
 * of z into a one-row buffer, and the ADD writes output row y over input row y. The host
 * (tinypipe/compiler/fusion.py) replays this order and fuses only when no input row is
 * overwritten before its last read, so every value is the one the three separate layers give:
 * the same kernels run on one output row each (as in tp_row_window.h), only where and when
 * change. The block then needs the input's bytes plus a few rows instead of three full maps.
 */
#ifndef TP_RESIDUAL_ROWS_H
#define TP_RESIDUAL_ROWS_H

#include "tp_add.h"
#include "tp_conv.h"
#include "tp_conv_inplace.h"

typedef struct {
    tp_conv_params conv;           /* the layer as a whole, batches = 1 */
    tp_conv_kernel kernel;         /* the int8-filter kernel, or NULL */
    tp_conv_w16_kernel kernel_w16; /* the int16-expanded-filter kernel, or NULL */
    const void *filter;            /* int8_t or int16_t, as the kernel takes */
    int32_t scratch_bytes;         /* the kernel's scratch (0: it takes NULL) */
} tp_conv_layer;

typedef struct {
    tp_conv_layer conv1, conv2;
    tp_add_params add;             /* one row, used when use_lut is 0 */
    tp_add_lut_params add_lut;     /* one row, used when use_lut is 1 */
    int32_t use_lut;               /* 1: add_lut, 0: add */
    int32_t input_first;           /* 1: the block input is the ADD's first operand */
    int32_t window_rows;           /* min(conv2 extent_h, conv1 output_h) */
} tp_residual_params;

/* data: the block input on entry, the block output on return (same shape). scratch: conv1's
 * scratch, conv2's scratch (each rounded up to 4 bytes), then window_rows conv1 output rows, then
 * one conv2 output row. */
void tp_residual_rows_s8(const tp_residual_params *p, int8_t *data, void *scratch);

#endif
