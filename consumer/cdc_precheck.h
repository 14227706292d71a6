/**
 * @file cdc_precheck.h
 * @brief Caps checked on a message value BEFORE it is parsed, so that one
 *        hostile or extreme message cannot make the consumer hold many
 *        times its size in memory (jansson keeps a node, a hash entry and
 *        a copy of every key and string: a 1 MB event of 100k columns
 *        takes ~11 MB parsed).
 *
 * Two caps, both configurable (event.max.bytes, event.max.columns):
 *  - the value's size in bytes;
 *  - the number of columns of a row image (members of any object nested
 *    one level inside the envelope: `before`, `after`, `source`), and,
 *    so that arrays or deep nesting cannot get around it, the number of
 *    JSON values in the whole message (at most what an envelope with two
 *    row images of event.max.columns columns holds, plus slack).
 *
 * A message over a cap is poison: it is dead-lettered with the reason,
 * never parsed. The scan is one pass without allocation and is skipped
 * for values too short to exceed either cap (every event the bundled
 * tables produce), so the common case costs nothing.
 */
#ifndef CDC_PRECHECK_H
#define CDC_PRECHECK_H

#include <stddef.h>
#include "cdc_err.h"

/** JSON values allowed per column cap: two row images of max_columns
 *  members, each a key and a value, plus the envelope and its source. */
#define CDC_PRECHECK_VALUES(max_columns) (4 * (size_t)(max_columns) + 256)

/**
 * @brief Check a message value against the caps.
 * @param buf the value (untrusted; need not be valid JSON or UTF-8).
 * @param max_bytes largest value accepted.
 * @param max_columns largest row image accepted (columns).
 * @returns CDC_ERR_NO_ERROR, or CDC_ERR__BAD_EVENT with the reason (which
 *          cap, the value found and the limit) in \p errstr.
 * @locality any thread (pure function)
 */
cdc_err_t cdc_precheck_event(const char *buf, size_t len, size_t max_bytes,
                             int max_columns, char *errstr, size_t errstr_size);

#endif
