#include "tp_quantize_s16.h"

static int32_t rescale(const tp_requantize_s16_params *p, int32_t x)
{
    return tp_requantize(x + p->input_offset, p->multiplier, p->shift) + p->output_offset;
}

void tp_requantize_s16_s8(const tp_requantize_s16_params *p, const int16_t *input, int8_t *output)
{
    for (int32_t i = 0; i < p->size; ++i) {
        output[i] = tp_sat_s8(rescale(p, input[i]));
    }
}

void tp_requantize_s8_s16(const tp_requantize_s16_params *p, const int8_t *input, int16_t *output)
{
    for (int32_t i = 0; i < p->size; ++i) {
        output[i] = tp_sat_s16(rescale(p, input[i]));
    }
}

void tp_requantize_s16_s16(const tp_requantize_s16_params *p, const int16_t *input,
                           int16_t *output)
{
    for (int32_t i = 0; i < p->size; ++i) {
        output[i] = tp_sat_s16(rescale(p, input[i]));
    }
}

void tp_requantize_s16_s32(const tp_requantize_s16_params *p, const int16_t *input,
                           int32_t *output)
{
    /* the sum cannot leave int32: the host bounds the rescaled value and the offset */
    for (int32_t i = 0; i < p->size; ++i) {
        output[i] = rescale(p, input[i]);
    }
}

/* round(q) half away from zero, saturated to +-2^20 (beyond int16 whatever the zero point,
 * which the clamp that follows removes). NaN gives 0. Exact without libm: for |q| < 2^23 the
 * truncation t and q - t are exact in float; from 2^23 on every float is an integer. */
static int32_t round_to_int(float q)
{
    if (!(q == q)) {
        return 0;
    }
    if (q >= 1048576.0f) {
        return 1048576;
    }
    if (q <= -1048576.0f) {
        return -1048576;
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

void tp_quantize_f32_s16(const tp_quantize_s16_params *p, const float *input, int16_t *output)
{
    for (int32_t i = 0; i < p->size; ++i) {
        output[i] = tp_sat_s16(round_to_int(input[i] / p->scale) + p->zero_point);
    }
}

void tp_dequantize_s16_f32(const tp_quantize_s16_params *p, const int16_t *input, float *output)
{
    for (int32_t i = 0; i < p->size; ++i) {
        output[i] = p->scale * (float)(input[i] - p->zero_point);
    }
}
