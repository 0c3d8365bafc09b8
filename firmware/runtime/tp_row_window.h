/* Convolutions computed over their own input: the output tensor starts at the input's address,
 * so the layer needs one activation buffer of max(input, output) bytes instead of both.
 *
 * Output rows are produced one at a time by the ordinary kernel (tp_conv_s8, tp_depthwise_conv_s8
 * or any kernel with the same signature), called on a one-row output and a short input `window`:
 * a copy of the input rows that output row reads. An input row is copied into the window before
 * any output row is written over it, so every output value is computed from the original input
 * and is bit for bit what the out-of-place kernel gives.
 *
 * Rows go top to bottom (`backward` 0) when output rows are no longer than input rows per step,
 * bottom to top otherwise; the host (tinypipe/compiler/inplace.py) simulates the exact sequence of
 * copies and writes and uses this kernel only when no row is overwritten before it is copied.
 */
#ifndef TP_ROW_WINDOW_H
#define TP_ROW_WINDOW_H

#include "tp_common.h"

typedef struct {
    int32_t input_h, input_row_bytes;   /* input rows and their size (w * c bytes) */
    int32_t output_h, output_row_bytes;
    int32_t stride_h, pad_h, extent_h;  /* extent_h = (filter_h - 1) * dilation_h + 1 */
    int32_t window_rows;                /* capacity of the window: min(extent_h, input_h) */
    int32_t backward;                   /* 1: from the last output row to the first */
    int32_t kernel_scratch_bytes;       /* the kernel's own scratch, ahead of the window */
} tp_row_window;

/* One output row of the layer, computed from `rows` input rows held in `window`, with `pad_top`
 * padding rows above them in the receptive field. */
typedef void (*tp_row_fn)(const void *params, const void *filter, const int8_t *window,
                          int32_t rows, int32_t pad_top, int8_t *out_row, void *kernel_scratch);

/* Produce every output row over `data`. scratch: g->kernel_scratch_bytes, then
 * g->window_rows * g->input_row_bytes. */
void tp_run_rows(const tp_row_window *g, int8_t *data, void *scratch, tp_row_fn fn,
                 const void *params, const void *filter);

#endif
