#include "tp_quantize.h"

/* round(q) half away from zero, saturated to [-32768, 32767] (the clamp to int8 that follows
 * makes the bound irrelevant). NaN gives 0. Exact without libm: for |q| < 2^23 the truncation
 * t and q - t are exact in float; from 2^23 on every float is an integer. */
static int32_t tp_round_to_int(float q)
{
    if (!(q == q)) {
        return 0;
    }
    if (q >= 32767.0f) {
        return 32767;
    }
    if (q <= -32768.0f) {
        return -32768;
    }
    int32_t t = (int32_t)q; /* toward zero */
    const float frac = q - (float)t;
    if (frac >= 0.5f) {
        t += 1;
    } else if (frac <= -0.5f) {
        t -= 1;
    }
    return t;
}

void tp_quantize_f32_s8(const tp_quantize_params *p, const float *input, int8_t *output)
{
    for (int32_t i = 0; i < p->size; ++i) {
        const float q = input[i] / p->scale;
        output[i] = tp_sat_s8(tp_round_to_int(q) + p->zero_point);
    }
}

void tp_dequantize_s8_f32(const tp_dequantize_params *p, const int8_t *input, float *output)
{
    for (int32_t i = 0; i < p->size; ++i) {
        output[i] = p->table[(uint8_t)input[i]];
    }
}
