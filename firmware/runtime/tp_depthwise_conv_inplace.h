/* DEPTHWISE_CONV_2D computed over its own input, one output row at a time (see
 * tp_row_window.h): the output starts at the input's address. */
#ifndef TP_DEPTHWISE_CONV_INPLACE_H
#define TP_DEPTHWISE_CONV_INPLACE_H

#include "tp_depthwise_conv.h"
#include "tp_row_window.h"

typedef void (*tp_depthwise_conv_kernel)(const tp_depthwise_conv_params *, const int8_t *,
                                         const int8_t *, int8_t *, void *);

typedef struct {
    tp_depthwise_conv_params conv; /* the layer as a whole, batches = 1 */
    tp_depthwise_conv_kernel kernel;
    tp_row_window rows;
} tp_depthwise_conv_inplace_params;

/* The same for tp_depthwise_conv_w16_s8, whose filter is int16-expanded. */
typedef void (*tp_depthwise_conv_w16_kernel)(const tp_depthwise_conv_params *, const int8_t *,
                                             const int16_t *, int8_t *, void *);
typedef struct {
    tp_depthwise_conv_params conv;
    tp_depthwise_conv_w16_kernel kernel;
    tp_row_window rows;
} tp_depthwise_conv_w16_inplace_params;

/* data: the input on entry, the output on return; scratch as tp_run_rows says. */
void tp_depthwise_conv_inplace_s8(const tp_depthwise_conv_inplace_params *p, int8_t *data,
                                  const int8_t *filter, void *scratch);
void tp_depthwise_conv_w16_inplace_s8(const tp_depthwise_conv_w16_inplace_params *p,
                                      int8_t *data, const int16_t *filter16, void *scratch);

#endif
