#include "tp_depthwise_conv_inplace.h"

/* The layer's parameters for one output row read from `rows` window rows. */
static tp_depthwise_conv_params one_row(const tp_depthwise_conv_params *conv, int32_t rows,
                                        int32_t pad_top)
{
    tp_depthwise_conv_params q = *conv;
    q.batches = 1;
    q.input_h = rows;
    q.pad_h = pad_top;
    q.output_h = 1;
    return q;
}

static void depthwise_row(const void *params, const void *filter, const int8_t *window,
                          int32_t rows, int32_t pad_top, int8_t *out_row, void *kernel_scratch)
{
    const tp_depthwise_conv_inplace_params *p = (const tp_depthwise_conv_inplace_params *)params;
    const tp_depthwise_conv_params q = one_row(&p->conv, rows, pad_top);
    p->kernel(&q, window, (const int8_t *)filter, out_row, kernel_scratch);
}

static void depthwise_w16_row(const void *params, const void *filter, const int8_t *window,
                              int32_t rows, int32_t pad_top, int8_t *out_row,
                              void *kernel_scratch)
{
    const tp_depthwise_conv_w16_inplace_params *p =
        (const tp_depthwise_conv_w16_inplace_params *)params;
    const tp_depthwise_conv_params q = one_row(&p->conv, rows, pad_top);
    p->kernel(&q, window, (const int16_t *)filter, out_row, kernel_scratch);
}

void tp_depthwise_conv_inplace_s8(const tp_depthwise_conv_inplace_params *p, int8_t *data,
                                  const int8_t *filter, void *scratch)
{
    tp_run_rows(&p->rows, data, scratch, depthwise_row, p, filter);
}

void tp_depthwise_conv_w16_inplace_s8(const tp_depthwise_conv_w16_inplace_params *p,
                                      int8_t *data, const int16_t *filter16, void *scratch)
{
    tp_run_rows(&p->rows, data, scratch, depthwise_w16_row, p, filter16);
}
