/* UNIDIRECTIONAL_SEQUENCE_LSTM with int8 activations and weights (int16 gates and cell), as
 * TFLM's integer LSTM computes one time step of one batch row (gates i, f, g, o):
 *
 *   z_k  = sat16(clamp16(rq(b_k + W_k x, M_xk)) + clamp16(rq(R_k h, M_hk)))   each gate k, Q3.12
 *   i, f, o = sigmoid(z)      g = tanh(z)                                       Q0.15
 *   c    = sat16(clamp16(rq(f * c, M_f)) + clamp16(rq(i * g, M_u)))   then |c| <= clip if any
 *   h    = clamp8(zp_h + rq(tanh(c) * o, M_h))       the new hidden state and this step's output
 *
 * rq is TFLM's MultiplyByQuantizedMultiplier. The zero points of x and h are folded into the
 * biases on the host (b - zp * row sums). Hidden and cell state persist between calls (the
 * model's variable tensors); a time-major input [T][B][I] runs every row at each step, a
 * batch-major one [B][T][I] each row through all steps, as TFLM orders them. */
#ifndef TP_LSTM_H
#define TP_LSTM_H

#include "tp_act_s16.h"
#include "tp_common_s16.h"

/* What the gate activations, the cell update and the hidden-state product share between the
 * int8 and the 16x8 kernels. */
typedef struct {
    int32_t batches;
    int32_t steps;
    int32_t n_input;
    int32_t n_cell;
    int32_t time_major;         /* 1: input [T][B][I], 0: [B][T][I] */
    int32_t forget_multiplier;  /* forget gate x cell -> cell */
    int32_t forget_shift;
    int32_t update_multiplier;  /* input gate x cell gate -> cell */
    int32_t update_shift;
    int32_t hidden_multiplier;  /* tanh(cell) x output gate -> hidden state */
    int32_t hidden_shift;
    int32_t hidden_zp;
    int32_t hidden_min;         /* the hidden state's type range */
    int32_t hidden_max;
    int32_t cell_clip;          /* |cell| bound, 0: none */
    int32_t cell_tanh_multiplier; /* tanh input scaling for the cell's scale */
    int32_t cell_tanh_shift;
    const uint16_t *sigmoid_table;
} tp_lstm_cell;

typedef struct {
    tp_lstm_cell cell;
    const int8_t *in_weights[4];  /* gates input, forget, cell, output: [n_cell][n_input] */
    const int8_t *rec_weights[4]; /* [n_cell][n_cell] */
    const int32_t *in_bias;       /* [4][n_cell]: gate bias - input zero point * row sums */
    const int32_t *rec_bias;      /* [4][n_cell]: - hidden zero point * row sums */
    int32_t in_multiplier[4];     /* x -> gate (scale 2^-12) */
    int32_t in_shift[4];
    int32_t rec_multiplier[4];    /* h -> gate */
    int32_t rec_shift[4];
} tp_lstm_s8_params;

/* 16x8: int16 input and hidden state (zero point 0), int8 weights, int64 biases; each gate sum
 * in int64, rescaled as TFLM's 16x8 FULLY_CONNECTED (tp_rescale_s16, multiplier reduced to Q15). */
typedef struct {
    tp_lstm_cell cell;
    const int8_t *in_weights[4];
    const int8_t *rec_weights[4];
    const int64_t *in_bias;        /* [4][n_cell] */
    int32_t in_multiplier[4];      /* Q15 (reduced) and total right shift */
    int32_t in_shift[4];
    int32_t rec_multiplier[4];
    int32_t rec_shift[4];
} tp_lstm_s16_params;

/* scratch: 4 * n_cell int16 */
void tp_lstm_s8(const tp_lstm_s8_params *p, const int8_t *input, int8_t *output, int8_t *hidden,
                int16_t *cell, int16_t *scratch);
void tp_lstm_s16(const tp_lstm_s16_params *p, const int16_t *input, int16_t *output,
                 int16_t *hidden, int16_t *cell, int16_t *scratch);

#endif
