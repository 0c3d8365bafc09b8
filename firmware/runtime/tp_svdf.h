/* SVDF with int8 input and output, int8 feature weights and an int16 (or int8) activation
 * state and time weights, as TFLM's reference integer SVDF computes one call:
 *
 *   state[b][f][0..M-2] = state[b][f][1..M-1]                       (the memory moves one step)
 *   state[b][f][M-1]    = (T)(zp_s + clamp_T(rq(sum_i Wf[f][i] (x[b][i] - zp_x), M1)))
 *   out[b][u] = clamp8(zp_o + rq(bias[u] + sum_{f in unit u} sum_m Wt[f][m] (state[b][f][m] - zp_s), M2))
 *
 * with rank filters per unit (f = u * rank + r). rq is TFLM's MultiplyByQuantizedMultiplier;
 * the zero-point terms are folded into per-filter and per-unit constants on the host. As in the
 * TFLM interpreter tinypipe checks against, the state's zero point is added after the clamp, so
 * a state with a nonzero zero point can wrap when narrowed to T. The state is the model's
 * variable tensor and carries over from call to call. */
#ifndef TP_SVDF_H
#define TP_SVDF_H

#include "tp_common.h"

typedef struct {
    int32_t batches;
    int32_t n_input;
    int32_t n_filter;
    int32_t n_memory;
    int32_t rank;
    int32_t state_zp;
    int32_t output_zp;
    int32_t feature_multiplier; /* s_x * s_wf / s_state */
    int32_t feature_shift;
    int32_t output_multiplier;  /* s_state * s_wt / s_out */
    int32_t output_shift;
    int32_t state_min;          /* the state type's range */
    int32_t state_max;
    const int8_t *weights_feature; /* [n_filter][n_input] */
    const int32_t *feature_bias;   /* [n_filter]: -zp_x * row sums of Wf */
    const int32_t *unit_bias;      /* [n_filter / rank]: bias - zp_s * sums of the unit's Wt */
} tp_svdf_params;

/* int16 state and time weights (what the TF converter writes) */
void tp_svdf_s8_s16(const tp_svdf_params *p, const int8_t *input, const int16_t *weights_time,
                    int8_t *output, int16_t *state);
/* int8 state and time weights */
void tp_svdf_s8_s8(const tp_svdf_params *p, const int8_t *input, const int8_t *weights_time,
                   int8_t *output, int8_t *state);

#endif
