#include "tp_conv_tiled.h"

#include <string.h>

/* Copy the filter rows of `width` input columns from (iy0, ix0) on, side by side: the windows
 * of output pixels (iy0, ix0), (iy0, ix0 + stride_w), ... as they lie in the input, with taps
 * outside it set to the input zero point. Returns the copy's row length. */
static int32_t gather_rows(const tp_conv_params *p, const int8_t *in_b, int32_t iy0, int32_t ix0,
                           int32_t width, int8_t *dst)
{
    const int32_t c = p->input_c;
    const int8_t pad = (int8_t)(-p->input_offset);
    for (int32_t r = 0; r < p->filter_h; ++r) {
        const int32_t iy = iy0 + r * p->dilation_h;
        for (int32_t j = 0; j < width; ++j, dst += c) {
            const int32_t ix = ix0 + j;
            if (iy >= 0 && iy < p->input_h && ix >= 0 && ix < p->input_w) {
                memcpy(dst, in_b + (iy * p->input_w + ix) * c, (size_t)c);
            } else {
                memset(dst, pad, (size_t)c);
            }
        }
    }
    return width * c;
}

/* Output pixels [x, end) of row y through copies of their windows, two at a time when two
 * windows fit the scratch (stride_w <= filter_w), else one at a time. */
static void copied_pixels(const tp_conv_params *p, const int8_t *in_b, int32_t iy0, int32_t x,
                          int32_t end, const int32_t *blob, int8_t *out_row, int8_t *col,
                          tp_conv_tile tile)
{
    const int32_t s = p->stride_w, k_w = p->filter_w, out_c = p->output_c;
    const int32_t most = s <= k_w ? 2 : 1;
    while (x < end) {
        const int32_t n = end - x < most ? end - x : most;
        const int32_t step = gather_rows(p, in_b, iy0, x * s - p->pad_w, (n - 1) * s + k_w, col);
        tile(n, col, blob, out_row + x * out_c, out_c, step);
        x += n;
    }
}

void tp_conv_tiled_s8(const tp_conv_params *p, const int8_t *input, const int32_t *blob,
                      int8_t *output, void *scratch, tp_conv_tile tile)
{
    const int32_t k_h = p->filter_h, k_w = p->filter_w, c = p->input_c;
    const int32_t s_w = p->stride_w, pad_w = p->pad_w;
    const int32_t in_h = p->input_h, in_w = p->input_w;
    const int32_t out_h = p->output_h, out_w = p->output_w, out_c = p->output_c;
    const int32_t row_step = p->dilation_h * in_w * c;
    int8_t *col = (int8_t *)scratch;
    /* Output columns [x_lo, x_hi) have their windows' columns inside the input. */
    const int32_t x_lo = tp_min_i32((pad_w + s_w - 1) / s_w, out_w);
    const int32_t last = in_w - k_w + pad_w; /* the last window start, relative to pad_w */
    const int32_t x_hi = tp_max_i32(x_lo, last < 0 ? 0 : tp_min_i32(last / s_w + 1, out_w));

    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *in_b = input + b * in_h * in_w * c;
        for (int32_t y = 0; y < out_h; ++y) {
            const int32_t iy0 = y * p->stride_h - p->pad_h;
            int8_t *out_row = output + (b * out_h + y) * out_w * out_c;
            if (!p->read_in_place) { /* every window gathered as one run */
                const int32_t run = k_h * k_w * p->filter_c + p->patch_pad;
                for (int32_t x = 0; x < out_w; x += 2) {
                    const int32_t n = out_w - x < 2 ? 1 : 2;
                    int32_t step;
                    for (int32_t i = 0; i < n; ++i) {
                        tp_conv_patch(p, in_b, iy0, (x + i) * s_w - pad_w, 0, col + i * run, &step);
                    }
                    tile(n, col, blob, out_row + x * out_c, out_c, 0);
                }
                continue;
            }
            const int rows_inside = iy0 >= 0 && iy0 + (k_h - 1) * p->dilation_h < in_h;
            int32_t lo = rows_inside ? x_lo : out_w, hi = rows_inside ? x_hi : out_w;
            if (s_w <= k_w && hi > lo) { /* copies in pairs: no pixel left alone beside them */
                lo += lo % 2;
                hi -= (hi - lo) % 2 && hi > lo ? 1 : 0;
            }
            copied_pixels(p, in_b, iy0, 0, lo, blob, out_row, col, tile);
            if (hi > lo) {
                tile(hi - lo, in_b + iy0 * in_w * c + (lo * s_w - pad_w) * c, blob,
                     out_row + lo * out_c, out_c, row_step);
            }
            copied_pixels(p, in_b, iy0, hi, out_w, blob, out_row, col, tile);
        }
    }
}
