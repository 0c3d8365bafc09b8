/* BATCH_MATMUL, int8 x int8 -> int8, with broadcast batch dims and optional transposes.
 *
 * For every batch index b (up to 4 merged dims; a batch stride is 0 where that operand is
 * broadcast) and output element (i, j):
 *   acc = sum_k (L[b, i, k] - zp_l) * (R[b, k, j] - zp_r)
 *   out[b, i, j] = clamp(requant(acc, M) + zp_out, -128, 127),   M = s_l s_r / s_out
 * L[b, i, k] sits at lhs + b . lhs_batch_stride + i * lhs_row_stride + k * lhs_depth_stride,
 * R[b, k, j] at rhs + b . rhs_batch_stride + k * rhs_depth_stride + j * rhs_col_stride, so
 * adj_x / adj_y only swap strides.
 */
#ifndef TP_BATCH_MATMUL_H
#define TP_BATCH_MATMUL_H

#include "tp_common.h"

typedef struct {
    int32_t batch_dims[4];
    int32_t lhs_batch_stride[4];
    int32_t rhs_batch_stride[4];
    int32_t rows, cols, depth;
    int32_t lhs_row_stride, lhs_depth_stride;
    int32_t rhs_depth_stride, rhs_col_stride;
    int32_t lhs_offset; /* -zero_point of the lhs */
    int32_t rhs_offset; /* -zero_point of the rhs */
    int32_t output_multiplier;
    int32_t output_shift;
    int32_t output_offset; /* zero_point of the output */
} tp_batch_matmul_params;

void tp_batch_matmul_s8(const tp_batch_matmul_params *p, const int8_t *lhs, const int8_t *rhs,
                        int8_t *output);

#endif
