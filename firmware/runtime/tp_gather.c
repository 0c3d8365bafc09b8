#include "tp_gather.h"

#include <string.h>

void tp_gather_s8(const tp_gather_params *p, const int8_t *input, int8_t *output)
{
    const int32_t n = p->inner;
    for (int32_t o = 0; o < p->outer; ++o) {
        const int8_t *slab = input + o * p->axis_size * n;
        for (int32_t j = 0; j < p->num_indices; ++j) {
            memcpy(output, slab + p->indices[j] * n, (size_t)n);
            output += n;
        }
    }
}
