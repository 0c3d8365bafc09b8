/* Two row-wise layers (CONV_2D / DEPTHWISE_CONV_2D) fused and computed row by row over the first
 * one's input, optionally with a residual ADD of that input:
 *
 *   mid = first(x); z = second(mid); out = z   or   out = add(x, z) (or add(z, x))
 *
 * mid never exists in full, nor does z. For each output row y, top to bottom: the rows of mid the
 * second layer needs are computed (each once, no recompute) into a window of its extent_h rows,
 * the second layer gives row y, and the output row (through the ADD if any) is written over the
 * input's bytes. The host (tinypipe/compiler/fusion.py) replays this order and fuses only when no
 * input byte is overwritten before its last read, so every value is the one the layers apart
 * give: the same kernels run on one output row each (tp_layer_window.h), only where and when
 * change. The pair then needs max(input, output) bytes plus a few rows instead of two or three
 * full maps.
 */
#ifndef TP_FUSED_ROWS_H
#define TP_FUSED_ROWS_H

#include "tp_add.h"
#include "tp_common.h"
#include "tp_layer_window.h"

typedef struct {
    tp_window_fn window;              /* the layer's kernel on a window (one output row here) */
    const void *params;
    const void *filter;               /* int8_t or int16_t, as the layer's kernel takes */
    int32_t input_h, input_row_bytes; /* input rows and their size (w * c bytes) */
    int32_t output_h, output_row_bytes;
    int32_t input_w, output_w, pad_w; /* pixels per row, left padding */
    int32_t stride_h, pad_h, extent_h; /* extent_h = (filter_h - 1) * dilation_h + 1 */
    int32_t scratch_bytes;            /* the kernel's scratch (0: it takes NULL) */
} tp_fused_layer;

struct tp_fused_rows_params;

/* The residual ADD of one output row, out = add(a, b): tp_fused_add_s8 (tp_add_s8 on `add`) or
 * tp_fused_add_lut_s8 (tp_add_lut_s8 on `add_lut`). The host names the one the block uses, so
 * the other ADD kernel is not linked. */
typedef void (*tp_fused_add)(const struct tp_fused_rows_params *p, const int8_t *a,
                             const int8_t *b, int8_t *out);

typedef struct tp_fused_rows_params {
    tp_fused_layer first, second;
    tp_fused_add add_row;          /* NULL: no ADD */
    tp_add_params add;             /* one output row */
    tp_add_lut_params add_lut;     /* one output row */
    int32_t input_first;           /* 1: the block input is the ADD's first operand */
    int32_t window_rows;           /* min(second.extent_h, first.output_h) */
} tp_fused_rows_params;

void tp_fused_add_s8(const tp_fused_rows_params *p, const int8_t *a, const int8_t *b,
                     int8_t *out);
void tp_fused_add_lut_s8(const tp_fused_rows_params *p, const int8_t *a, const int8_t *b,
                         int8_t *out);

/* data: the first layer's input on entry, the output on return. scratch: the first layer's
 * scratch, the second's (each rounded up to 4 bytes), window_rows rows of mid, then (with an ADD)
 * one row of z. */
void tp_fused_rows_s8(const tp_fused_rows_params *p, int8_t *data, void *scratch);

#endif
