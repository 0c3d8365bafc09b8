/* PAD (and PADV2), int8: copy the input into the middle of a larger output and fill the border
 * with pad_value (the output zero point, i.e. real 0, for PAD).
 *   out[i] = in[i - before]  where before <= i < before + in_dims, else pad_value   (per dim)
 *
 * The host merges dims so at most 4 remain: a dim without padding folds into the dim before
 * it, so ZeroPadding2D on NHWC becomes [H, W*C] with padding before/after scaled by C.
 */
#ifndef TP_PAD_H
#define TP_PAD_H

#include "tp_common.h"

typedef struct {
    int32_t out_dims[4]; /* merged output shape, padded with leading 1s */
    int32_t before[4];   /* padding in front of the input, per dim */
    int32_t in_dims[4];  /* merged input shape */
    int32_t pad_value;
} tp_pad_params;

void tp_pad_s8(const tp_pad_params *p, const int8_t *input, int8_t *output);

#endif
