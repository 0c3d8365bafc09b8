#include "tp_concatenation_s16.h"

#include <string.h>

void tp_concatenation_s16(const tp_concatenation_s16_params *p, const int16_t *in0,
                          const int16_t *in1, const int16_t *in2, const int16_t *in3,
                          const int16_t *in4, const int16_t *in5, const int16_t *in6,
                          const int16_t *in7, const int16_t *in8, const int16_t *in9,
                          int16_t *output)
{
    const int16_t *inputs[TP_CONCAT_S16_MAX_INPUTS] = {in0, in1, in2, in3, in4,
                                                       in5, in6, in7, in8, in9};
    for (int32_t o = 0; o < p->outer; ++o) {
        for (int32_t k = 0; k < p->num_inputs; ++k) {
            const int32_t n = p->row_size[k];
            memcpy(output, inputs[k] + o * n, (size_t)n * sizeof(int16_t));
            output += n;
        }
    }
}
