#include "tp_lut.h"

void tp_lut_s8(const tp_lut_params *p, const int8_t *input, int8_t *output)
{
    for (int32_t i = 0; i < p->size; ++i) {
        output[i] = p->table[(uint8_t)input[i]];
    }
}

void tp_lut_u8_s8(const tp_lut_params *p, const uint8_t *input, int8_t *output)
{
    for (int32_t i = 0; i < p->size; ++i) {
        output[i] = p->table[input[i]];
    }
}

void tp_lut_s8_u8(const tp_lut_u8_params *p, const int8_t *input, uint8_t *output)
{
    for (int32_t i = 0; i < p->size; ++i) {
        output[i] = p->table[(uint8_t)input[i]];
    }
}
