#include "tp_pooling.h"

/* Windows of up to this many taps (3x3) take max_over_taps. */
#define TP_POOL_TAPS 9

/* The window of output pixel (oy, ox) clipped to the input: input rows [y0, y1) and columns
 * [x0, x1). Its corner (oy * stride_h - pad_h, ox * stride_w - pad_w) may lie in the padding. */
typedef struct {
    int32_t y0, y1, x0, x1;
} pool_window;

static pool_window window_at(const tp_pooling_params *p, int32_t oy, int32_t ox)
{
    const int32_t top = oy * p->stride_h - p->pad_h;
    const int32_t left = ox * p->stride_w - p->pad_w;
    pool_window w;
    w.y0 = tp_max_i32(top, 0);
    w.y1 = tp_min_i32(top + p->filter_h, p->in_h);
    w.x0 = tp_max_i32(left, 0);
    w.x1 = tp_min_i32(left + p->filter_w, p->in_w);
    return w;
}

void tp_average_pool_s8(const tp_pooling_params *p, const int8_t *input, int8_t *output)
{
    /* Locals: the int8 output stores could alias *p, which would force reloads per tap. */
    const int32_t depth = p->depth, row_step = p->in_w * depth;
    const int32_t act_min = p->act_min, act_max = p->act_max;
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *in = input + b * p->in_h * row_step;
        for (int32_t oy = 0; oy < p->out_h; ++oy) {
            for (int32_t ox = 0; ox < p->out_w; ++ox) {
                const pool_window w = window_at(p, oy, ox);
                const int8_t *corner = in + w.y0 * row_step + w.x0 * depth;
                const int32_t rows = w.y1 - w.y0, cols = w.x1 - w.x0;
                /* Never zero: the host checked that every window overlaps the input. */
                const int32_t count = rows * cols;
#if defined(__ARM_ARCH_6M__)
                /* No divider on this core (a library call per output): a count of 2^k, as a
                 * whole 2x2 window's, divides by shifts, rounding the magnitude half up. */
                int32_t k = 0;
                while ((1 << k) < count) {
                    ++k;
                }
                const int32_t by_shift = (1 << k) == count ? k : -1;
#endif
                for (int32_t c = 0; c < depth; ++c) {
                    const int8_t *q = corner + c;
                    int32_t sum = 0;
                    for (int32_t y = 0; y < rows; ++y, q += row_step) {
                        for (int32_t x = 0; x < cols; ++x) {
                            sum += q[x * depth];
                        }
                    }
                    /* Divide rounding half away from zero (C division truncates). */
#if defined(__ARM_ARCH_6M__)
                    const int32_t half = count >> 1;
                    const int32_t avg = by_shift < 0 ? (sum > 0 ? (sum + half) / count
                                                                : (sum - half) / count)
                                        : sum > 0 ? (sum + half) >> by_shift
                                                  : -((half - sum) >> by_shift);
#else
                    const int32_t avg =
                        sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
#endif
                    *output++ = (int8_t)tp_clamp_i32(avg, act_min, act_max);
                }
            }
        }
    }
}

/* A window's max per channel from the byte offsets of its taps (n >= 1): m over the taps,
 * from act_min (max(act_min, window max) clamped above by act_max is the clamp of the max). */
static void max_over_taps(const int8_t *corner, const int32_t *off, int32_t n, int32_t depth,
                          int32_t act_min, int32_t act_max, int8_t *out)
{
    if (n == 2) { /* 1x2 and 2x1 windows written out */
        const int8_t *q1 = corner + off[1];
        for (int32_t c = 0; c < depth; ++c) {
            out[c] = (int8_t)tp_clamp_i32(tp_max_i32(corner[c], q1[c]), act_min, act_max);
        }
        return;
    }
    if (n == 4) { /* 2x2 */
        const int8_t *q1 = corner + off[1], *q2 = corner + off[2], *q3 = corner + off[3];
        for (int32_t c = 0; c < depth; ++c) {
            const int32_t m01 = tp_max_i32(corner[c], q1[c]), m23 = tp_max_i32(q2[c], q3[c]);
            out[c] = (int8_t)tp_clamp_i32(tp_max_i32(m01, m23), act_min, act_max);
        }
        return;
    }
    for (int32_t c = 0; c < depth; ++c) {
        const int8_t *q = corner + c;
        int32_t max = tp_max_i32(act_min, q[0]);
        for (int32_t t = 1; t < n; ++t) {
            max = tp_max_i32(max, q[off[t]]);
        }
        out[c] = (int8_t)tp_min_i32(max, act_max);
    }
}

void tp_max_pool_s8(const tp_pooling_params *p, const int8_t *input, int8_t *output)
{
    const int32_t depth = p->depth, row_step = p->in_w * depth;
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *in = input + b * p->in_h * row_step;
        for (int32_t oy = 0; oy < p->out_h; ++oy) {
            for (int32_t ox = 0; ox < p->out_w; ++ox, output += depth) {
                const pool_window w = window_at(p, oy, ox);
                const int8_t *corner = in + w.y0 * row_step + w.x0 * depth;
                const int32_t cols = w.x1 - w.x0, n = (w.y1 - w.y0) * cols;
                if (n <= TP_POOL_TAPS) { /* the taps' offsets once per window, then per channel */
                    int32_t off[TP_POOL_TAPS], t = 0;
                    for (int32_t row = 0; t < n; row += row_step) {
                        for (int32_t x = 0; x < cols; ++x) {
                            off[t++] = row + x * depth;
                        }
                    }
                    max_over_taps(corner, off, n, depth, p->act_min, p->act_max, output);
                    continue;
                }
                for (int32_t c = 0; c < depth; ++c) {
                    int32_t max = -128;
                    for (int32_t y = w.y0; y < w.y1; ++y) {
                        for (int32_t x = w.x0; x < w.x1; ++x) {
                            max = tp_max_i32(max, in[(y * p->in_w + x) * depth + c]);
                        }
                    }
                    output[c] = (int8_t)tp_clamp_i32(max, p->act_min, p->act_max);
                }
            }
        }
    }
}
