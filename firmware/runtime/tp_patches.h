/* Patch-based execution of a chain of convolutions (CONV_2D / DEPTHWISE_CONV_2D) and poolings:
 *
 *   output = layer[n-1](... layer[1](layer[0](input)))
 *
 * computed one spatial patch of `output` at a time. For each patch, every layer runs on the
 * window of its input the patch needs (tp_layer_window.h): the rows and columns its outputs
 * read, halo included, so neighbouring patches compute their shared halo values twice. Only the
 * windows of the intermediate maps exist, two at a time (one layer's input and output), never
 * the maps themselves. The same kernels compute every value from the same inputs, so the output
 * is bit for bit that of the layers run whole.
 *
 * The host (tinypipe/compiler/patches.py) chooses the chain and the patch grid and lists every
 * window; the driver only walks the list.
 */
#ifndef TP_PATCHES_H
#define TP_PATCHES_H

#include "tp_common.h"
#include "tp_layer_window.h"

#define TP_PATCH_MAX_LAYERS 8

typedef struct {
    tp_window_fn window;
    const void *params;   /* the layer's own parameters */
    const void *filter;   /* int8_t or int16_t, as its kernel takes */
    int32_t output_c;     /* bytes per output pixel */
} tp_patch_layer;

typedef struct {
    int32_t n_layers, n_patches;
    tp_patch_layer layers[TP_PATCH_MAX_LAYERS];
    int32_t input_w, input_c;   /* the chain's input: pixels per row, bytes per pixel */
    int32_t output_w;           /* the chain's output: pixels per row */
    /* Per patch: the input window's first row and column, the output patch's first row and
     * column, then per layer its tp_window (in_h, in_w, pad_top, pad_left, out_h, out_w). */
    const int32_t *windows;
    int32_t gather_input;       /* 1: the first window is copied out of the input (it is
                                   narrower than the input); 0: read where it lies */
    int32_t scatter_output;     /* 1: the last layer's patch is copied into the output (it is
                                   narrower than the output); 0: written where it lies */
    int32_t kernel_scratch_bytes; /* the largest layer scratch (0: the kernels take NULL) */
    int32_t buffer_bytes[2];    /* the two window buffers, after the kernel scratch */
} tp_patches_params;

/* scratch: kernel_scratch_bytes rounded up to 4, buffer 0, buffer 1 (each rounded up to 4).
 * Layer l writes its window into buffer (l + 1) % 2, so layer l reads buffer l % 2 (layer 0
 * reads buffer 0 when the input is gathered). */
void tp_patches_s8(const tp_patches_params *p, const int8_t *input, int8_t *output,
                   void *scratch);

#endif
