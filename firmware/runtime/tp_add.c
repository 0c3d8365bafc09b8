#include "tp_add.h"

static int8_t add_one(const void *params, int8_t x1, int8_t x2)
{
    const tp_add_params *p = (const tp_add_params *)params;
    const int32_t v1 = (x1 + p->input1_offset) * (1 << p->left_shift);
    const int32_t v2 = (x2 + p->input2_offset) * (1 << p->left_shift);
    const int32_t a = tp_requantize(v1, p->input1_multiplier, p->input1_shift);
    const int32_t b = tp_requantize(v2, p->input2_multiplier, p->input2_shift);
    const int32_t sum = tp_requantize(a + b, p->output_multiplier, p->output_shift);
    return (int8_t)tp_clamp_i32(sum + p->output_offset, p->act_min, p->act_max);
}

void tp_add_s8(const tp_add_params *p, const int8_t *input1, const int8_t *input2,
               int8_t *output)
{
    tp_broadcast_s8(&p->broadcast, add_one, p, input1, input2, output);
}

static int8_t add_lut_one(const void *params, int8_t x1, int8_t x2)
{
    const tp_add_lut_params *p = (const tp_add_lut_params *)params;
    const tp_output_q q = {p->output_offset, p->act_min, p->act_max};
    const int32_t sum = p->table1[x1 + 128] + p->table2[x2 + 128];
    return tp_output_s8(sum, p->output_multiplier, p->output_shift, q);
}

void tp_add_lut_s8(const tp_add_lut_params *p, const int8_t *input1, const int8_t *input2,
                   int8_t *output)
{
    /* A local copy: read through p, the constants would be reloaded after every int8 store. */
    const tp_add_lut_params local = *p;
    tp_broadcast_s8(&local.broadcast, add_lut_one, &local, input1, input2, output);
}

/* SUB is the same pipeline with the second scaled input subtracted (its constants differ only
 * in the precision TFLM derives them in, which the host handles). */
static int8_t sub_one(const void *params, int8_t x1, int8_t x2)
{
    const tp_add_params *p = (const tp_add_params *)params;
    const int32_t v1 = (x1 + p->input1_offset) * (1 << p->left_shift);
    const int32_t v2 = (x2 + p->input2_offset) * (1 << p->left_shift);
    const int32_t a = tp_requantize(v1, p->input1_multiplier, p->input1_shift);
    const int32_t b = tp_requantize(v2, p->input2_multiplier, p->input2_shift);
    const int32_t diff = tp_requantize(a - b, p->output_multiplier, p->output_shift);
    return (int8_t)tp_clamp_i32(diff + p->output_offset, p->act_min, p->act_max);
}

void tp_sub_s8(const tp_add_params *p, const int8_t *input1, const int8_t *input2,
               int8_t *output)
{
    tp_broadcast_s8(&p->broadcast, sub_one, p, input1, input2, output);
}
