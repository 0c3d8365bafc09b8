#include "tp_layer_window.h"

#include "tp_conv.h"
#include "tp_depthwise_conv.h"
#include "tp_pooling.h"

static tp_conv_params conv_cut(const void *params, const tp_window *w)
{
    tp_conv_params q = *(const tp_conv_params *)params;
    TP_CUT_TO_WINDOW(q, w);
    return q;
}

static tp_depthwise_conv_params depthwise_cut(const void *params, const tp_window *w)
{
    tp_depthwise_conv_params q = *(const tp_depthwise_conv_params *)params;
    TP_CUT_TO_WINDOW(q, w);
    return q;
}

void tp_conv_window(const void *params, const void *filter, const int8_t *input,
                    const tp_window *w, int8_t *output, void *scratch)
{
    const tp_conv_params q = conv_cut(params, w);
    tp_conv_s8(&q, input, (const int8_t *)filter, output, scratch);
}

void tp_conv_w16_window(const void *params, const void *filter, const int8_t *input,
                        const tp_window *w, int8_t *output, void *scratch)
{
    const tp_conv_params q = conv_cut(params, w);
    tp_conv_w16_s8(&q, input, (const int16_t *)filter, output, scratch);
}

void tp_depthwise_window(const void *params, const void *filter, const int8_t *input,
                         const tp_window *w, int8_t *output, void *scratch)
{
    const tp_depthwise_conv_params q = depthwise_cut(params, w);
    tp_depthwise_conv_s8(&q, input, (const int8_t *)filter, output, scratch);
}

void tp_depthwise_w16_window(const void *params, const void *filter, const int8_t *input,
                             const tp_window *w, int8_t *output, void *scratch)
{
    const tp_depthwise_conv_params q = depthwise_cut(params, w);
    tp_depthwise_conv_w16_s8(&q, input, (const int16_t *)filter, output, scratch);
}

static tp_pooling_params pool_cut(const void *params, const tp_window *w)
{
    tp_pooling_params q = *(const tp_pooling_params *)params;
    q.batches = 1;
    q.in_h = w->in_h;
    q.in_w = w->in_w;
    q.pad_h = w->pad_top;
    q.pad_w = w->pad_left;
    q.out_h = w->out_h;
    q.out_w = w->out_w;
    return q;
}

void tp_average_pool_window(const void *params, const void *filter, const int8_t *input,
                            const tp_window *w, int8_t *output, void *scratch)
{
    const tp_pooling_params q = pool_cut(params, w);
    (void)filter;
    (void)scratch;
    tp_average_pool_s8(&q, input, output);
}

void tp_max_pool_window(const void *params, const void *filter, const int8_t *input,
                        const tp_window *w, int8_t *output, void *scratch)
{
    const tp_pooling_params q = pool_cut(params, w);
    (void)filter;
    (void)scratch;
    tp_max_pool_s8(&q, input, output);
}
