/*
 * tpl_semihosting.c - console over Arm semihosting (SYS_READC / SYS_WRITE0), the
 * fallback for a board whose UART is not wired up. Needs a debugger or QEMU
 * with -chardev stdio,id=con -semihosting-config enable=on,target=native,chardev=con
 * (tinypipe's runners do this for `board_build.tinypipe.port = tpl_semihosting.c`);
 * on a bare board with no
 * debugger attached the BKPT instruction faults, so prefer the UART ports.
 */
#include "tpl_cortexm.h"
#include "tpl_port.h"

#define SYS_WRITE0 0x04
#define SYS_READC 0x07

static int tpl_semihost(int op, const void *arg)
{
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

static char tpl_sh_buf[65];
static size_t tpl_sh_len;

void tpl_port_init(void)
{
    tpl_systick_init();
}

int tpl_port_getc(void)
{
    int c;
    do { /* QEMU may hand out a NUL before the first real byte; the link is ASCII */
        c = tpl_semihost(SYS_READC, 0) & 0xFF;
    } while (c == 0);
    return c;
}

void tpl_port_flush(void)
{
    if (tpl_sh_len != 0u) {
        tpl_sh_buf[tpl_sh_len] = '\0';
        (void)tpl_semihost(SYS_WRITE0, tpl_sh_buf);
        tpl_sh_len = 0;
    }
}

void tpl_port_write(const char *buf, size_t len)
{
    size_t i;
    for (i = 0; i < len; i++) {
        tpl_sh_buf[tpl_sh_len++] = buf[i];
        if (tpl_sh_len == sizeof tpl_sh_buf - 1u) {
            tpl_port_flush();
        }
    }
}
