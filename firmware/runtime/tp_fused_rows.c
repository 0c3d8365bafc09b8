#include "tp_fused_rows.h"

#include <string.h>

/* One output row of `l` from `rows` input rows at `in`, pad_top padding rows above them. */
static void layer_row(const tp_fused_layer *l, const int8_t *in, int32_t rows, int32_t pad_top,
                      int8_t *out, void *scratch)
{
    const tp_window w = {rows, l->input_w, pad_top, l->pad_w, 1, l->output_w};
    l->window(l->params, l->filter, in, &w, out, scratch);
}

static int32_t round4(int32_t n)
{
    return (n + 3) / 4 * 4;
}

/* The input rows [lo, hi) output row y of `l` reads, clipped, and the padding rows above. */
static int32_t rows_read(const tp_fused_layer *l, int32_t y, int32_t *lo, int32_t *hi)
{
    const int32_t top = y * l->stride_h - l->pad_h;
    *lo = tp_max_i32(top, 0);
    *hi = tp_max_i32(tp_min_i32(top + l->extent_h, l->input_h), *lo);
    return *lo - top;
}

void tp_fused_rows_s8(const tp_fused_rows_params *p, int8_t *data, void *scratch)
{
    const tp_fused_layer *l1 = &p->first, *l2 = &p->second;
    int8_t *s1 = l1->scratch_bytes ? (int8_t *)scratch : NULL;
    int8_t *s2 = l2->scratch_bytes ? (int8_t *)scratch + round4(l1->scratch_bytes) : NULL;
    int8_t *window = (int8_t *)scratch + round4(l1->scratch_bytes) + round4(l2->scratch_bytes);
    int8_t *z = window + p->window_rows * l1->output_row_bytes;
    const int32_t mid_row = l1->output_row_bytes;
    int32_t wlo = 0, whi = 0; /* rows [wlo, whi) of mid are in the window, in order */
    for (int32_t y = 0; y < l2->output_h; ++y) {
        int32_t lo, hi;
        const int32_t pad2 = rows_read(l2, y, &lo, &hi);
        /* Keep the rows both windows share, then compute the new ones (each row once). */
        const int32_t keep_lo = tp_max_i32(lo, wlo), keep_hi = tp_min_i32(hi, whi);
        if (keep_lo < keep_hi) {
            memmove(window + (keep_lo - lo) * mid_row, window + (keep_lo - wlo) * mid_row,
                    (size_t)((keep_hi - keep_lo) * mid_row));
        }
        for (int32_t r = lo; r < hi; ++r) {
            if (r < keep_lo || r >= keep_hi) {
                int32_t xlo, xhi;
                const int32_t pad1 = rows_read(l1, r, &xlo, &xhi);
                layer_row(l1, data + xlo * l1->input_row_bytes, xhi - xlo, pad1,
                          window + (r - lo) * mid_row, s1);
            }
        }
        wlo = lo;
        whi = hi;
        {
            int8_t *out = data + y * l2->output_row_bytes;
            if (p->add_row == NULL) {
                layer_row(l2, window, hi - lo, pad2, out, s2);
            } else {
                /* out row y is input row y (same shape), read by the ADD before it is written */
                layer_row(l2, window, hi - lo, pad2, z, s2);
                p->add_row(p, p->input_first ? out : z, p->input_first ? z : out, out);
            }
        }
    }
}

void tp_fused_add_s8(const tp_fused_rows_params *p, const int8_t *a, const int8_t *b,
                     int8_t *out)
{
    tp_add_s8(&p->add, a, b, out);
}

void tp_fused_add_lut_s8(const tp_fused_rows_params *p, const int8_t *a, const int8_t *b,
                         int8_t *out)
{
    tp_add_lut_s8(&p->add_lut, a, b, out);
}
