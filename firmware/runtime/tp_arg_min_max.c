#include "tp_arg_min_max.h"

void tp_arg_min_max_s8(const tp_arg_min_max_params *p, const int8_t *input,
                       int32_t *output)
{
    int32_t k = 0; /* output element */
    for (int32_t o = 0; o < p->outer; ++o) {
        const int8_t *slab = input + o * p->axis_size * p->inner;
        for (int32_t i = 0; i < p->inner; ++i, ++k) {
            int32_t best = slab[i], best_index = 0;
            for (int32_t a = 1; a < p->axis_size; ++a) {
                const int32_t v = slab[a * p->inner + i];
                if (p->is_max ? v > best : v < best) {
                    best = v;
                    best_index = a;
                }
            }
            output[k] = best_index;
        }
    }
}
