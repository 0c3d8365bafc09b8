#include "tp_reduce_max.h"

void tp_reduce_max_s8(const tp_reduce_max_params *p, const int8_t *input, int8_t *output)
{
    for (int32_t k0 = 0; k0 < p->kept_dims[0]; ++k0) {
        for (int32_t k1 = 0; k1 < p->kept_dims[1]; ++k1) {
            const int8_t *base = input + k0 * p->kept_stride[0] + k1 * p->kept_stride[1];
            int8_t best = -128;
            for (int32_t r0 = 0; r0 < p->reduced_dims[0]; ++r0) {
                for (int32_t r1 = 0; r1 < p->reduced_dims[1]; ++r1) {
                    const int8_t v = base[r0 * p->reduced_stride[0] + r1 * p->reduced_stride[1]];
                    best = v > best ? v : best;
                }
            }
            *output++ = best;
        }
    }
}
