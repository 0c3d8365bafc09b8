/* tpl_cortexm.h - the few Cortex-M core registers the ports touch (ARMv6-M and ARMv7-M). */
#ifndef TPL_CORTEXM_H
#define TPL_CORTEXM_H

#include <stdint.h>

#define TPL_REG(addr) (*(volatile uint32_t *)(addr))

/* SysTick (all Cortex-M cores here; on a real nRF51 it is absent and reads 0). */
#define TPL_SYST_CSR TPL_REG(0xE000E010u)
#define TPL_SYST_RVR TPL_REG(0xE000E014u)
#define TPL_SYST_CVR TPL_REG(0xE000E018u)
#define TPL_SCB_ICSR TPL_REG(0xE000ED04u)
#define TPL_ICSR_PENDSTSET (1u << 26)
#define TPL_ICSR_PENDSTCLR (1u << 25)

/* Start the 64-bit core-clock tick counter (tpl_systick.c); called by each port's init. */
void tpl_systick_init(void);

#endif /* TPL_CORTEXM_H */
