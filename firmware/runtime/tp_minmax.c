#include "tp_minmax.h"

static int8_t max_one(const void *params, int8_t x1, int8_t x2)
{
    (void)params;
    return x1 > x2 ? x1 : x2;
}

static int8_t min_one(const void *params, int8_t x1, int8_t x2)
{
    (void)params;
    return x1 < x2 ? x1 : x2;
}

void tp_maximum_s8(const tp_minmax_params *p, const int8_t *input1, const int8_t *input2,
                   int8_t *output)
{
    tp_broadcast_s8(&p->broadcast, max_one, p, input1, input2, output);
}

void tp_minimum_s8(const tp_minmax_params *p, const int8_t *input1, const int8_t *input2,
                   int8_t *output)
{
    tp_broadcast_s8(&p->broadcast, min_one, p, input1, input2, output);
}
