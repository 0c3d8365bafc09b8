/* A convolution (CONV_2D / DEPTHWISE_CONV_2D) or a pooling computed on a window of its input: output rows
 * and columns [0, out_h) x [0, out_w) of a sub-rectangle of the layer's output, from the
 * contiguous input window (in_h x in_w pixels, channels as the layer's) that those outputs read,
 * with pad_top / pad_left rows / columns of padding above / left of it in the receptive field.
 *
 * The layer's own kernel runs with its whole-layer parameters cut to the window (batches 1,
 * input and output sizes, top/left padding). A tap past the window's bottom or right edge is
 * padding to the kernel, so a window must hold every input row and column its outputs read
 * except the layer's real padding: then every output value is the one the whole-layer call
 * gives, bit for bit (the host, fusion.py and patches.py, computes the windows so).
 */
#ifndef TP_LAYER_WINDOW_H
#define TP_LAYER_WINDOW_H

#include "tp_common.h"

typedef struct {
    int32_t in_h, in_w;        /* the input window, in pixels */
    int32_t pad_top, pad_left; /* padding rows / columns ahead of it (the layer's real padding) */
    int32_t out_h, out_w;      /* the outputs computed */
} tp_window;

/* A layer's whole-tensor params cut to one window (batch 1): conv and depthwise params name
 * these fields alike. */
#define TP_CUT_TO_WINDOW(q, w)       \
    do {                             \
        (q).batches = 1;             \
        (q).input_h = (w)->in_h;     \
        (q).input_w = (w)->in_w;     \
        (q).pad_h = (w)->pad_top;    \
        (q).pad_w = (w)->pad_left;   \
        (q).output_h = (w)->out_h;   \
        (q).output_w = (w)->out_w;   \
    } while (0)

/* The layer with parameters `params` (its kernel's type) and filter `filter` (int8_t or
 * int16_t, as its kernel takes) on window `w`; scratch as the kernel's. */
typedef void (*tp_window_fn)(const void *params, const void *filter, const int8_t *input,
                             const tp_window *w, int8_t *output, void *scratch);

void tp_conv_window(const void *params, const void *filter, const int8_t *input,
                    const tp_window *w, int8_t *output, void *scratch);
void tp_conv_w16_window(const void *params, const void *filter, const int8_t *input,
                        const tp_window *w, int8_t *output, void *scratch);
void tp_depthwise_window(const void *params, const void *filter, const int8_t *input,
                         const tp_window *w, int8_t *output, void *scratch);
void tp_depthwise_w16_window(const void *params, const void *filter, const int8_t *input,
                             const tp_window *w, int8_t *output, void *scratch);
/* AVERAGE_POOL_2D / MAX_POOL_2D: no filter, no scratch (both unused). */
void tp_average_pool_window(const void *params, const void *filter, const int8_t *input,
                            const tp_window *w, int8_t *output, void *scratch);
void tp_max_pool_window(const void *params, const void *filter, const int8_t *input,
                        const tp_window *w, int8_t *output, void *scratch);

#endif
