/* Run-time check of a compiled model's memory plan, for host builds with -DTP_ARENA_CHECK.
 *
 * The generated code calls tp_arena_enter() before and tp_arena_leave() after every layer, with
 * the arena ranges the plan gives that layer (see tinypipe/compiler/arena_regions.py):
 *   enter: snapshot the arena, fill every byte the plan calls free (not accessed by the layer,
 *          no live tensor) with a canary that changes every layer, and under AddressSanitizer
 *          poison the whole arena except the ranges the layer may access, so a read or write
 *          anywhere else stops the program with ASan's report;
 *   leave: unpoison, then prove that no byte outside the layer's writable ranges changed and
 *          that no live tensor the layer must keep (even where the plan lets it overlap a
 *          writable range) changed. A violation prints the layer and range and aborts.
 * ASan's redzones around the static arena guard both of its ends.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#define TP_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TP_ASAN 1
#endif
#endif

#ifdef TP_ASAN
#include <sanitizer/asan_interface.h>
#define TP_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define TP_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define TP_POISON(p, n) ((void)(p), (void)(n))
#define TP_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

enum { TP_ACCESS = 1, TP_WRITE = 2, TP_KEEP = 4 };

static int8_t *arena;
static int32_t arena_bytes;
static const int32_t *regions;
static int current_op = -1;
static uint32_t layers_seen;
static int8_t *snapshot;
static uint8_t *mask; /* per byte: OR of the flags of the regions covering it */

void tp_arena_enter(int op_index, int8_t *base, int32_t bytes, const int32_t *table);
void tp_arena_leave(int op_index);

static void violation(const char *what, int32_t at)
{
    int32_t k;
    fprintf(stderr, "tp_arena_check: layer #%d %s at arena byte %ld; the plan gives it:", current_op,
            what, (long)at);
    for (k = 0; k < regions[0]; ++k) {
        const int32_t *r = &regions[1 + 3 * k];
        fprintf(stderr, " [%ld, %ld) flags %ld", (long)r[0], (long)(r[0] + r[1]), (long)r[2]);
    }
    fprintf(stderr, "\n");
    abort();
}

void tp_arena_enter(int op_index, int8_t *base, int32_t bytes, const int32_t *table)
{
    int32_t i, k;
    uint32_t canary = 0x9e3779b9u * (++layers_seen);
    if (current_op != -1) {
        fprintf(stderr, "tp_arena_check: layer #%d entered inside layer #%d\n", op_index, current_op);
        abort();
    }
    if (snapshot == NULL || bytes != arena_bytes) {
        free(snapshot);
        free(mask);
        snapshot = (int8_t *)malloc((size_t)bytes + 1);
        mask = (uint8_t *)malloc((size_t)bytes + 1);
        if (snapshot == NULL || mask == NULL) {
            fprintf(stderr, "tp_arena_check: out of memory\n");
            abort();
        }
    }
    arena = base;
    arena_bytes = bytes;
    regions = table;
    current_op = op_index;
    memset(mask, 0, (size_t)bytes);
    for (k = 0; k < table[0]; ++k) {
        const int32_t *r = &table[1 + 3 * k];
        if (r[0] < 0 || r[1] < 0 || r[0] > bytes - r[1]) {
            violation("has a range outside the arena", r[0]);
        }
        for (i = r[0]; i < r[0] + r[1]; ++i) {
            mask[i] |= (uint8_t)r[2];
        }
    }
    for (i = 0; i < bytes; ++i) {
        if (mask[i] == 0) { /* free by the plan: nothing may depend on its value */
            canary = canary * 1664525u + 1013904223u;
            arena[i] = (int8_t)(canary >> 24);
        }
    }
    memcpy(snapshot, arena, (size_t)bytes);
    TP_POISON(arena, (size_t)bytes);
    for (k = 0; k < table[0]; ++k) {
        const int32_t *r = &table[1 + 3 * k];
        if (r[2] & TP_ACCESS) {
            TP_UNPOISON(arena + r[0], (size_t)r[1]);
        }
    }
}

void tp_arena_leave(int op_index)
{
    int32_t i;
    if (op_index != current_op) {
        fprintf(stderr, "tp_arena_check: layer #%d left while in layer #%d\n", op_index, current_op);
        abort();
    }
    TP_UNPOISON(arena, (size_t)arena_bytes);
    for (i = 0; i < arena_bytes; ++i) {
        if (arena[i] != snapshot[i]) {
            if (mask[i] & TP_KEEP) {
                violation("changed a live tensor it must keep", i);
            }
            if (!(mask[i] & TP_WRITE)) {
                violation("wrote outside its planned outputs and scratch", i);
            }
        }
    }
    current_op = -1;
}
