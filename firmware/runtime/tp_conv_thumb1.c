/* Thumb-1 (ARMv6-M: Cortex-M0/M0+) inner loops of CONV_2D on int16-expanded weights.
 *
 * The core has 8 low registers that loads and MULS can use, no DSP extension and no
 * unaligned word loads. The loop of one pixel times 4 output channels keeps the 4
 * accumulators in r8-r11 (ADD accepts high registers), the 4 input bytes of a run of 4 taps
 * and the weight temporaries in low registers:
 *   per run: 4 x (LDRB + SXTB) for the inputs, then per channel 2 LDR of its int16 weight pairs,
 *   SXTH and ASR #16 to split each pair, 4 MULS and 4 ADD: 68 instructions per 16 MACs, the
 *   compiled C loop takes about 7 per MAC.
 * The products and their sum are the plain loop's (every int8 x int16 product is exact in 32
 * bits, the host bounds every partial sum), so the result is the same integer.
 *
 * Two weight orders share the loop, as offsets of each channel's two words in a 32-byte run:
 *   tp_conv_w16_s8 (tp_conv.h): channel c at 8c: (w[k], w[k+2]), then (w[k+1], w[k+3]);
 *   the generated pointwise kernels' blob (pointwise.py): channel c at 4c: (w[k], w[k+2]),
 *   and at 16 + 4c: (w[k+1], w[k+3]).
 *
 * tp_conv_s8's int8 filters (one channel's taps back to back) take a loop over one index
 * register: LDRSB with a register offset reads the input byte and each channel's weight at
 * the same index, so per tap 1 + 4 x (LDRSB, MULS, ADD) instructions, two taps per loop step.
 */
#include "tp_conv_thumb1.h"

#if defined(__ARM_ARCH_6M__)

#define TP_STR2(x) #x
#define TP_STR(x) TP_STR2(x)

/* One channel of a run: r2-r5 hold x[k..k+3], r1 the run's weights, ACC the accumulator. */
#define TP_T1_CHANNEL(ACC, OFF_EVEN, OFF_ODD)                                                   \
    "  ldr r6, [r1, #" TP_STR(OFF_EVEN) "]\n"                                                   \
    "  sxth r7, r6\n"                                                                          \
    "  muls r7, r2, r7\n"                                                                      \
    "  add " ACC ", r7\n"                                                                      \
    "  asrs r6, r6, #16\n"                                                                     \
    "  muls r6, r4, r6\n"                                                                      \
    "  add " ACC ", r6\n"                                                                      \
    "  ldr r6, [r1, #" TP_STR(OFF_ODD) "]\n"                                                    \
    "  sxth r7, r6\n"                                                                          \
    "  muls r7, r3, r7\n"                                                                      \
    "  add " ACC ", r7\n"                                                                      \
    "  asrs r6, r6, #16\n"                                                                     \
    "  muls r6, r5, r6\n"                                                                      \
    "  add " ACC ", r6\n"

/* const int32_t *NAME(const int8_t *x, const int32_t *w, const int32_t *w_end, int32_t acc[4]):
 * acc[c] += the dot products of x with channel c's weights over the runs [w, w_end); returns
 * w_end. r8-r11 are callee-saved: kept on the stack with acc. */
#define TP_T1_DOT1X4(NAME, E0, O0, E1, O1, E2, O2, E3, O3)                                      \
    __asm__("  .pushsection .text." #NAME ",\"ax\",%progbits\n"                               \
            "  .syntax unified\n"                                                              \
            "  .thumb\n"                                                                       \
            "  .balign 2\n"                                                                    \
            "  .global " #NAME "\n"                                                            \
            "  .thumb_func\n"                                                                  \
            "  .type " #NAME ", %function\n"                                                   \
            #NAME ":\n"                                                                        \
            "  push {r4-r7, lr}\n"                                                             \
            "  mov r4, r8\n"                                                                   \
            "  mov r5, r9\n"                                                                   \
            "  mov r6, r10\n"                                                                  \
            "  mov r7, r11\n"                                                                  \
            "  push {r3-r7}\n"                                                                 \
            "  mov r12, r2\n"                                                                  \
            "  ldm r3!, {r4-r7}\n"                                                             \
            "  mov r8, r4\n"                                                                   \
            "  mov r9, r5\n"                                                                   \
            "  mov r10, r6\n"                                                                  \
            "  mov r11, r7\n"                                                                  \
            "  cmp r1, r12\n"                                                                  \
            "  beq 2f\n"                                                                       \
            "1:\n"                                                                             \
            "  ldrb r2, [r0, #0]\n"                                                            \
            "  sxtb r2, r2\n"                                                                  \
            "  ldrb r3, [r0, #1]\n"                                                            \
            "  sxtb r3, r3\n"                                                                  \
            "  ldrb r4, [r0, #2]\n"                                                            \
            "  sxtb r4, r4\n"                                                                  \
            "  ldrb r5, [r0, #3]\n"                                                            \
            "  sxtb r5, r5\n"                                                                  \
            "  adds r0, r0, #4\n"                                                              \
            TP_T1_CHANNEL("r8", E0, O0)                                                        \
            TP_T1_CHANNEL("r9", E1, O1)                                                        \
            TP_T1_CHANNEL("r10", E2, O2)                                                       \
            TP_T1_CHANNEL("r11", E3, O3)                                                       \
            "  adds r1, r1, #32\n"                                                             \
            "  cmp r1, r12\n"                                                                  \
            "  bne 1b\n"                                                                       \
            "2:\n"                                                                             \
            "  ldr r3, [sp, #0]\n"                                                             \
            "  mov r4, r8\n"                                                                   \
            "  mov r5, r9\n"                                                                   \
            "  mov r6, r10\n"                                                                  \
            "  mov r7, r11\n"                                                                  \
            "  stm r3!, {r4-r7}\n"                                                             \
            "  mov r0, r1\n"                                                                   \
            "  pop {r3-r7}\n"                                                                  \
            "  mov r8, r4\n"                                                                   \
            "  mov r9, r5\n"                                                                   \
            "  mov r10, r6\n"                                                                  \
            "  mov r11, r7\n"                                                                  \
            "  pop {r4-r7, pc}\n"                                                              \
            "  .size " #NAME ", . - " #NAME "\n"                                               \
            "  .popsection\n")

TP_T1_DOT1X4(tp_t1_dot1x4_w16_conv, 0, 4, 8, 12, 16, 20, 24, 28);
TP_T1_DOT1X4(tp_t1_dot1x4_w16_pointwise, 0, 16, 4, 20, 8, 24, 12, 28);

/* One tap at index r5 of tp_t1_dot1x4_s8: input byte at r0, channel c's weight at r1-r4. */
#define TP_T1_TAP_S8                                                                           \
    "  ldrsb r6, [r0, r5]\n"                                                                   \
    "  ldrsb r7, [r1, r5]\n"                                                                   \
    "  muls r7, r6, r7\n"                                                                      \
    "  add r8, r7\n"                                                                           \
    "  ldrsb r7, [r2, r5]\n"                                                                   \
    "  muls r7, r6, r7\n"                                                                      \
    "  add r9, r7\n"                                                                           \
    "  ldrsb r7, [r3, r5]\n"                                                                   \
    "  muls r7, r6, r7\n"                                                                      \
    "  add r10, r7\n"                                                                          \
    "  ldrsb r7, [r4, r5]\n"                                                                   \
    "  muls r7, r6, r7\n"                                                                      \
    "  add r11, r7\n"                                                                          \
    "  adds r5, r5, #1\n"

/* void tp_t1_dot1x4_s8(const int8_t *x, const int8_t *w, int32_t stride, int32_t n,
 *                      int32_t acc[4]): r0 x, r1 w, r2 stride, r3 n, acc on the stack. An odd
 * first tap is taken alone, then two per loop step. */
__asm__("  .pushsection .text.tp_t1_dot1x4_s8,\"ax\",%progbits\n"
        "  .syntax unified\n"
        "  .thumb\n"
        "  .balign 2\n"
        "  .global tp_t1_dot1x4_s8\n"
        "  .thumb_func\n"
        "  .type tp_t1_dot1x4_s8, %function\n"
        "tp_t1_dot1x4_s8:\n"
        "  push {r4-r7, lr}\n"
        "  mov r4, r8\n"
        "  mov r5, r9\n"
        "  mov r6, r10\n"
        "  mov r7, r11\n"
        "  push {r4-r7}\n"
        "  mov r12, r3\n"
        "  ldr r7, [sp, #36]\n"
        "  ldm r7!, {r3-r6}\n"
        "  mov r8, r3\n"
        "  mov r9, r4\n"
        "  mov r10, r5\n"
        "  mov r11, r6\n"
        "  adds r3, r2, r2\n"
        "  adds r4, r3, r2\n"
        "  adds r2, r1, r2\n"
        "  adds r3, r1, r3\n"
        "  adds r4, r1, r4\n"
        "  movs r5, #0\n"
        "  mov r6, r12\n"
        "  lsrs r6, r6, #1\n"
        "  bcc 1f\n"
        TP_T1_TAP_S8
        "1:\n"
        "  cmp r5, r12\n"
        "  beq 2f\n"
        "3:\n"
        TP_T1_TAP_S8
        TP_T1_TAP_S8
        "  cmp r5, r12\n"
        "  bne 3b\n"
        "2:\n"
        "  ldr r7, [sp, #36]\n"
        "  mov r3, r8\n"
        "  mov r4, r9\n"
        "  mov r5, r10\n"
        "  mov r6, r11\n"
        "  stm r7!, {r3-r6}\n"
        "  pop {r4-r7}\n"
        "  mov r8, r4\n"
        "  mov r9, r5\n"
        "  mov r10, r6\n"
        "  mov r11, r7\n"
        "  pop {r4-r7, pc}\n"
        "  .size tp_t1_dot1x4_s8, . - tp_t1_dot1x4_s8\n"
        "  .popsection\n");

#endif
