#include "tp_copy_s16.h"

#include <string.h>

void tp_copy_s16(const tp_copy_s16_params *p, const int16_t *input, int16_t *output)
{
    enum { LAST = TP_COPY_S16_MAX_DIMS - 1 };
    const int32_t inner = p->dims[LAST], step = p->in_stride[LAST];
    int32_t rows = 1;
    for (int d = 0; d < LAST; ++d) {
        rows *= p->dims[d];
    }
    int32_t index[LAST] = {0}; /* position in the outer dims, an odometer */
    int32_t at = p->in_offset;  /* input element of the current row's first output */
    for (int32_t r = 0; r < rows; ++r) {
        const int16_t *x = input + at;
        if (step == 1) {
            memcpy(output, x, (size_t)inner * sizeof(int16_t));
        } else {
            for (int32_t i = 0; i < inner; ++i) {
                output[i] = x[i * step];
            }
        }
        output += inner;
        for (int d = LAST - 1; d >= 0; --d) { /* next row: carry through the outer dims */
            at += p->in_stride[d];
            if (++index[d] < p->dims[d]) {
                break;
            }
            at -= p->in_stride[d] * p->dims[d];
            index[d] = 0;
        }
    }
}
