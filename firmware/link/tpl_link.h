/*
 * tpl_link.h - the device side of the tinypipe host<->device link.
 *
 * Protocol: one ASCII line per message, each ending in "*" + the CRC-32 (IEEE,
 * as zlib.crc32) of every byte before the "*", as 8 lower-case hex digits:
 *
 *   host -> device   "?"                          ask for the hello line again
 *                    "I <seq> <hex input>*<crc>"  run one inference (seq: decimal, < 2^32)
 *   device -> host   "H tinypipe-link v=1 model=.. board=.. in=N out=N it=i8 ot=i8
 *                       arena=N counter=systick hz=N*<crc>"   at boot and on "?"
 *                    "O <seq> <hex output> <count>*<crc>"   count: counter ticks
 *                    "E <code> <a> <b>*<crc>"  a rejected line: syntax 0 0, crc <got> <computed>,
 *                       hex 0 0, len <got> <expected>, invoke <status> 0
 *
 * The input is decoded while it streams in, so no line buffer is needed.
 */
#ifndef TPL_LINK_H
#define TPL_LINK_H

#include <stdint.h>

/* CRC-32 (reflected, polynomial 0xEDB88320) of one more byte; start from
 * 0xFFFFFFFF and complement the final value. */
uint32_t tpl_crc32_byte(uint32_t crc, unsigned char byte);

/* Serve the link until the console input ends (never returns on a device). */
int tpl_link_run(void);

#endif /* TPL_LINK_H */
