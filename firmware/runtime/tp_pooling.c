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

/* sum / count rounded half away from zero, as TFLM's average pool (C division truncates). */
static inline int32_t rounded_div(int32_t sum, int32_t count)
{
    return sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
}

#ifdef TP_DSP
/* acc's two int16 lanes plus bytes 1 and 3 of v, sign-extended (SXTAB16's built-in ROR #8). */
static inline int32_t sxtab16_odd(int32_t acc, uint32_t v)
{
    int32_t r;
    __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(acc), "r"(v));
    return r;
}

/* Average pool of channels [0, depth & ~3) of one window, four at a time: each word of taps
 * adds bytes 0 and 2 to one pair of int16 lane sums and bytes 1 and 3 to another. Exact while
 * count <= 256: the lane sums stay within [-128 * 256, 127 * 256], inside int16. */
static void average_x4(const int8_t *corner, int32_t rows, int32_t cols, int32_t row_step,
                       int32_t depth, int32_t act_min, int32_t act_max, int8_t *out)
{
    const int32_t count = rows * cols;
    if (cols * depth == row_step) { /* whole input rows: one run of taps */
        cols = count;
        rows = 1;
    }
    const int32_t next_row = row_step - cols * depth;
    for (int32_t c = 0; c + 4 <= depth; c += 4) {
        int32_t s02 = 0, s13 = 0;
        const int8_t *q = corner + c;
        for (int32_t y = rows; y > 0; --y, q += next_row) {
            for (int32_t x = cols; x > 0; --x, q += depth) { /* counting down: SUBS, BNE */
                const uint32_t v = tp_load_x4(q);
                s02 = __sxtab16(s02, (int32_t)v);
                s13 = sxtab16_odd(s13, v);
            }
        }
        const int32_t sums[4] = {(int16_t)s02, (int16_t)s13, s02 >> 16, s13 >> 16};
        for (int32_t k = 0; k < 4; ++k) {
            out[c + k] = (int8_t)tp_clamp_i32(rounded_div(sums[k], count), act_min, act_max);
        }
    }
}

/* Max pool of channels [0, depth & ~3) of one window, four at a time, clamped bytewise to
 * [lo4, hi4] (the bounds in every byte): from lo4, the max over the taps, then the min with hi4. */
static void max_x4(const int8_t *corner, int32_t rows, int32_t cols, int32_t row_step,
                   int32_t depth, uint32_t lo4, uint32_t hi4, int8_t *out)
{
    if (rows == 2 && cols == 2) { /* 2x2, the usual window, written out */
        const int8_t *q1 = corner + depth, *q2 = corner + row_step, *q3 = q2 + depth;
        for (int32_t c = 0; c + 4 <= depth; c += 4) {
            const uint32_t m01 = tp_max_s8x4(tp_load_x4(corner + c), tp_load_x4(q1 + c));
            const uint32_t m23 = tp_max_s8x4(tp_load_x4(q2 + c), tp_load_x4(q3 + c));
            const uint32_t m = tp_min_s8x4(tp_max_s8x4(tp_max_s8x4(m01, m23), lo4), hi4);
            memcpy(out + c, &m, 4);
        }
        return;
    }
    if (cols * depth == row_step) { /* whole input rows: one run of taps */
        cols *= rows;
        rows = 1;
    }
    const int32_t next_row = row_step - cols * depth;
    for (int32_t c = 0; c + 4 <= depth; c += 4) {
        uint32_t m = lo4;
        const int8_t *q = corner + c;
        for (int32_t y = rows; y > 0; --y, q += next_row) {
            for (int32_t x = cols; x > 0; --x, q += depth) { /* counting down: SUBS, BNE */
                m = tp_max_s8x4(m, tp_load_x4(q));
            }
        }
        m = tp_min_s8x4(m, hi4);
        memcpy(out + c, &m, 4);
    }
}
#endif

void tp_average_pool_s8(const tp_pooling_params *p, const int8_t *input, int8_t *output)
{
    /* Locals: the int8 output stores could alias *p, which would force reloads per tap. */
    const int32_t depth = p->depth, row_step = p->in_w * depth;
    const int32_t act_min = p->act_min, act_max = p->act_max;
#ifdef TP_DSP
    const int32_t c4 = depth & ~3; /* channels [0, c4) four per word */
#endif
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *in = input + b * p->in_h * row_step;
        for (int32_t oy = 0; oy < p->out_h; ++oy) {
            for (int32_t ox = 0; ox < p->out_w; ++ox) {
                const pool_window w = window_at(p, oy, ox);
                const int8_t *corner = in + w.y0 * row_step + w.x0 * depth;
                const int32_t rows = w.y1 - w.y0, cols = w.x1 - w.x0;
                /* Never zero: the host checked that every window overlaps the input. */
                const int32_t count = rows * cols;
                int32_t c = 0;
#ifdef TP_DSP
                if (count <= 256 && c4 > 0) {
                    average_x4(corner, rows, cols, row_step, depth, act_min, act_max, output);
                    c = c4;
                    output += c4;
                }
#endif
#if defined(__ARM_ARCH_6M__)
                /* No divider on this core (a library call per output): a count of 2^k, as a
                 * whole 2x2 window's, divides by shifts, rounding the magnitude half up. */
                int32_t k = 0;
                while ((1 << k) < count) {
                    ++k;
                }
                const int32_t by_shift = (1 << k) == count ? k : -1;
#endif
                for (; c < depth; ++c) {
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
                    const int32_t avg = rounded_div(sum, count);
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
#ifdef TP_DSP
    /* Channels [0, c4) four per word, the bounds of the clamp in every byte. */
    const int32_t c4 = depth & ~3;
    const uint32_t lo4 = 0x01010101u * (uint8_t)p->act_min;
    const uint32_t hi4 = 0x01010101u * (uint8_t)p->act_max;
#else
    const int32_t c4 = 0;
#endif
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *in = input + b * p->in_h * row_step;
        for (int32_t oy = 0; oy < p->out_h; ++oy) {
            for (int32_t ox = 0; ox < p->out_w; ++ox, output += depth) {
                const pool_window w = window_at(p, oy, ox);
                const int8_t *corner = in + w.y0 * row_step + w.x0 * depth;
                const int32_t cols = w.x1 - w.x0, n = (w.y1 - w.y0) * cols;
#ifdef TP_DSP
                if (c4 > 0) {
                    max_x4(corner, w.y1 - w.y0, cols, row_step, depth, lo4, hi4, output);
                    if (c4 == depth) {
                        continue;
                    }
                }
#endif
                if (n <= TP_POOL_TAPS) { /* the taps' offsets once per window, then per channel */
                    int32_t off[TP_POOL_TAPS], t = 0;
                    for (int32_t row = 0; t < n; row += row_step) {
                        for (int32_t x = 0; x < cols; ++x) {
                            off[t++] = row + x * depth;
                        }
                    }
                    max_over_taps(corner + c4, off, n, depth - c4, p->act_min, p->act_max,
                                  output + c4);
                    continue;
                }
                for (int32_t c = c4; c < depth; ++c) {
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
