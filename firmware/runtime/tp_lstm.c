#include "tp_lstm.h"

enum { GATE_INPUT, GATE_FORGET, GATE_CELL, GATE_OUTPUT };

static int16_t sat_add_s16(int16_t a, int16_t b) { return (int16_t)tp_clamp_i32(a + b, -32768, 32767); }

static int16_t rq_s16(int32_t acc, int32_t multiplier, int32_t shift)
{
    return (int16_t)tp_clamp_i32(tp_requantize(acc, multiplier, shift), -32768, 32767);
}

/* gates[k] (Q3.12 sums) -> activations in place: sigmoid, except tanh for the cell gate. */
static void activate(const tp_lstm_cell *c, int16_t *gates)
{
    for (int32_t k = 0; k < 4; ++k) {
        int16_t *g = gates + k * c->n_cell;
        const int tanh = k == GATE_CELL;
        for (int32_t j = 0; j < c->n_cell; ++j) {
            g[j] = tanh ? tp_tanh_s16(g[j], 3, 0, c->sigmoid_table)
                        : tp_sigmoid_s16(g[j], 3, 0, c->sigmoid_table);
        }
    }
}

/* The cell update; the new hidden state, in its type's range, replaces the input gate (which
 * no later element needs). */
static void update(const tp_lstm_cell *c, int16_t *gates, int16_t *cell)
{
    int16_t *ig = gates + GATE_INPUT * c->n_cell;
    const int16_t *fg = gates + GATE_FORGET * c->n_cell;
    const int16_t *gg = gates + GATE_CELL * c->n_cell, *og = gates + GATE_OUTPUT * c->n_cell;
    for (int32_t j = 0; j < c->n_cell; ++j) {
        const int16_t kept = rq_s16((int32_t)fg[j] * cell[j], c->forget_multiplier, c->forget_shift);
        const int16_t added = rq_s16((int32_t)ig[j] * gg[j], c->update_multiplier, c->update_shift);
        int16_t v = sat_add_s16(kept, added);
        if (c->cell_clip > 0) {
            v = (int16_t)tp_clamp_i32(v, -c->cell_clip, c->cell_clip);
        }
        cell[j] = v;
        const int16_t t = tp_tanh_s16(v, c->cell_tanh_multiplier, c->cell_tanh_shift,
                                      c->sigmoid_table);
        const int32_t hv =
            c->hidden_zp + tp_requantize((int32_t)t * og[j], c->hidden_multiplier, c->hidden_shift);
        ig[j] = (int16_t)tp_clamp_i32(hv, c->hidden_min, c->hidden_max);
    }
}

/* Row r of the input and output at step t, by the op's layout. */
static int32_t row_index(const tp_lstm_cell *c, int32_t b, int32_t t)
{
    return c->time_major ? t * c->batches + b : b * c->steps + t;
}

static void step_s8(const tp_lstm_s8_params *p, const int8_t *x, int8_t *h, int16_t *cell,
                    int8_t *out, int16_t *scratch)
{
    const tp_lstm_cell *c = &p->cell;
    const int32_t n = c->n_cell;
    for (int32_t k = 0; k < 4; ++k) {
        const int32_t *bx = p->in_bias + k * n, *bh = p->rec_bias + k * n;
        for (int32_t j = 0; j < n; ++j) {
            const int8_t *wx = p->in_weights[k] + j * c->n_input;
            const int32_t ax = tp_dot_s8(x, wx, c->n_input, bx[j]);
            const int32_t ah = tp_dot_s8(h, p->rec_weights[k] + j * n, n, bh[j]);
            scratch[k * n + j] = sat_add_s16(rq_s16(ax, p->in_multiplier[k], p->in_shift[k]),
                                             rq_s16(ah, p->rec_multiplier[k], p->rec_shift[k]));
        }
    }
    activate(c, scratch);
    /* every gate above read the old hidden state, so it is replaced only now */
    update(c, scratch, cell);
    for (int32_t j = 0; j < n; ++j) {
        h[j] = out[j] = (int8_t)scratch[GATE_INPUT * n + j];
    }
}

void tp_lstm_s8(const tp_lstm_s8_params *p, const int8_t *input, int8_t *output, int8_t *hidden,
                int16_t *cell, int16_t *scratch)
{
    const tp_lstm_cell *c = &p->cell;
    for (int32_t b = 0; b < c->batches; ++b) {
        for (int32_t t = 0; t < c->steps; ++t) {
            const int32_t r = row_index(c, b, t);
            step_s8(p, input + r * c->n_input, hidden + b * c->n_cell, cell + b * c->n_cell,
                    output + r * c->n_cell, scratch);
        }
    }
}

static void step_s16(const tp_lstm_s16_params *p, const int16_t *x, int16_t *h, int16_t *cell,
                     int16_t *out, int16_t *scratch)
{
    const tp_lstm_cell *c = &p->cell;
    const int32_t n = c->n_cell;
    for (int32_t k = 0; k < 4; ++k) {
        const int64_t *bx = p->in_bias + k * n;
        for (int32_t j = 0; j < n; ++j) {
            const int8_t *wx = p->in_weights[k] + j * c->n_input;
            const int64_t ax = tp_dot_s16_s64(x, wx, c->n_input, bx[j]);
            const int64_t ah = tp_dot_s16_s64(h, p->rec_weights[k] + j * n, n, 0);
            const int32_t zx = tp_rescale_s16(ax, 1, p->in_multiplier[k], p->in_shift[k]);
            const int32_t zh = tp_rescale_s16(ah, 1, p->rec_multiplier[k], p->rec_shift[k]);
            scratch[k * n + j] = sat_add_s16(tp_sat_s16(zx), tp_sat_s16(zh));
        }
    }
    activate(c, scratch);
    update(c, scratch, cell);
    for (int32_t j = 0; j < n; ++j) {
        h[j] = out[j] = scratch[GATE_INPUT * n + j];
    }
}

void tp_lstm_s16(const tp_lstm_s16_params *p, const int16_t *input, int16_t *output,
                 int16_t *hidden, int16_t *cell, int16_t *scratch)
{
    const tp_lstm_cell *c = &p->cell;
    for (int32_t b = 0; b < c->batches; ++b) {
        for (int32_t t = 0; t < c->steps; ++t) {
            const int32_t r = row_index(c, b, t);
            step_s16(p, input + r * c->n_input, hidden + b * c->n_cell, cell + b * c->n_cell,
                     output + r * c->n_cell, scratch);
        }
    }
}
