/*
 * tpl_systick.c - the per-inference counter on Cortex-M: SysTick clocked by the
 * core clock, counting down from 2^24-1, extended to 64 bits by its interrupt,
 * restarted at the start of every measurement.
 *
 * On hardware one tick is one core clock cycle. Under QEMU with -icount shift=0
 * one instruction takes 1 ns of virtual time, so one tick is 1e9/TPL_CPU_HZ
 * instructions (40 on mps2 at 25 MHz); the host side does that conversion.
 */
#include "tpl_cortexm.h"
#include "tpl_port.h"

#ifndef TPL_CPU_HZ
#error "TPL_CPU_HZ (the SysTick clock in Hz) must be defined by the build"
#endif

#define TPL_SYST_RELOAD 0x00FFFFFFu

static volatile uint32_t tpl_systick_wraps;

void SysTick_Handler(void);

void SysTick_Handler(void)
{
    tpl_systick_wraps++;
}

void tpl_systick_init(void)
{
    TPL_SYST_CSR = 0u;
    TPL_SYST_RVR = TPL_SYST_RELOAD;
    TPL_SYST_CVR = 0u;
    TPL_SYST_CSR = 7u; /* ENABLE | TICKINT | CLKSOURCE = core clock */
}

void tpl_counter_start(void)
{
    __asm__ volatile("" ::: "memory");
    TPL_SYST_CVR = 0u; /* restart: reloads on the next tick, so every run has the same phase */
    TPL_SCB_ICSR = TPL_ICSR_PENDSTCLR;
    tpl_systick_wraps = 0u;
    __asm__ volatile("" ::: "memory");
}

uint64_t tpl_counter_elapsed(void)
{
    uint32_t before;
    uint32_t after;
    uint32_t value;
    uint32_t pending;
    __asm__ volatile("" ::: "memory");
    do {
        before = tpl_systick_wraps;
        value = TPL_SYST_CVR;
        pending = TPL_SCB_ICSR & TPL_ICSR_PENDSTSET;
        after = tpl_systick_wraps;
    } while (before != after);
    __asm__ volatile("" ::: "memory");
    /* Wrapped before `value` was read but the interrupt is not taken yet. */
    if (pending != 0u && value > (TPL_SYST_RELOAD >> 1)) {
        before++;
    }
    /* After the restart the counter runs RELOAD..0 and wraps to RELOAD: 2^24 ticks a lap. */
    return ((uint64_t)before << 24) + (uint64_t)(TPL_SYST_RELOAD - value);
}

uint32_t tpl_counter_hz(void)
{
    return (uint32_t)TPL_CPU_HZ;
}

const char *tpl_counter_name(void)
{
    return "systick";
}
