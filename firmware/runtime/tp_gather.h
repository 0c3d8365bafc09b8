/* GATHER, int8, with constant indices (checked in range on the host).
 *
 * Viewing the input as [outer, axis_size, inner] and the output as [outer, num_indices, inner]:
 *   out[o, j, :] = in[o, indices[j], :]
 */
#ifndef TP_GATHER_H
#define TP_GATHER_H

#include "tp_common.h"

typedef struct {
    int32_t outer;       /* product of the dims before the axis */
    int32_t axis_size;   /* input dim along the axis */
    int32_t inner;       /* product of the dims after the axis */
    int32_t num_indices;
    const int32_t *indices; /* each in [0, axis_size) */
} tp_gather_params;

void tp_gather_s8(const tp_gather_params *p, const int8_t *input, int8_t *output);

#endif
