#include "tp_depthwise_conv_inplace.h"

static void depthwise_row(const void *params, const void *filter, const int8_t *window,
                          int32_t rows, int32_t pad_top, int8_t *out_row, void *kernel_scratch)
{
    const tp_depthwise_conv_inplace_params *p = (const tp_depthwise_conv_inplace_params *)params;
    tp_depthwise_conv_params q = p->conv;
    q.batches = 1;
    q.input_h = rows;
    q.pad_h = pad_top;
    q.output_h = 1;
    p->kernel(&q, window, (const int8_t *)filter, out_row, kernel_scratch);
}

void tp_depthwise_conv_inplace_s8(const tp_depthwise_conv_inplace_params *p, int8_t *data,
                                  const int8_t *filter, void *scratch)
{
    tp_run_rows(&p->rows, data, scratch, depthwise_row, p, filter);
}
