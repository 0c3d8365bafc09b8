/*
 * tpl_link.h - the device side of the tinypipe host<->device link.
 *
 * Protocol: one ASCII line per message, each ending in "*" + the CRC-32 (IEEE,
 * as zlib.crc32) of every byte before the "*", as 8 lower-case hex digits:
 *
 *   host -> device   "?"                          ask for the hello line again
 *                    "I <seq> <hex input>*<crc>"  run one inference (seq: decimal, < 2^32)
 *                    "P"                          ask for the per-layer profile of the last inference
 *   device -> host   "H tinypipe-link v=1 model=.. board=.. in=N out=N it=i8 ot=i8
 *                       arena=N counter=systick hz=N*<crc>"   at boot and on "?"
 *                    "O <seq> <hex output> <count>*<crc>"   count: counter ticks
 *                    "E <code> <a> <b>*<crc>"  a rejected line: syntax 0 0, crc <got> <computed>,
 *                       hex 0 0, len <got> <expected>, invoke <status> 0
 *                    "P <seq> <n> <t0> <t1> ... <tn-1>*<crc>"   on "P": the per-layer profile of
 *                       the last inference (seq as in its "I" line, 0 before the first): n is the
 *                       model's operator count (TP_MODEL_NUM_OPS) and ti the counter ticks from the
 *                       start of that inference to the end of operator i's kernel (cumulative, so
 *                       operator i took ti minus the previous recorded t), or "-" for an operator
 *                       that made no call (a shape-only op sharing its input's memory, or a model
 *                       built without TP_PROFILE).
 *
 * Profiling: the firmware builds the model with -DTP_PROFILE, so the model calls tp_profile(i)
 * after each kernel, inside the measured window. That adds a few instructions per operator
 * (a call, one counter read and a store: about 30 instructions on a Cortex-M4, under one tick
 * of 40 under QEMU on mps2) to both the per-layer and the whole-inference counts; RAM: 8 bytes
 * per operator.
 *
 * The input is decoded while it streams in, so no line buffer is needed.
 */
#ifndef TPL_LINK_H
#define TPL_LINK_H

#include <stdint.h>

/* CRC-32 (reflected, polynomial 0xEDB88320) of one more byte; start from
 * 0xFFFFFFFF and complement the final value. */
uint32_t tpl_crc32_byte(uint32_t crc, unsigned char byte);

/* Record the counter at the end of operator `op_index` of the running inference (the
 * model's TP_PROFILE hook; out-of-range indices are ignored). */
void tp_profile(int op_index);

/* Serve the link until the console input ends (never returns on a device). */
int tpl_link_run(void);

#endif /* TPL_LINK_H */
