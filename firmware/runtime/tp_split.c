#include "tp_split.h"

#include <string.h>

void tp_split_s8(const tp_split_params *p, const int8_t *input, int8_t *out0, int8_t *out1,
                 int8_t *out2, int8_t *out3, int8_t *out4, int8_t *out5, int8_t *out6,
                 int8_t *out7, int8_t *out8, int8_t *out9, int8_t *out10, int8_t *out11,
                 int8_t *out12, int8_t *out13, int8_t *out14, int8_t *out15)
{
    int8_t *outputs[TP_SPLIT_MAX_OUTPUTS] = {out0, out1, out2,  out3,  out4,  out5,  out6,  out7,
                                             out8, out9, out10, out11, out12, out13, out14, out15};
    for (int32_t o = 0; o < p->outer; ++o) {
        for (int32_t k = 0; k < p->num_outputs; ++k) {
            const int32_t n = p->row_size[k];
            memcpy(outputs[k] + o * n, input, (size_t)n);
            input += n;
        }
    }
}
