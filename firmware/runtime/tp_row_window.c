#include "tp_row_window.h"

#include <string.h>

/* Slide the window over the input in the order the output rows are produced, copying each input
 * row in once (before it can be overwritten) and dropping rows no later output row reads. */
void tp_run_rows(const tp_row_window *g, int8_t *data, void *scratch, tp_row_fn fn,
                 const void *params, const void *filter)
{
    void *kernel_scratch = g->kernel_scratch_bytes ? scratch : NULL;
    int8_t *window = (int8_t *)scratch + g->kernel_scratch_bytes;
    const int32_t irow = g->input_row_bytes;
    int32_t wlo = 0, whi = 0; /* input rows [wlo, whi) are in the window, in order */
    for (int32_t i = 0; i < g->output_h; ++i) {
        const int32_t y = g->backward ? g->output_h - 1 - i : i;
        const int32_t top = y * g->stride_h - g->pad_h;
        const int32_t lo = tp_max_i32(top, 0);
        const int32_t hi = tp_max_i32(tp_min_i32(top + g->extent_h, g->input_h), lo);
        /* Move the rows both windows share to their new place, then copy in the others. */
        const int32_t keep_lo = tp_max_i32(lo, wlo), keep_hi = tp_min_i32(hi, whi);
        if (keep_lo < keep_hi) {
            memmove(window + (keep_lo - lo) * irow, window + (keep_lo - wlo) * irow,
                    (size_t)((keep_hi - keep_lo) * irow));
            for (int32_t r = lo; r < keep_lo; ++r) {
                memcpy(window + (r - lo) * irow, data + r * irow, (size_t)irow);
            }
            for (int32_t r = keep_hi; r < hi; ++r) {
                memcpy(window + (r - lo) * irow, data + r * irow, (size_t)irow);
            }
        } else if (hi > lo) {
            memcpy(window, data + lo * irow, (size_t)((hi - lo) * irow));
        }
        wlo = lo;
        whi = hi;
        fn(params, filter, window, hi - lo, lo - top, data + y * g->output_row_bytes,
           kernel_scratch);
    }
}
