/*
 * tpl_uart_cmsdk.c - console on the Arm CMSDK APB UART0 of the MPS2 boards
 * (base 0x40004000; QEMU connects it to the first -serial).
 */
#include "tpl_cortexm.h"
#include "tpl_port.h"

#ifndef UART_BASE /* the MPS2 boards; other CMSDK boards define their own */
#define UART_BASE 0x40004000u
#endif
#define UART_DATA TPL_REG(UART_BASE + 0x00u)
#define UART_STATE TPL_REG(UART_BASE + 0x04u)
#define UART_CTRL TPL_REG(UART_BASE + 0x08u)
#define UART_BAUDDIV TPL_REG(UART_BASE + 0x10u)

#define STATE_TX_FULL (1u << 0)
#define STATE_RX_FULL (1u << 1)
#define CTRL_TX_EN (1u << 0)
#define CTRL_RX_EN (1u << 1)

#ifndef TPL_BAUD
#define TPL_BAUD 115200u
#endif

void tpl_port_init(void)
{
    UART_BAUDDIV = (uint32_t)(TPL_CPU_HZ / TPL_BAUD);
    UART_CTRL = CTRL_TX_EN | CTRL_RX_EN;
    tpl_systick_init();
}

int tpl_port_getc(void)
{
    while ((UART_STATE & STATE_RX_FULL) == 0u) {
    }
    return (int)(UART_DATA & 0xFFu);
}

void tpl_port_write(const char *buf, size_t len)
{
    size_t i;
    for (i = 0; i < len; i++) {
        while ((UART_STATE & STATE_TX_FULL) != 0u) {
        }
        UART_DATA = (uint32_t)(unsigned char)buf[i];
    }
}

void tpl_port_flush(void)
{
}
