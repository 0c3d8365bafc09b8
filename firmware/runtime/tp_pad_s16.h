/* PAD (and PADV2), int16 (16x8 models): tp_pad_s8's copy (tp_pad.h) over int16 elements; the
 * border holds pad_value (the output zero point, 0, for PAD). At most 4 merged dims. */
#ifndef TP_PAD_S16_H
#define TP_PAD_S16_H

#include "tp_common_s16.h"

typedef struct {
    int32_t out_dims[4]; /* merged output shape, padded with leading 1s */
    int32_t before[4];   /* padding in front of the input, per dim */
    int32_t in_dims[4];  /* merged input shape */
    int32_t pad_value;
} tp_pad_s16_params;

void tp_pad_s16(const tp_pad_s16_params *p, const int16_t *input, int16_t *output);

#endif
