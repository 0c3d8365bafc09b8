/* tpl_host.c - the `host` board: the console is stdin/stdout, the counter is
 * CLOCK_MONOTONIC in nanoseconds (wall clock, not instructions). */
#define _POSIX_C_SOURCE 199309L

#include <stdio.h>
#include <time.h>

#include "tpl_port.h"

void tpl_port_init(void)
{
}

int tpl_port_getc(void)
{
    int c = getchar();
    return c == EOF ? -1 : c;
}

void tpl_port_write(const char *buf, size_t len)
{
    (void)fwrite(buf, 1, len, stdout);
}

void tpl_port_flush(void)
{
    (void)fflush(stdout);
}

static uint64_t tpl_host_start;

static uint64_t tpl_host_now(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void tpl_counter_start(void)
{
    tpl_host_start = tpl_host_now();
}

uint64_t tpl_counter_elapsed(void)
{
    return tpl_host_now() - tpl_host_start;
}

uint32_t tpl_counter_hz(void)
{
    return 1000000000u;
}

const char *tpl_counter_name(void)
{
    return "ns";
}
