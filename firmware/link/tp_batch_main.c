/* Host batch runner for a compiled tinypipe model.
 *
 *   tp_batch INPUTS.bin OUTPUTS.bin [TRACE.bin]
 *
 * INPUTS.bin holds N input tensors back to back; OUTPUTS.bin receives N output tensors (a model
 * with several inputs/outputs reads and writes each sample's tensors as one packed block).
 * Built with -DTP_TRACE, every layer's output of every sample is appended to TRACE.bin as
 * records {int32 op_index, int32 bytes, bytes...}, for finding the first divergent layer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include TP_MODEL_HEADER

static FILE *trace_file;

#ifdef TP_TRACE
void tp_trace(int op_index, const void *data, size_t bytes)
{
    int32_t header[2];
    header[0] = (int32_t)op_index;
    header[1] = (int32_t)bytes;
    if (trace_file) {
        fwrite(header, sizeof header, 1, trace_file);
        fwrite(data, 1, bytes, trace_file);
    }
}
#endif

static int fail(const char *what, const char *path)
{
    fprintf(stderr, "tp_batch: %s: %s\n", what, path);
    return 2;
}

int main(int argc, char **argv)
{
    /* 4-byte aligned: a model with several inputs/outputs packs them at 4-byte offsets. */
    static union {
        TP_MODEL_INPUT_T t[(TP_MODEL_INPUT_BYTES + sizeof(TP_MODEL_INPUT_T) - 1) / sizeof(TP_MODEL_INPUT_T)];
        uint32_t align;
    } in_buf;
    static union {
        TP_MODEL_OUTPUT_T t[(TP_MODEL_OUTPUT_BYTES + sizeof(TP_MODEL_OUTPUT_T) - 1) / sizeof(TP_MODEL_OUTPUT_T)];
        uint32_t align;
    } out_buf;
    FILE *in, *out;
    size_t got;
    if (argc < 3) {
        fprintf(stderr, "usage: %s INPUTS.bin OUTPUTS.bin [TRACE.bin]\n", argv[0]);
        return 2;
    }
    in = fopen(argv[1], "rb");
    if (!in) {
        return fail("cannot open", argv[1]);
    }
    out = fopen(argv[2], "wb");
    if (!out) {
        fclose(in);
        return fail("cannot create", argv[2]);
    }
    if (argc > 3) {
        trace_file = fopen(argv[3], "wb");
        if (!trace_file) {
            fclose(in);
            fclose(out);
            return fail("cannot create", argv[3]);
        }
    }
    while ((got = fread(in_buf.t, 1, TP_MODEL_INPUT_BYTES, in)) == TP_MODEL_INPUT_BYTES) {
#if defined(TP_MODEL_RESET) && !defined(TP_STREAM)
        TP_MODEL_RESET(); /* every sample is a sequence of its own (-DTP_STREAM: continued) */
#endif
        TP_MODEL_INVOKE(in_buf.t, out_buf.t);
        fwrite(out_buf.t, 1, TP_MODEL_OUTPUT_BYTES, out);
    }
    fclose(in);
    fclose(out);
    if (trace_file) {
        fclose(trace_file);
    }
    if (got != 0) {
        return fail("input size is not a multiple of the input tensor", argv[1]);
    }
    return 0;
}
