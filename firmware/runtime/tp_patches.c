#include "tp_patches.h"

#include <string.h>

static int32_t round4(int32_t n)
{
    return (n + 3) / 4 * 4;
}

/* rows x row_bytes bytes between two row strides */
static void copy_rows(int8_t *dst, int32_t dst_stride, const int8_t *src, int32_t src_stride,
                      int32_t rows, int32_t row_bytes)
{
    for (int32_t r = 0; r < rows; ++r) {
        memcpy(dst + r * dst_stride, src + r * src_stride, (size_t)row_bytes);
    }
}

void tp_patches_s8(const tp_patches_params *p, const int8_t *input, int8_t *output,
                   void *scratch)
{
    void *kscratch = p->kernel_scratch_bytes ? scratch : NULL;
    int8_t *buf[2];
    buf[0] = (int8_t *)scratch + round4(p->kernel_scratch_bytes);
    buf[1] = buf[0] + round4(p->buffer_bytes[0]);
    const int32_t last = p->n_layers - 1;
    const int32_t out_c = p->layers[last].output_c;
    const int32_t stride = 4 + 6 * p->n_layers;
    for (int32_t k = 0; k < p->n_patches; ++k) {
        const int32_t *t = p->windows + k * stride;
        const int32_t *w0 = t + 4;
        const int8_t *in = input + (t[0] * p->input_w + t[1]) * p->input_c;
        if (p->gather_input) {
            copy_rows(buf[0], w0[1] * p->input_c, in, p->input_w * p->input_c, w0[0],
                      w0[1] * p->input_c);
            in = buf[0];
        }
        for (int32_t l = 0; l <= last; ++l) {
            const int32_t *v = t + 4 + 6 * l;
            const tp_window w = {v[0], v[1], v[2], v[3], v[4], v[5]};
            const tp_patch_layer *layer = &p->layers[l];
            int8_t *out = buf[(l + 1) % 2];
            if (l == last && !p->scatter_output) {
                out = output + (t[2] * p->output_w + t[3]) * out_c;
            }
            layer->window(layer->params, layer->filter, in, &w, out, kscratch);
            in = out;
        }
        if (p->scatter_output) {
            const int32_t *v = t + 4 + 6 * last;
            copy_rows(output + (t[2] * p->output_w + t[3]) * out_c, p->output_w * out_c, in,
                      v[5] * out_c, v[4], v[5] * out_c);
        }
    }
}
