/*
 * tpl_uart_cmsdk_an547.c - console on the CMSDK APB UART0 of the MPS3 AN547
 * (non-secure alias 0x49303000; QEMU connects it to the first -serial).
 * Same UART as the MPS2 boards, at another address.
 */
#define UART_BASE 0x49303000u
#include "tpl_uart_cmsdk.c"
