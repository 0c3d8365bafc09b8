/* CONV_2D with 4-bit packed weights (tp_w4.h) computed over its own input, one output row at a
 * time (see tp_row_window.h): clustering then saves flash without costing the in-place RAM. */
#ifndef TP_CONV_W4_INPLACE_H
#define TP_CONV_W4_INPLACE_H

#include "tp_row_window.h"
#include "tp_w4.h"

typedef void (*tp_conv_w4_kernel)(const tp_conv_w4_params *, const int8_t *, const uint8_t *,
                                  int8_t *);

typedef struct {
    tp_conv_w4_params conv;   /* the layer as a whole, batches = 1 */
    tp_conv_w4_kernel kernel; /* computes each output row */
    tp_row_window rows;
} tp_conv_w4_inplace_params;

/* data: the input on entry, the output on return; scratch: the row window. */
void tp_conv_w4_inplace_s8(const tp_conv_w4_inplace_params *p, int8_t *data, const uint8_t *packed,
                           void *scratch);

#endif
