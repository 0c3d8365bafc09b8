/* Copy by per-dimension index maps: every output element is one input element, chosen
 * independently along each dimension (MIRROR_PAD's reflections).
 *
 *   out[i0, ..., i5] = in[map[start[0] + i0] + ... + map[start[5] + i5]]
 *
 * map[start[d] + i] is the input element offset (index times the input stride) that output
 * index i along dim d reads; the host builds the maps, checks that every sum stays inside the
 * input, and pads the dims with leading 1s whose map entry is 0.
 */
#ifndef TP_INDEX_COPY_H
#define TP_INDEX_COPY_H

#include "tp_common.h"

#define TP_INDEX_COPY_MAX_DIMS 6

typedef struct {
    int32_t dims[TP_INDEX_COPY_MAX_DIMS];  /* output shape, outermost first */
    int32_t start[TP_INDEX_COPY_MAX_DIMS]; /* where each dim's entries begin in map */
    const int32_t *map;                    /* input element offsets, sum(dims) entries */
} tp_index_copy_params;

void tp_index_copy_s8(const tp_index_copy_params *p, const int8_t *input, int8_t *output);

#endif
