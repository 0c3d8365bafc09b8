#include "tp_pad_s16.h"

/* Whether output index i along dim d falls on the input rather than on the padding. */
static int inside(const tp_pad_s16_params *p, int d, int32_t i)
{
    return i >= p->before[d] && i < p->before[d] + p->in_dims[d];
}

void tp_pad_s16(const tp_pad_s16_params *p, const int16_t *input, int16_t *output)
{
    const int16_t pad = (int16_t)p->pad_value;
    for (int32_t i0 = 0; i0 < p->out_dims[0]; ++i0) {
        for (int32_t i1 = 0; i1 < p->out_dims[1]; ++i1) {
            for (int32_t i2 = 0; i2 < p->out_dims[2]; ++i2) {
                const int row_inside = inside(p, 0, i0) && inside(p, 1, i1) && inside(p, 2, i2);
                for (int32_t i3 = 0; i3 < p->out_dims[3]; ++i3) {
                    /* The input is consumed in order, exactly where the output is not padding. */
                    *output++ = row_inside && inside(p, 3, i3) ? *input++ : pad;
                }
            }
        }
    }
}
