/*
 * tpl_mlperf.c - device main speaking the MLPerf Tiny / EEMBC device-under-test protocol
 * (performance mode), so the benchmark's own runner can drive a tinypipe device unchanged.
 *
 * Commands arrive as text ended by '%', words separated by spaces:
 *   name                 -> m-name-dut-[tinypipe]
 *   profile              -> m-profile-[ULPMark for tinyML Firmware V0.0.1], m-model-[NAME]
 *   timestamp            -> m-lap-us-N (microseconds of the core clock since boot)
 *   db load N            -> m-[Expecting N bytes]; then
 *   db HEX...            -> bytes appended to the input buffer; m-load-done when N arrived
 *   db print             -> m-buffer-xx-xx-... lines
 *   infer N [W]          -> W warm-up and N timed inferences on the loaded input, then results
 *   results              -> m-results-[f,f,...] (the output dequantized, 3 decimals)
 *   help                 -> the command list
 * Every command's answer ends with m-ready; errors are e-[...] lines.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tpl_model.h"
#include "tpl_port.h"

#define CMD_MAX 80 /* longer commands are cut, as the benchmark's parser does */
#define FW_VERSION "ULPMark for tinyML Firmware V0.0.1"

static union {
    TP_MODEL_INPUT_T t[(TP_MODEL_INPUT_BYTES + sizeof(TP_MODEL_INPUT_T) - 1u) / sizeof(TP_MODEL_INPUT_T)];
    uint32_t align;
} in_buf;
static union {
    TP_MODEL_OUTPUT_T t[(TP_MODEL_OUTPUT_BYTES + sizeof(TP_MODEL_OUTPUT_T) - 1u) / sizeof(TP_MODEL_OUTPUT_T)];
    uint32_t align;
} out_buf;
static uint8_t db[TP_MODEL_INPUT_BYTES];
static size_t db_size, db_pos;

#ifdef TP_PROFILE
void tp_profile(int op_index);
void tp_profile(int op_index)
{
    (void)op_index; /* per-layer counts are the tinypipe link's business */
}
#endif

static void put(const char *s)
{
    tpl_port_write(s, strlen(s));
}

static void put_u64(uint64_t v)
{
    char buf[21];
    int i = 20;
    buf[i] = '\0';
    do {
        buf[--i] = (char)('0' + (int)(v % 10u));
        v /= 10u;
    } while (v != 0u);
    put(&buf[i]);
}

/* A non-negative decimal number, or -1 for anything else (sign, letters, overflow). */
static long parse_count(const char *s)
{
    long v = 0;
    if (*s == '\0') {
        return -1;
    }
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9' || v > 100000000L) {
            return -1;
        }
        v = v * 10 + (*s - '0');
    }
    return v;
}

static int hex_nibble(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* The output element k as a float with 3 decimals: (q - zero point) * scale. */
static void put_result(size_t k)
{
    float v = ((float)out_buf.t[k] - (float)TPL_OUTPUT_ZERO_POINT) * (float)TPL_OUTPUT_SCALE;
    uint64_t milli;
    if (v < 0.0f) {
        put("-");
        v = -v;
    }
    milli = (uint64_t)(v * 1000.0f + 0.5f);
    put_u64(milli / 1000u);
    put(".");
    put_u64((milli / 100u) % 10u);
    put_u64((milli / 10u) % 10u);
    put_u64(milli % 10u);
}

static void results(void)
{
    size_t k, n = TP_MODEL_OUTPUT_BYTES / sizeof(TP_MODEL_OUTPUT_T);
    put("m-results-[");
    for (k = 0; k < n; k++) {
        if (k > 0) {
            put(",");
        }
        put_result(k);
    }
    put("]\r\n");
}

static void timestamp(void)
{
    uint64_t ticks = tpl_counter_elapsed(); /* since boot: the counter is never restarted */
    put("m-lap-us-");
    put_u64(ticks * 1000000u / tpl_counter_hz());
    put("\r\n");
}

static void infer(long n, long warmup)
{
    memcpy(in_buf.t, db, sizeof db);
    put("m-warmup-start-");
    put_u64((uint64_t)warmup);
    put("\r\n");
    while (warmup-- > 0) {
        (void)TP_MODEL_INVOKE(in_buf.t, out_buf.t);
    }
    put("m-warmup-done\r\nm-infer-start-");
    put_u64((uint64_t)n);
    put("\r\n");
    timestamp();
    while (n-- > 0) {
        (void)TP_MODEL_INVOKE(in_buf.t, out_buf.t);
    }
    timestamp();
    put("m-infer-done\r\n");
    results();
}

static void db_command(char *words[], int count)
{
    if (count < 2) {
        put("e-[Command 'db' requires a subcommand]\r\n");
    } else if (strcmp(words[1], "load") == 0) {
        long n = count > 2 ? parse_count(words[2]) : -1;
        if (n <= 0) {
            put("e-[Command 'db load' must be >0 bytes]\r\n");
        } else if ((size_t)n != sizeof db) {
            put("e-[The model's input is ");
            put_u64(sizeof db);
            put(" bytes]\r\n");
        } else {
            db_size = (size_t)n;
            db_pos = 0;
            put("m-[Expecting ");
            put_u64((uint64_t)n);
            put(" bytes]\r\n");
        }
    } else if (strcmp(words[1], "print") == 0) {
        static const char hex[] = "0123456789abcdef";
        size_t i;
        for (i = 0; i < db_size; i++) {
            char b[3] = {hex[db[i] >> 4], hex[db[i] & 15u], '\0'};
            put(i % 8u == 0u ? "m-buffer-" : "-");
            put(b);
            if (i % 8u == 7u || i + 1u == db_size) {
                put("\r\n");
            }
        }
    } else {
        const char *p = words[1];
        size_t len = strlen(p);
        if (len % 2u != 0u) {
            put("e-[Insufficent number of hex digits]\r\n");
            return;
        }
        for (; *p != '\0' && db_pos < db_size; p += 2) {
            int hi = hex_nibble(p[0]), lo = hex_nibble(p[1]);
            if (hi < 0 || lo < 0) {
                put("e-[Invalid hex digit]\r\n");
                return;
            }
            db[db_pos++] = (uint8_t)(hi * 16 + lo);
        }
        if (db_size > 0u && db_pos == db_size) {
            put("m-load-done\r\n");
        }
    }
}

static void command(char *line)
{
    char *words[4];
    int count = 0;
    char *p = line;
    while (*p != '\0' && count < 4) {
        while (*p == ' ' || *p == '\r' || *p == '\n') {
            *p++ = '\0';
        }
        if (*p == '\0') {
            break;
        }
        words[count++] = p;
        while (*p != '\0' && *p != ' ' && *p != '\r' && *p != '\n') {
            p++;
        }
    }
    if (count == 0) {
        /* an empty command: just the prompt */
    } else if (strcmp(words[0], "name") == 0) {
        put("m-name-dut-[tinypipe]\r\n");
    } else if (strcmp(words[0], "profile") == 0) {
        put("m-profile-[" FW_VERSION "]\r\nm-model-[" TP_MODEL_NAME "]\r\n");
    } else if (strcmp(words[0], "timestamp") == 0) {
        timestamp();
    } else if (strcmp(words[0], "db") == 0) {
        db_command(words, count);
    } else if (strcmp(words[0], "infer") == 0) {
        long n = count > 1 ? parse_count(words[1]) : 1;
        long w = count > 2 ? parse_count(words[2]) : 10;
        if (n <= 0) {
            put("e-[Inference iterations must be >0]\r\n");
        } else if (w < 0) {
            put("e-[Inference warmup must be >=0]\r\n");
        } else if (db_size == 0u || db_pos != db_size) {
            put("e-[Load the input first: db load N, then db HEX]\r\n");
        } else {
            infer(n, w);
        }
    } else if (strcmp(words[0], "results") == 0) {
        results();
    } else if (strcmp(words[0], "help") == 0) {
        put(FW_VERSION "\r\nname, profile, timestamp, db load N, db HEX, db print, infer N [W], results\r\n");
    } else {
        put("e-[Unknown command: ");
        put(words[0]);
        put("]\r\n");
    }
    put("m-ready\r\n");
    tpl_port_flush();
}

int main(void)
{
    char line[CMD_MAX + 1];
    size_t len = 0;
    tpl_port_init();
    tpl_counter_start();
    put("m-init-done\r\nm-ready\r\n");
    tpl_port_flush();
    for (;;) {
        int c = tpl_port_getc();
        if (c < 0) {
            return 0; /* the host closed the console */
        }
        if (c == '%') {
            line[len] = '\0';
            command(line);
            len = 0;
        } else if (len < CMD_MAX) {
            line[len++] = (char)c;
        }
    }
}
