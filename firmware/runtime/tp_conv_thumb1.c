/* Thumb-1 (ARMv6-M: Cortex-M0/M0+) inner loops of CONV_2D.
 *
 * The core has 8 low registers that loads and MULS can use, no DSP extension and no
 * unaligned word loads. Both loops take one pixel times 4 output channels, the 4 accumulators
 * in r8-r11 (ADD accepts high registers). The products and their sum are the plain loop's
 * (every product is exact in 32 bits, the host bounds every partial sum), so the result is
 * the same integer.
 *
 * Int16-expanded weights (tp_conv_w16_s8's filter16 and the generated pointwise kernels'
 * blobs) come in the Thumb-1 order for this core (tinypipe/compiler/thumb1.py): per tap k the
 * words w[c0][k] + 2^16 w[c1][k] and w[c2][k] + 2^16 w[c3][k]. MULS of an input byte by a word
 * gives both channels' products, one per half; the sum of two taps' products has the low
 * channel's exact int16 sum in its low half (the weights are within +-127), which SXTH takes
 * out, and the rest shifted right by 16 is the high channel's sum:
 *   per 4 taps: 4 x (LDRB + SXTB) for the inputs, per channel pair and tap pair LDR, MULS, LDR,
 *   MULS, ADDS, SXTH, SUBS, ASRS and 2 ADD: 52 instructions per 16 MACs, where the compiled
 *   C loop took about 7 per MAC.
 *
 * tp_conv_s8's int8 filters (one channel's taps back to back) take a loop over one index
 * register: LDRSB with a register offset reads the input byte and each channel's weight at
 * the same index, so per tap 1 + 4 x (LDRSB, MULS, ADD) instructions, two taps per loop step.
 */
#include "tp_conv_thumb1.h"

#if defined(__ARM_ARCH_6M__)

#define TP_STR2(x) #x
#define TP_STR(x) TP_STR2(x)

/* What every function below starts and ends with: its own section (--gc-sections drops what
 * no layer calls), r4-r7 and lr pushed, and the moves between r4-r7 and r8-r11 (the
 * accumulators; PUSH and POP take low registers only, so r8-r11 are saved through r4-r7). */
#define TP_T1_ACC_TO_R4                                                                        \
    "  mov r4, r8\n"                                                                           \
    "  mov r5, r9\n"                                                                           \
    "  mov r6, r10\n"                                                                          \
    "  mov r7, r11\n"
#define TP_T1_R4_TO_ACC                                                                        \
    "  mov r8, r4\n"                                                                           \
    "  mov r9, r5\n"                                                                           \
    "  mov r10, r6\n"                                                                          \
    "  mov r11, r7\n"
#define TP_T1_BEGIN(NAME)                                                                      \
    "  .pushsection .text." #NAME ",\"ax\",%progbits\n"                                        \
    "  .syntax unified\n"                                                                      \
    "  .thumb\n"                                                                               \
    "  .balign 2\n"                                                                            \
    "  .global " #NAME "\n"                                                                    \
    "  .thumb_func\n"                                                                          \
    "  .type " #NAME ", %function\n"                                                           \
    #NAME ":\n"                                                                                \
    "  push {r4-r7, lr}\n"                                                                     \
    TP_T1_ACC_TO_R4
/* After the function's own POP has put the caller's r8-r11 into r4-r7. */
#define TP_T1_END(NAME)                                                                        \
    TP_T1_R4_TO_ACC                                                                            \
    "  pop {r4-r7, pc}\n"                                                                      \
    "  .size " #NAME ", . - " #NAME "\n"                                                       \
    "  .popsection\n"

/* Taps t and t + 1 of a run for one channel pair: r2, r3 hold their inputs, r1 the run's
 * words (the pair's word of tap t at OFF, of tap t + 1 at OFF + 8). */
#define TP_T1_PAIR(LO, HI, OFF)                                                                \
    "  ldr r4, [r1, #" TP_STR(OFF) "]\n"                                                        \
    "  muls r4, r2, r4\n"                                                                      \
    "  ldr r5, [r1, #" TP_STR(OFF) " + 8]\n"                                                    \
    "  muls r5, r3, r5\n"                                                                      \
    "  adds r4, r4, r5\n"                                                                      \
    "  sxth r5, r4\n"                                                                          \
    "  subs r4, r4, r5\n"                                                                      \
    "  asrs r4, r4, #16\n"                                                                     \
    "  add " LO ", r5\n"                                                                       \
    "  add " HI ", r4\n"

/* Taps t and t + 1 of a run: inputs x[t], x[t + 1], then both channel pairs. */
#define TP_T1_TAPS(T)                                                                          \
    "  ldrb r2, [r0, #" TP_STR(T) "]\n"                                                         \
    "  sxtb r2, r2\n"                                                                          \
    "  ldrb r3, [r0, #" TP_STR(T) " + 1]\n"                                                     \
    "  sxtb r3, r3\n"                                                                          \
    TP_T1_PAIR("r8", "r9", 8 * T)                                                              \
    TP_T1_PAIR("r10", "r11", 8 * T + 4)

/* const int32_t *tp_t1_dot1x4_w16(const int8_t *x, const int32_t *w, const int32_t *w_end,
 *                                 int32_t acc[4]): r8-r11 are callee-saved, kept on the stack
 * with acc. */
__asm__(TP_T1_BEGIN(tp_t1_dot1x4_w16)
        "  push {r3-r7}\n"
        "  mov r12, r2\n"
        "  ldm r3!, {r4-r7}\n"
        TP_T1_R4_TO_ACC
        "  cmp r1, r12\n"
        "  beq 2f\n"
        "1:\n"
        TP_T1_TAPS(0)
        TP_T1_TAPS(2)
        "  adds r0, r0, #4\n"
        "  adds r1, r1, #32\n"
        "  cmp r1, r12\n"
        "  bne 1b\n"
        "2:\n"
        "  ldr r3, [sp, #0]\n"
        TP_T1_ACC_TO_R4
        "  stm r3!, {r4-r7}\n"
        "  mov r0, r1\n"
        "  pop {r3-r7}\n"
        TP_T1_END(tp_t1_dot1x4_w16));

/* The loop over the runs [r1, END) for one pixel at r0 (labels L0 and L1, numeric); END is
 * r12 or r6 (the taps use r2-r5). */
#define TP_T1_RUNS(L, END)                                                                     \
    "  cmp r1, " END "\n"                                                                      \
    "  beq " #L "1f\n"                                                                         \
    #L "0:\n"                                                                                  \
    TP_T1_TAPS(0)                                                                              \
    TP_T1_TAPS(2)                                                                              \
    "  adds r0, r0, #4\n"                                                                      \
    "  adds r1, r1, #32\n"                                                                     \
    "  cmp r1, " END "\n"                                                                      \
    "  bne " #L "0b\n"                                                                         \
    #L "1:\n"

/* const int32_t *tp_t1_dot2x4_w16(const int8_t *x0, const int8_t *x1, const int32_t *w,
 *                                 const int32_t *w_end, int32_t acc[8]):
 * tp_t1_dot1x4_w16 for x0 into acc[0..3], then for x1 into acc[4..7], in one call (the
 * register saves once per pixel pair). Stack: x1, w, then the saved registers; acc above. */
__asm__(TP_T1_BEGIN(tp_t1_dot2x4_w16)
        "  push {r4-r7}\n"
        "  push {r1, r2}\n"
        "  mov r12, r3\n"
        "  ldr r7, [sp, #44]\n"
        "  ldm r7!, {r3-r6}\n"
        "  mov r8, r3\n"
        "  mov r9, r4\n"
        "  mov r10, r5\n"
        "  mov r11, r6\n"
        "  mov r1, r2\n"
        TP_T1_RUNS(3, "r12")
        "  ldr r7, [sp, #44]\n"
        "  mov r3, r8\n"
        "  mov r4, r9\n"
        "  mov r5, r10\n"
        "  mov r6, r11\n"
        "  stm r7!, {r3-r6}\n"
        "  ldm r7!, {r3-r6}\n"
        "  mov r8, r3\n"
        "  mov r9, r4\n"
        "  mov r10, r5\n"
        "  mov r11, r6\n"
        "  ldr r0, [sp, #0]\n"
        "  ldr r1, [sp, #4]\n"
        TP_T1_RUNS(4, "r12")
        "  ldr r7, [sp, #44]\n"
        "  adds r7, r7, #16\n"
        "  mov r3, r8\n"
        "  mov r4, r9\n"
        "  mov r5, r10\n"
        "  mov r6, r11\n"
        "  stm r7!, {r3-r6}\n"
        "  mov r0, r12\n"
        "  add sp, sp, #8\n"
        "  pop {r4-r7}\n"
        TP_T1_END(tp_t1_dot2x4_w16));

/* One output of tp_t1_pixels_w16: the accumulator ACC requantized with the 3 words at r1 + OFF
 * (tp_output_rq_s8: tp_mul_round_high_nonneg's steps, the rounding word, the shift), clamped
 * to [r12, lr], stored at r2 + C. The multiplier's halves come by LDRH; the sign of the
 * rounding term, -[acc < 0] * 2^15, is a_hi >> 15 << 15, and r0 holds its 2^14. */
#define TP_T1_REQUANT(ACC, OFF, C)                                                             \
    "  mov r4, " ACC "\n"                                                                      \
    "  asrs r3, r4, #16\n"                                                                     \
    "  uxth r4, r4\n"                                                                          \
    "  ldrh r5, [r1, #" TP_STR(OFF) "]\n"                                                       \
    "  ldrh r6, [r1, #" TP_STR(OFF) " + 2]\n"                                                   \
    "  movs r7, r4\n"                                                                          \
    "  muls r7, r5, r7\n"                                                                      \
    "  lsrs r7, r7, #16\n"                                                                     \
    "  muls r5, r3, r5\n"                                                                      \
    "  adds r5, r5, r7\n"                                                                      \
    "  uxth r7, r5\n"                                                                          \
    "  asrs r5, r5, #16\n"                                                                     \
    "  muls r4, r6, r4\n"                                                                      \
    "  adds r4, r4, r7\n"                                                                      \
    "  asrs r7, r3, #15\n"                                                                     \
    "  lsls r7, r7, #15\n"                                                                     \
    "  adds r4, r4, r7\n"                                                                      \
    "  adds r4, r4, r0\n"                                                                      \
    "  asrs r4, r4, #16\n"                                                                     \
    "  muls r6, r3, r6\n"                                                                      \
    "  adds r6, r6, r5\n"                                                                      \
    "  adds r6, r6, r4\n"                                                                      \
    "  ldr r7, [r1, #" TP_STR(OFF) " + 4]\n"                                                    \
    "  adds r6, r6, r7\n"                                                                      \
    "  ldr r7, [r1, #" TP_STR(OFF) " + 8]\n"                                                    \
    "  asrs r6, r6, r7\n"                                                                      \
    "  cmp r6, r12\n"                                                                          \
    "  bge 6f\n"                                                                               \
    "  mov r6, r12\n"                                                                          \
    "6:\n"                                                                                     \
    "  cmp r6, lr\n"                                                                           \
    "  ble 7f\n"                                                                               \
    "  mov r6, lr\n"                                                                           \
    "7:\n"                                                                                     \
    "  strb r6, [r2, #" TP_STR(C) "]\n"

/* TP_T1_REQUANT for records in the small-accumulator form (tp_common.h tp_rq_small_high):
 * three MULS on the multiplier's pieces (LDRH), r0 holding the rounding term's 2^19. */
#define TP_T1_REQUANT_SMALL(ACC, OFF, C)                                                       \
    "  mov r4, " ACC "\n"                                                                      \
    "  ldrh r5, [r1, #" TP_STR(OFF) "]\n"                                                       \
    "  muls r5, r4, r5\n"                                                                      \
    "  asrs r5, r5, #11\n"                                                                     \
    "  ldrh r6, [r1, #" TP_STR(OFF) " + 2]\n"                                                   \
    "  muls r6, r4, r6\n"                                                                      \
    "  adds r6, r6, r5\n"                                                                      \
    "  asrs r5, r4, #31\n"                                                                     \
    "  lsls r5, r5, #20\n"                                                                     \
    "  adds r6, r6, r5\n"                                                                      \
    "  adds r6, r6, r0\n"                                                                      \
    "  asrs r6, r6, #11\n"                                                                     \
    "  ldrh r5, [r1, #" TP_STR(OFF) " + 10]\n"                                                  \
    "  muls r5, r4, r5\n"                                                                      \
    "  adds r5, r5, r6\n"                                                                      \
    "  asrs r5, r5, #10\n"                                                                     \
    "  ldr r7, [r1, #" TP_STR(OFF) " + 4]\n"                                                    \
    "  adds r5, r5, r7\n"                                                                      \
    "  ldr r7, [r1, #" TP_STR(OFF) " + 8]\n"                                                    \
    "  asrs r5, r5, r7\n" /* by the low byte: r - 1 */                                         \
    "  cmp r5, r12\n"                                                                          \
    "  bge 6f\n"                                                                               \
    "  mov r5, r12\n"                                                                          \
    "6:\n"                                                                                     \
    "  cmp r5, lr\n"                                                                           \
    "  ble 7f\n"                                                                               \
    "  mov r5, lr\n"                                                                           \
    "7:\n"                                                                                     \
    "  strb r5, [r2, #" TP_STR(C) "]\n"

/* void NAME(int32_t pixels, const int8_t *x, int8_t *out, const tp_t1_w16_layer *layer):
 * per pixel (pixels >= 1, x advancing by layer->x_step) every block of 4 output channels of a
 * generated pointwise blob (bias, weights in the Thumb-1 order, then the 12 requantization
 * words): the bias straight into r8-r11, the runs as tp_t1_dot1x4_w16, each output
 * requantized by REQUANT (r0 = 2^ROUND) and clamped as tp_output_rq_s8 does, the clamp bounds
 * in r12 and lr throughout. Stack: pixels left, x, out, blob, blob_end, weight_bytes, x_step,
 * the saved registers. */
#define TP_T1_PIXELS(NAME, ROUND, REQUANT)                                                     \
    __asm__(TP_T1_BEGIN(NAME)                                                                  \
            "  push {r4-r7}\n"                                                                 \
            "  ldr r4, [r3, #16]\n"                                                            \
            "  mov r12, r4\n"                                                                  \
            "  ldr r4, [r3, #20]\n"                                                            \
            "  mov lr, r4\n"                                                                   \
            "  ldm r3!, {r4-r7}\n"                                                             \
            "  push {r0-r2, r4-r7}\n"                                                          \
            "2:\n"                                                                             \
            "  ldr r1, [sp, #12]\n"                                                            \
            "1:\n"                                                                             \
            "  ldr r0, [sp, #4]\n"                                                             \
            "  ldm r1!, {r4-r7}\n"                                                             \
            TP_T1_R4_TO_ACC                                                                    \
            "  ldr r6, [sp, #20]\n"                                                            \
            "  adds r6, r6, r1\n"                                                              \
            TP_T1_RUNS(5, "r6")                                                                \
            "  ldr r2, [sp, #8]\n"                                                             \
            "  movs r0, #1\n"                                                                  \
            "  lsls r0, r0, #" #ROUND "\n"                                                     \
            REQUANT("r8", 0, 0)                                                                \
            REQUANT("r9", 12, 1)                                                               \
            REQUANT("r10", 24, 2)                                                              \
            REQUANT("r11", 36, 3)                                                              \
            "  adds r2, r2, #4\n"                                                              \
            "  str r2, [sp, #8]\n"                                                             \
            "  adds r1, r1, #48\n"                                                             \
            "  ldr r3, [sp, #16]\n"                                                            \
            "  cmp r1, r3\n"                                                                   \
            "  beq 3f\n" /* B reaches back over the block, a conditional branch does not */    \
            "  b 1b\n"                                                                         \
            "3:\n"                                                                             \
            "  ldr r0, [sp, #4]\n"                                                             \
            "  ldr r3, [sp, #24]\n"                                                            \
            "  adds r0, r0, r3\n"                                                              \
            "  str r0, [sp, #4]\n"                                                             \
            "  ldr r0, [sp, #0]\n"                                                             \
            "  subs r0, r0, #1\n"                                                              \
            "  str r0, [sp, #0]\n"                                                             \
            "  beq 4f\n"                                                                       \
            "  b 2b\n"                                                                         \
            "4:\n"                                                                             \
            "  add sp, sp, #28\n"                                                              \
            "  pop {r4-r7}\n"                                                                  \
            TP_T1_END(NAME))

TP_T1_PIXELS(tp_t1_pixels_w16, 14, TP_T1_REQUANT);
TP_T1_PIXELS(tp_t1_pixels_w16_small, 19, TP_T1_REQUANT_SMALL);

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
__asm__(TP_T1_BEGIN(tp_t1_dot1x4_s8)
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
        TP_T1_END(tp_t1_dot1x4_s8));

#endif
