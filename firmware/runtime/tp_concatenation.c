#include "tp_concatenation.h"

#include <string.h>

void tp_concatenation_s8(const tp_concatenation_params *p, const int8_t *in0,
                         const int8_t *in1, const int8_t *in2, const int8_t *in3,
                         const int8_t *in4, const int8_t *in5, const int8_t *in6,
                         const int8_t *in7, const int8_t *in8, const int8_t *in9,
                         int8_t *output)
{
    const int8_t *inputs[TP_CONCAT_MAX_INPUTS] = {in0, in1, in2, in3, in4,
                                                  in5, in6, in7, in8, in9};
    for (int32_t o = 0; o < p->outer; ++o) {
        for (int32_t k = 0; k < p->num_inputs; ++k) {
            const int32_t n = p->row_size[k];
            memcpy(output, inputs[k] + o * n, (size_t)n);
            output += n;
        }
    }
}
