/*
 * tpl_usart_stm32f4.c - console on USART1 of an STM32F405 (TX PA9, RX PA10,
 * 115200 8N1), clocked from the 16 MHz HSI that runs the chip after reset.
 *
 * On a real board wire a 3.3 V USB-serial adapter to PA9/PA10. QEMU's
 * netduinoplus2 connects USART1 to the first -serial (it ignores RCC/GPIO).
 */
#include "tpl_cortexm.h"
#include "tpl_port.h"

#define RCC_AHB1ENR TPL_REG(0x40023830u)
#define RCC_APB2ENR TPL_REG(0x40023844u)
#define GPIOA_MODER TPL_REG(0x40020000u)
#define GPIOA_AFRH TPL_REG(0x40020024u)

#define USART1_BASE 0x40011000u
#define USART_SR TPL_REG(USART1_BASE + 0x00u)
#define USART_DR TPL_REG(USART1_BASE + 0x04u)
#define USART_BRR TPL_REG(USART1_BASE + 0x08u)
#define USART_CR1 TPL_REG(USART1_BASE + 0x0Cu)

#define SR_RXNE (1u << 5)
#define SR_TXE (1u << 7)
#define SR_TC (1u << 6)
#define CR1_UE (1u << 13)
#define CR1_TE (1u << 3)
#define CR1_RE (1u << 2)

#ifndef TPL_BAUD
#define TPL_BAUD 115200u
#endif

void tpl_port_init(void)
{
    RCC_AHB1ENR |= 1u << 0;  /* GPIOA clock */
    RCC_APB2ENR |= 1u << 4;  /* USART1 clock */
    (void)RCC_APB2ENR;       /* let the clock settle before touching the peripheral */
    GPIOA_MODER = (GPIOA_MODER & ~(0xFu << 18)) | (0xAu << 18); /* PA9, PA10: alternate */
    GPIOA_AFRH = (GPIOA_AFRH & ~(0xFFu << 4)) | (0x77u << 4);  /* AF7 = USART1 */
    /* 16x oversampling: BRR = f / baud, rounded (mantissa.fraction in 1/16). */
    USART_BRR = (uint32_t)((TPL_CPU_HZ + TPL_BAUD / 2u) / TPL_BAUD);
    USART_CR1 = CR1_UE | CR1_TE | CR1_RE;
    tpl_systick_init();
}

int tpl_port_getc(void)
{
    uint32_t sr;
    do {
        sr = USART_SR; /* reading SR then DR also clears an overrun */
    } while ((sr & SR_RXNE) == 0u);
    return (int)(USART_DR & 0xFFu);
}

void tpl_port_write(const char *buf, size_t len)
{
    size_t i;
    for (i = 0; i < len; i++) {
        while ((USART_SR & SR_TXE) == 0u) {
        }
        USART_DR = (uint32_t)(unsigned char)buf[i];
    }
}

void tpl_port_flush(void)
{
    while ((USART_SR & SR_TC) == 0u) {
    }
}
