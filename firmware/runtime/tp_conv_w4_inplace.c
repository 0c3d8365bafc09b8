#include "tp_conv_w4_inplace.h"

static void conv_w4_row(const void *params, const void *filter, const int8_t *window,
                        int32_t rows, int32_t pad_top, int8_t *out_row, void *kernel_scratch)
{
    const tp_conv_w4_inplace_params *p = (const tp_conv_w4_inplace_params *)params;
    tp_conv_w4_params q = p->conv;
    (void)kernel_scratch; /* the packed kernel needs none */
    q.batches = 1;
    q.input_h = rows;
    q.pad_h = pad_top;
    q.output_h = 1;
    p->kernel(&q, window, (const uint8_t *)filter, out_row);
}

void tp_conv_w4_inplace_s8(const tp_conv_w4_inplace_params *p, int8_t *data, const uint8_t *packed,
                           void *scratch)
{
    tp_run_rows(&p->rows, data, scratch, conv_w4_row, p, packed);
}
