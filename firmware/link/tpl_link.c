/*
 * tpl_link.c - the device side of the tinypipe link (see tpl_link.h for the protocol).
 *
 * Portable C99: the board supplies bytes in and out and a counter (tpl_port.h);
 * the model supplies TP_MODEL_* from its generated header (tpl_model.h).
 */
#include "tpl_link.h"

#include <stddef.h>
#include <stdint.h>

#include "tpl_model.h"
#include "tpl_port.h"

#ifndef TPL_BOARD
#define TPL_BOARD "unknown"
#endif

#define TPL_IN_ELEMS ((TP_MODEL_INPUT_BYTES + sizeof(TP_MODEL_INPUT_T) - 1u) / sizeof(TP_MODEL_INPUT_T))
#define TPL_OUT_ELEMS ((TP_MODEL_OUTPUT_BYTES + sizeof(TP_MODEL_OUTPUT_T) - 1u) / sizeof(TP_MODEL_OUTPUT_T))

/* 4-byte aligned: a model with several inputs/outputs packs them at 4-byte offsets. */
#ifdef TP_MODEL_INPUT_BUFFER
#define tpl_input TP_MODEL_INPUT_BUFFER() /* the input's place in the model's arena: no copy */
#else
static union {
    TP_MODEL_INPUT_T t[TPL_IN_ELEMS];
    uint32_t align;
} tpl_in;
#define tpl_input (tpl_in.t)
#endif
static union {
    TP_MODEL_OUTPUT_T t[TPL_OUT_ELEMS];
    uint32_t align;
} tpl_out;
#define tpl_output (tpl_out.t)

/* ----------------------------------------------------------------- profile */

/* Counter ticks at the end of each operator of the last inference; TPL_NO_TICK: no call. */
#define TPL_NO_TICK UINT64_MAX
#define TPL_NUM_OPS ((int)TP_MODEL_NUM_OPS)

static uint64_t tpl_profile_ticks[TP_MODEL_NUM_OPS > 0 ? TP_MODEL_NUM_OPS : 1];
static uint32_t tpl_profile_seq;

void tp_profile(int op_index)
{
    uint64_t ticks = tpl_counter_elapsed();
    if (op_index >= 0 && op_index < TPL_NUM_OPS) {
        tpl_profile_ticks[op_index] = ticks;
    }
}

static void tpl_profile_reset(uint32_t seq)
{
    int i;
    for (i = 0; i < TPL_NUM_OPS; i++) {
        tpl_profile_ticks[i] = TPL_NO_TICK;
    }
    tpl_profile_seq = seq;
}

/* ------------------------------------------------------------------ CRC-32 */

static uint32_t tpl_crc_nibble[16];

static void tpl_crc_init(void)
{
    uint32_t i;
    for (i = 0; i < 16u; i++) {
        uint32_t c = i;
        int k;
        for (k = 0; k < 4; k++) {
            c = (c & 1u) ? (c >> 1) ^ 0xEDB88320u : (c >> 1);
        }
        tpl_crc_nibble[i] = c;
    }
}

uint32_t tpl_crc32_byte(uint32_t crc, unsigned char byte)
{
    crc = (crc >> 4) ^ tpl_crc_nibble[(crc ^ byte) & 0xFu];
    crc = (crc >> 4) ^ tpl_crc_nibble[(crc ^ (uint32_t)(byte >> 4)) & 0xFu];
    return crc;
}

/* ------------------------------------------------------------- line writer */

static const char tpl_hex_digits[] = "0123456789abcdef";

static struct {
    char buf[64];
    size_t len;
    uint32_t crc;
} tpl_w;

static void w_raw(char c)
{
    tpl_w.buf[tpl_w.len++] = c;
    if (tpl_w.len == sizeof tpl_w.buf) {
        tpl_port_write(tpl_w.buf, tpl_w.len);
        tpl_w.len = 0;
    }
}

static void w_begin(char kind)
{
    tpl_w.len = 0;
    tpl_w.crc = 0xFFFFFFFFu;
    tpl_w.crc = tpl_crc32_byte(tpl_w.crc, (unsigned char)kind);
    w_raw(kind);
}

static void w_char(char c)
{
    tpl_w.crc = tpl_crc32_byte(tpl_w.crc, (unsigned char)c);
    w_raw(c);
}

static void w_str(const char *s)
{
    while (*s != '\0') {
        w_char(*s++);
    }
}

static void w_u64(uint64_t v)
{
    char digits[20];
    int n = 0;
    do {
        digits[n++] = (char)('0' + (int)(v % 10u));
        v /= 10u;
    } while (v != 0u);
    while (n > 0) {
        w_char(digits[--n]);
    }
}

static void w_hex_bytes(const unsigned char *p, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        w_char(tpl_hex_digits[p[i] >> 4]);
        w_char(tpl_hex_digits[p[i] & 0xFu]);
    }
}

static void w_end(void)
{
    uint32_t crc = ~tpl_w.crc;
    int shift;
    w_raw('*');
    for (shift = 28; shift >= 0; shift -= 4) {
        w_raw(tpl_hex_digits[(crc >> shift) & 0xFu]);
    }
    w_raw('\n');
    tpl_port_write(tpl_w.buf, tpl_w.len);
    tpl_w.len = 0;
    tpl_port_flush();
}

/* --------------------------------------------------------------- messages */

/* "i8", "u8", "i16", "f32", ... from the properties of a C type. */
static void w_type(int is_float, int is_signed, size_t size)
{
    w_char(is_float ? 'f' : (is_signed ? 'i' : 'u'));
    w_u64((uint64_t)size * 8u);
}

#define TPL_IS_FLOAT(T) ((T)0.5 > (T)0)
#define TPL_IS_SIGNED(T) ((T)-1 < (T)0)

static void send_hello(void)
{
    w_begin('H');
    w_str(" tinypipe-link v=1 model=");
    w_str(TP_MODEL_NAME);
    w_str(" board=");
    w_str(TPL_BOARD);
    w_str(" in=");
    w_u64(TP_MODEL_INPUT_BYTES);
    w_str(" out=");
    w_u64(TP_MODEL_OUTPUT_BYTES);
    w_str(" it=");
    w_type(TPL_IS_FLOAT(TP_MODEL_INPUT_T), TPL_IS_SIGNED(TP_MODEL_INPUT_T), sizeof(TP_MODEL_INPUT_T));
    w_str(" ot=");
    w_type(TPL_IS_FLOAT(TP_MODEL_OUTPUT_T), TPL_IS_SIGNED(TP_MODEL_OUTPUT_T), sizeof(TP_MODEL_OUTPUT_T));
    w_str(" arena=");
    w_u64(TP_MODEL_ARENA_BYTES);
    w_str(" counter=");
    w_str(tpl_counter_name());
    w_str(" hz=");
    w_u64(tpl_counter_hz());
    w_end();
}

static void send_error(const char *code, uint64_t a, uint64_t b)
{
    w_begin('E');
    w_char(' ');
    w_str(code);
    w_char(' ');
    w_u64(a);
    w_char(' ');
    w_u64(b);
    w_end();
}

static void send_profile(void)
{
    int i;
    w_begin('P');
    w_char(' ');
    w_u64(tpl_profile_seq);
    w_char(' ');
    w_u64((uint64_t)TPL_NUM_OPS);
    for (i = 0; i < TPL_NUM_OPS; i++) {
        w_char(' ');
        if (tpl_profile_ticks[i] == TPL_NO_TICK) {
            w_char('-');
        } else {
            w_u64(tpl_profile_ticks[i]);
        }
    }
    w_end();
}

/* ------------------------------------------------------------------ reader */

#define TPL_EOF (-1)

static int hex_value(int c)
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

/* Consume the rest of the current line; return TPL_EOF if the input ended. */
static int skip_line(int c)
{
    while (c != '\n' && c != TPL_EOF) {
        c = tpl_port_getc();
    }
    return c;
}

/* After "I": " <seq> <hex>*<crc8>\n". Answers with "O ..." or "E ...". */
static int handle_infer(void)
{
    unsigned char *in = (unsigned char *)tpl_input;
    uint32_t crc = tpl_crc32_byte(0xFFFFFFFFu, (unsigned char)'I');
    uint32_t got_crc = 0;
    uint64_t seq = 0; /* at most 10 digits are read, so this cannot wrap before the check */
    int seq_digits = 0;
    size_t n = 0;
    int bad_hex = 0;
    int digits = 0;
    int c = tpl_port_getc();
    int status;
    uint64_t ticks;

    if (c != ' ') {
        if (skip_line(c) == TPL_EOF) {
            return TPL_EOF;
        }
        send_error("syntax", 0, 0);
        return 0;
    }
    crc = tpl_crc32_byte(crc, (unsigned char)c);
    for (;;) { /* the request's sequence number, echoed in the answer */
        c = tpl_port_getc();
        if (c < '0' || c > '9') {
            break;
        }
        crc = tpl_crc32_byte(crc, (unsigned char)c);
        if (seq_digits < 11) { /* 11 digits already mean "too long": stop counting */
            seq = seq * 10u + (uint64_t)(c - '0');
            seq_digits++;
        }
    }
    if (c != ' ' || seq_digits == 0 || seq_digits > 10 || seq > 0xFFFFFFFFu) {
        if (skip_line(c) == TPL_EOF) {
            return TPL_EOF;
        }
        send_error("syntax", 0, 0);
        return 0;
    }
    crc = tpl_crc32_byte(crc, (unsigned char)c);
    for (;;) {
        int hi = tpl_port_getc();
        int lo;
        if (hi == '*' || hi == '\n' || hi == TPL_EOF) {
            c = hi;
            break;
        }
        crc = tpl_crc32_byte(crc, (unsigned char)hi);
        lo = tpl_port_getc();
        if (lo == '*' || lo == '\n' || lo == TPL_EOF) {
            bad_hex = 1; /* odd number of digits */
            c = lo;
            break;
        }
        crc = tpl_crc32_byte(crc, (unsigned char)lo);
        if (hex_value(hi) < 0 || hex_value(lo) < 0) {
            bad_hex = 1;
        } else if (n < TP_MODEL_INPUT_BYTES) {
            in[n] = (unsigned char)((hex_value(hi) << 4) | hex_value(lo));
        }
        n++;
    }
    if (c != '*') {
        if (skip_line(c) == TPL_EOF) {
            return TPL_EOF;
        }
        send_error("syntax", 0, 0);
        return 0;
    }
    for (;;) {
        int v;
        c = tpl_port_getc();
        if (c == '\r') {
            continue;
        }
        if (c == '\n' || c == TPL_EOF) {
            break;
        }
        v = hex_value(c);
        if (v < 0 || digits == 8) {
            digits = 99;
        } else {
            got_crc = (got_crc << 4) | (uint32_t)v;
            digits++;
        }
    }
    if (c == TPL_EOF) {
        return TPL_EOF;
    }
    if (digits != 8) {
        send_error("syntax", 0, 0);
        return 0;
    }
    if (got_crc != ~crc) {
        send_error("crc", got_crc, ~crc);
        return 0;
    }
    if (bad_hex) {
        send_error("hex", 0, 0);
        return 0;
    }
    if (n != TP_MODEL_INPUT_BYTES) {
        send_error("len", n, TP_MODEL_INPUT_BYTES);
        return 0;
    }

#ifdef TP_MODEL_RESET
    TP_MODEL_RESET(); /* every sample is a sequence of its own */
#endif
    tpl_profile_reset((uint32_t)seq);
    tpl_counter_start();
    status = TP_MODEL_INVOKE(tpl_input, tpl_output);
    ticks = tpl_counter_elapsed();
    if (status != 0) {
        send_error("invoke", (uint32_t)status, 0);
        return 0;
    }

    w_begin('O');
    w_char(' ');
    w_u64(seq);
    w_char(' ');
    w_hex_bytes((const unsigned char *)tpl_output, TP_MODEL_OUTPUT_BYTES);
    w_char(' ');
    w_u64(ticks);
    w_end();
    return 0;
}

int tpl_link_run(void)
{
    tpl_crc_init();
    tpl_profile_reset(0u);
    send_hello();
    for (;;) {
        int c = tpl_port_getc();
        if (c == TPL_EOF) {
            return 0;
        }
        if (c == '\n' || c == '\r' || c == ' ') {
            continue;
        }
        if (c == '?') {
            if (skip_line(c) == TPL_EOF) {
                return 0;
            }
            send_hello();
        } else if (c == 'P') {
            if (skip_line(c) == TPL_EOF) {
                return 0;
            }
            send_profile();
        } else if (c == 'I') {
            if (handle_infer() == TPL_EOF) {
                return 0;
            }
        } else {
            if (skip_line(c) == TPL_EOF) {
                return 0;
            }
            send_error("syntax", 0, 0);
        }
    }
}
