/*
 * tpl_uart_nrf51.c - console on the UART0 of an nRF51822 (micro:bit: TX P0.24,
 * RX P0.25, routed to the USB interface chip), 115200 8N1.
 */
#include "tpl_cortexm.h"
#include "tpl_port.h"

#define UART_BASE 0x40002000u
#define UART_TASKS_STARTRX TPL_REG(UART_BASE + 0x000u)
#define UART_TASKS_STARTTX TPL_REG(UART_BASE + 0x008u)
#define UART_EVENTS_RXDRDY TPL_REG(UART_BASE + 0x108u)
#define UART_EVENTS_TXDRDY TPL_REG(UART_BASE + 0x11Cu)
#define UART_ENABLE TPL_REG(UART_BASE + 0x500u)
#define UART_PSELTXD TPL_REG(UART_BASE + 0x50Cu)
#define UART_PSELRXD TPL_REG(UART_BASE + 0x514u)
#define UART_RXD TPL_REG(UART_BASE + 0x518u)
#define UART_TXD TPL_REG(UART_BASE + 0x51Cu)
#define UART_BAUDRATE TPL_REG(UART_BASE + 0x524u)

#define BAUDRATE_115200 0x01D7E000u

#ifndef TPL_UART_TX_PIN
#define TPL_UART_TX_PIN 24u
#endif
#ifndef TPL_UART_RX_PIN
#define TPL_UART_RX_PIN 25u
#endif

void tpl_port_init(void)
{
    UART_PSELTXD = TPL_UART_TX_PIN;
    UART_PSELRXD = TPL_UART_RX_PIN;
    UART_BAUDRATE = BAUDRATE_115200;
    UART_ENABLE = 4u;
    UART_EVENTS_RXDRDY = 0u;
    UART_EVENTS_TXDRDY = 0u;
    UART_TASKS_STARTRX = 1u;
    UART_TASKS_STARTTX = 1u;
    tpl_systick_init();
}

int tpl_port_getc(void)
{
    while (UART_EVENTS_RXDRDY == 0u) {
    }
    UART_EVENTS_RXDRDY = 0u;
    return (int)(UART_RXD & 0xFFu);
}

void tpl_port_write(const char *buf, size_t len)
{
    size_t i;
    for (i = 0; i < len; i++) {
        UART_EVENTS_TXDRDY = 0u;
        UART_TXD = (uint32_t)(unsigned char)buf[i];
        while (UART_EVENTS_TXDRDY == 0u) {
        }
    }
}

void tpl_port_flush(void)
{
}
