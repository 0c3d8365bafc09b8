#include "tp_batch_matmul.h"

static void matmul_one(const tp_batch_matmul_params *p, const int8_t *lhs, const int8_t *rhs,
                       int8_t *output)
{
    for (int32_t i = 0; i < p->rows; ++i) {
        for (int32_t j = 0; j < p->cols; ++j) {
            const int8_t *l = lhs + i * p->lhs_row_stride;
            const int8_t *r = rhs + j * p->rhs_col_stride;
            int32_t acc = 0;
            for (int32_t k = 0; k < p->depth; ++k) {
                acc += (l[k * p->lhs_depth_stride] + p->lhs_offset) *
                       (r[k * p->rhs_depth_stride] + p->rhs_offset);
            }
            acc = tp_requantize(acc, p->output_multiplier, p->output_shift);
            *output++ = tp_sat_s8(acc + p->output_offset);
        }
    }
}

void tp_batch_matmul_s8(const tp_batch_matmul_params *p, const int8_t *lhs, const int8_t *rhs,
                        int8_t *output)
{
    const int32_t *n = p->batch_dims, *sl = p->lhs_batch_stride, *sr = p->rhs_batch_stride;
    const int32_t matrix = p->rows * p->cols;
    for (int32_t b0 = 0; b0 < n[0]; ++b0) {
        for (int32_t b1 = 0; b1 < n[1]; ++b1) {
            for (int32_t b2 = 0; b2 < n[2]; ++b2) {
                for (int32_t b3 = 0; b3 < n[3]; ++b3) {
                    const int8_t *l = lhs + b0 * sl[0] + b1 * sl[1] + b2 * sl[2] + b3 * sl[3];
                    const int8_t *r = rhs + b0 * sr[0] + b1 * sr[1] + b2 * sr[2] + b3 * sr[3];
                    matmul_one(p, l, r, output);
                    output += matrix;
                }
            }
        }
    }
}
