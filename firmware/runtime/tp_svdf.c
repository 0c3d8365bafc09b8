#include "tp_svdf.h"

/* The feature products for one batch row, as the newest column of each filter's memory. */
static int32_t feature(const tp_svdf_params *p, const int8_t *x, int32_t f)
{
    const int8_t *w = p->weights_feature + f * p->n_input;
    /* the host bounds this sum inside int32 */
    const int32_t acc = tp_dot_s8(x, w, p->n_input, p->feature_bias[f]);
    return p->state_zp + tp_clamp_i32(tp_requantize(acc, p->feature_multiplier,
                                                    p->feature_shift),
                                      p->state_min, p->state_max);
}

static int8_t unit_output(const tp_svdf_params *p, int32_t u, uint32_t acc)
{
    const int32_t sum = (int32_t)(acc + (uint32_t)p->unit_bias[u]);
    return tp_sat_s8(p->output_zp + tp_requantize(sum, p->output_multiplier, p->output_shift));
}

/* One body for both state types. Sums are taken modulo 2^32 (unsigned, so defined C), which is
 * what TFLM's int32 sums hold on its targets when a long int16 memory overflows them. */
#define TP_SVDF_BODY(state_t)                                                                  \
    const int32_t m = p->n_memory, per_batch = p->n_filter * m;                                \
    for (int32_t b = 0; b < p->batches; ++b) {                                                 \
        state_t *s = state + b * per_batch;                                                    \
        const int8_t *x = input + b * p->n_input;                                              \
        for (int32_t f = 0; f < p->n_filter; ++f) {                                            \
            state_t *row = s + f * m;                                                          \
            for (int32_t k = 0; k + 1 < m; ++k) {                                              \
                row[k] = row[k + 1];                                                           \
            }                                                                                  \
            row[m - 1] = (state_t)feature(p, x, f);                                            \
        }                                                                                      \
        for (int32_t u = 0; u < p->n_filter / p->rank; ++u) {                                  \
            uint32_t acc = 0;                                                                  \
            for (int32_t f = u * p->rank; f < (u + 1) * p->rank; ++f) {                        \
                const state_t *row = s + f * m;                                                \
                const state_t *wt = weights_time + f * m;                                      \
                for (int32_t k = 0; k < m; ++k) {                                              \
                    acc += (uint32_t)((int32_t)wt[k] * row[k]);                                \
                }                                                                              \
            }                                                                                  \
            *output++ = unit_output(p, u, acc);                                                \
        }                                                                                      \
    }

void tp_svdf_s8_s16(const tp_svdf_params *p, const int8_t *input, const int16_t *weights_time,
                    int8_t *output, int16_t *state)
{
    TP_SVDF_BODY(int16_t)
}

void tp_svdf_s8_s8(const tp_svdf_params *p, const int8_t *input, const int8_t *weights_time,
                   int8_t *output, int8_t *state)
{
    TP_SVDF_BODY(int8_t)
}
