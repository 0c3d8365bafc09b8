#include "tp_mean_s16.h"

void tp_mean_s16(const tp_mean_s16_params *p, const int16_t *input, int16_t *output)
{
    for (int32_t k0 = 0; k0 < p->kept_dims[0]; ++k0) {
        for (int32_t k1 = 0; k1 < p->kept_dims[1]; ++k1) {
            const int16_t *base = input + k0 * p->kept_stride[0] + k1 * p->kept_stride[1];
            int32_t sum = 0;
            for (int32_t r0 = 0; r0 < p->reduced_dims[0]; ++r0) {
                for (int32_t r1 = 0; r1 < p->reduced_dims[1]; ++r1) {
                    sum += base[r0 * p->reduced_stride[0] + r1 * p->reduced_stride[1]];
                }
            }
            *output++ = tp_sat_s16(tp_requantize(sum, p->multiplier, p->shift));
        }
    }
}
