#include "tp_index_copy.h"

enum { LAST = TP_INDEX_COPY_MAX_DIMS - 1 }; /* the innermost dim, read straight from its map */

static int32_t outer_rows(const tp_index_copy_params *p)
{
    int32_t rows = 1;
    for (int d = 0; d < LAST; ++d) {
        rows *= p->dims[d];
    }
    return rows;
}

/* The input offset the outer dims' position `index` contributes. */
static int32_t row_base(const tp_index_copy_params *p, const int32_t index[LAST])
{
    int32_t base = 0;
    for (int d = 0; d < LAST; ++d) {
        base += p->map[p->start[d] + index[d]];
    }
    return base;
}

/* Next outer position, as an odometer (the innermost outer dim turns fastest). */
static void next_row(const tp_index_copy_params *p, int32_t index[LAST])
{
    for (int d = LAST - 1; d >= 0; --d) {
        if (++index[d] < p->dims[d]) {
            return;
        }
        index[d] = 0;
    }
}

void tp_index_copy_s8(const tp_index_copy_params *p, const int8_t *input, int8_t *output)
{
    const int32_t *inner = p->map + p->start[LAST];
    int32_t index[LAST] = {0};
    for (int32_t r = outer_rows(p); r > 0; --r, next_row(p, index)) {
        const int8_t *x = input + row_base(p, index);
        for (int32_t i = 0; i < p->dims[LAST]; ++i) {
            *output++ = x[inner[i]];
        }
    }
}
