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

void tp_concatenation_inplace_s8(const tp_concatenation_inplace_params *p, const int8_t *in0,
                                 const int8_t *in1, const int8_t *in2, const int8_t *in3,
                                 const int8_t *in4, const int8_t *in5, const int8_t *in6,
                                 const int8_t *in7, const int8_t *in8, const int8_t *in9,
                                 int8_t *output)
{
    const int8_t *inputs[TP_CONCAT_MAX_INPUTS] = {in0, in1, in2, in3, in4,
                                                  in5, in6, in7, in8, in9};
    const tp_concatenation_params *c = &p->concat;
    const int32_t moved = c->row_size[p->in_place];
    int32_t total = 0;
    int32_t before = 0; /* where the moved input's part starts in an output row */
    for (int32_t k = 0; k < c->num_inputs; ++k) {
        before += k < p->in_place ? c->row_size[k] : 0;
        total += c->row_size[k];
    }
    for (int32_t o = c->outer - 1; o >= 0; --o) {
        int8_t *row = output + o * total;
        memmove(row + before, inputs[p->in_place] + o * moved, (size_t)moved);
        int32_t at = 0;
        for (int32_t k = 0; k < c->num_inputs; ++k) {
            const int32_t n = c->row_size[k];
            if (k != p->in_place) {
                memcpy(row + at, inputs[k] + o * n, (size_t)n);
            }
            at += n;
        }
    }
}
