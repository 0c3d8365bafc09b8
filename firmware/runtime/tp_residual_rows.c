#include "tp_residual_rows.h"

#include <string.h>

static int32_t round4(int32_t n)
{
    return (n + 3) / 4 * 4;
}

/* Output row y of `layer` from input rows [lo, hi) at `rows`, with the padding rows above. */
static void conv_row(const tp_conv_layer *layer, const int8_t *rows, int32_t y, int8_t *out_row,
                     void *kernel_scratch)
{
    const tp_conv_params *c = &layer->conv;
    const int32_t extent = (c->filter_h - 1) * c->dilation_h + 1;
    const int32_t top = y * c->stride_h - c->pad_h;
    const int32_t lo = tp_max_i32(top, 0);
    const int32_t hi = tp_max_i32(tp_min_i32(top + extent, c->input_h), lo);
    tp_conv_params q = *c;
    q.batches = 1;
    q.input_h = hi - lo;
    q.pad_h = lo - top;
    q.output_h = 1;
    if (layer->kernel) {
        layer->kernel(&q, rows, (const int8_t *)layer->filter, out_row, kernel_scratch);
    } else {
        layer->kernel_w16(&q, rows, (const int16_t *)layer->filter, out_row, kernel_scratch);
    }
}

/* The input rows [lo, hi) output row y of `c` reads (clipped to the input). */
static void rows_read(const tp_conv_params *c, int32_t y, int32_t *lo, int32_t *hi)
{
    const int32_t top = y * c->stride_h - c->pad_h;
    *lo = tp_max_i32(top, 0);
    *hi = tp_max_i32(tp_min_i32(top + (c->filter_h - 1) * c->dilation_h + 1, c->input_h), *lo);
}

void tp_residual_rows_s8(const tp_residual_params *p, int8_t *data, void *scratch)
{
    const tp_conv_params *c1 = &p->conv1.conv, *c2 = &p->conv2.conv;
    const int32_t in_row = c1->input_w * c1->input_c;
    const int32_t mid_row = c1->output_w * c1->output_c;
    const int32_t out_row = c2->output_w * c2->output_c;
    int8_t *s1 = p->conv1.scratch_bytes ? (int8_t *)scratch : NULL;
    int8_t *s2 = p->conv2.scratch_bytes ? (int8_t *)scratch + round4(p->conv1.scratch_bytes)
                                        : NULL;
    int8_t *window = (int8_t *)scratch + round4(p->conv1.scratch_bytes)
                     + round4(p->conv2.scratch_bytes);
    int8_t *z = window + p->window_rows * mid_row;
    int32_t wlo = 0, whi = 0; /* conv1 output rows [wlo, whi) are in the window, in order */
    for (int32_t y = 0; y < c2->output_h; ++y) {
        int32_t lo, hi;
        rows_read(c2, y, &lo, &hi);
        /* Keep the rows both windows share, then compute the new ones (each row once). */
        const int32_t keep_lo = tp_max_i32(lo, wlo), keep_hi = tp_min_i32(hi, whi);
        if (keep_lo < keep_hi) {
            memmove(window + (keep_lo - lo) * mid_row, window + (keep_lo - wlo) * mid_row,
                    (size_t)((keep_hi - keep_lo) * mid_row));
        }
        for (int32_t r = lo; r < hi; ++r) {
            if (r < keep_lo || r >= keep_hi) {
                int32_t xlo, xhi;
                rows_read(c1, r, &xlo, &xhi);
                conv_row(&p->conv1, data + xlo * in_row, r, window + (r - lo) * mid_row, s1);
            }
        }
        wlo = lo;
        whi = hi;
        conv_row(&p->conv2, window, y, z, s2);
        {
            int8_t *x = data + y * out_row;
            const int8_t *a = p->input_first ? x : z;
            const int8_t *b = p->input_first ? z : x;
            if (p->use_lut) {
                tp_add_lut_s8(&p->add_lut, a, b, x);
            } else {
                tp_add_s8(&p->add, a, b, x);
            }
        }
    }
}
