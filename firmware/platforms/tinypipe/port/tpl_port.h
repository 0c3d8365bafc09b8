/*
 * tpl_port.h - what the device link needs from a board: a byte console and a counter.
 *
 * Each board of the tinypipe PlatformIO platform implements this small API in
 * the port sources (host: stdin/stdout + clock_gettime; Cortex-M: a UART + SysTick).
 * The protocol itself (firmware/link/tpl_link.c) is portable C99 on top of it.
 */
#ifndef TPL_PORT_H
#define TPL_PORT_H

#include <stddef.h>
#include <stdint.h>

/* Bring up the console and the counter. Called once, first thing in main(). */
void tpl_port_init(void);

/* Block until one byte arrives on the console; return it (0..255), or -1 when
 * the input has ended for good (host stdin closed). */
int tpl_port_getc(void);

/* Send `len` bytes on the console (blocking). */
void tpl_port_write(const char *buf, size_t len);

/* Push out whatever tpl_port_write buffered. */
void tpl_port_flush(void);

/* The per-inference counter: tpl_counter_start() restarts it from zero (so its phase
 * is the same for every inference), tpl_counter_elapsed() returns the ticks since then
 * (64 bits: never wraps in practice). One tick is one period of a tpl_counter_hz() clock. */
void tpl_counter_start(void);
uint64_t tpl_counter_elapsed(void);
uint32_t tpl_counter_hz(void);
const char *tpl_counter_name(void); /* "systick" (core clock ticks), "ns" (host) */

#endif /* TPL_PORT_H */
