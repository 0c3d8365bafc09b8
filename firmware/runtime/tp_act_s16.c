#include "tp_act_s16.h"

static int32_t scaled(int16_t x, int32_t multiplier, int32_t shift)
{
    const int32_t rounding = shift > 0 ? (int32_t)1 << (shift - 1) : 0;
    return ((int32_t)x * multiplier + rounding) >> shift;
}

int16_t tp_sigmoid_s16(int16_t x, int32_t multiplier, int32_t shift, const uint16_t *table)
{
    const int32_t v = scaled(x, multiplier, shift);
    const uint32_t a = (uint32_t)(v < 0 ? -v : v);
    const uint32_t uh = a >> 9;
    uint32_t r;
    if (uh >= 255) {
        r = (uint32_t)0x7FFF << 10;
    } else {
        const uint32_t ua = table[uh], ub = table[uh + 1];
        r = (ua << 9) + (a & 0x1FF) * (ub - ua);
    }
    r = v >= 0 ? r + (1u << 9) : (1u << 25) - r + (1u << 9) - 1;
    return (int16_t)(r >> 10);
}

int16_t tp_tanh_s16(int16_t x, int32_t multiplier, int32_t shift, const uint16_t *table)
{
    const int32_t v = scaled(x, multiplier, shift);
    const uint32_t a = (uint32_t)(v < 0 ? -v : v);
    const uint32_t uh = a >> 8;
    int32_t r;
    if (uh >= 255) {
        r = 0xFFFF << 8;
    } else {
        const uint32_t ua = table[uh], ub = table[uh + 1];
        r = (int32_t)((ua << 8) + (a & 0xFF) * (ub - ua));
    }
    r = v >= 0 ? r - (1 << 23) + (1 << 7) : -r + (1 << 23) + (1 << 7) - 1;
    return (int16_t)(r >> 8);
}

void tp_act_logistic_s16(const tp_act_s16_params *p, const int16_t *input, int16_t *output)
{
    for (int32_t i = 0; i < p->size; ++i) {
        output[i] = tp_sigmoid_s16(input[i], p->multiplier, p->shift, p->table);
    }
}

void tp_act_tanh_s16(const tp_act_s16_params *p, const int16_t *input, int16_t *output)
{
    for (int32_t i = 0; i < p->size; ++i) {
        output[i] = tp_tanh_s16(input[i], p->multiplier, p->shift, p->table);
    }
}
