#include "tp_mul.h"

static int8_t mul_one(const void *params, int8_t x1, int8_t x2)
{
    const tp_mul_params *p = (const tp_mul_params *)params;
    const int32_t prod = (x1 + p->input1_offset) * (x2 + p->input2_offset);
    const int32_t out = tp_requantize(prod, p->output_multiplier, p->output_shift);
    return (int8_t)tp_clamp_i32(out + p->output_offset, p->act_min, p->act_max);
}

void tp_mul_s8(const tp_mul_params *p, const int8_t *input1, const int8_t *input2,
               int8_t *output)
{
    tp_broadcast_s8(&p->broadcast, mul_one, p, input1, input2, output);
}

/* n outputs of one row (tp_row_s8), the inputs' elements `stride1` and `stride2` apart (0:
 * broadcast). Not inlined into the broadcast nest: the loop needs every register, which it only
 * gets in a function of its own. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void mul_rq_row(const void *params, const int8_t *x1, int32_t stride1, const int8_t *x2,
                       int32_t stride2, int8_t *out, int32_t n)
{
    const tp_mul_rq_params *p = (const tp_mul_rq_params *)params;
    const int32_t offset1 = p->input1_offset, offset2 = p->input2_offset;
    const int32_t rq[3] = {p->requant[0], p->requant[1], p->requant[2]};
    const int32_t act_min = p->act_min, act_max = p->act_max;
    int32_t i = 0;
    if (stride1 == 1 && stride2 == 1) {
        for (; i < n; ++i) {
            out[i] = tp_output_rq_s8((x1[i] + offset1) * (x2[i] + offset2), rq, act_min, act_max);
        }
    }
    for (; i < n; ++i) {
        const int32_t prod = (x1[i * stride1] + offset1) * (x2[i * stride2] + offset2);
        out[i] = tp_output_rq_s8(prod, rq, act_min, act_max);
    }
}

void tp_mul_rq_s8(const tp_mul_rq_params *p, const int8_t *input1, const int8_t *input2,
                  int8_t *output)
{
    tp_broadcast_rows_s8(&p->broadcast, mul_rq_row, p, input1, input2, output);
}
