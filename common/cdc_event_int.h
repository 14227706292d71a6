/**
 * @file cdc_event_int.h
 * @brief The two halves of cdc_event_parse(), exposed for the fuzz harness
 *        (fuzz/fuzz_event_apply.c compares them on every input) and the
 *        unit tests.
 */
#ifndef CDC_EVENT_INT_H
#define CDC_EVENT_INT_H

#include "cdc_event.h"

/**
 * @brief The fast path: a single pass over a value in the shape the
 *        producer writes (compact, printable ASCII strings without
 *        escapes, integers, no unknown fields, no "oversized"), checked
 *        against every rule of cdc_event_validate() as it goes, the row
 *        images built straight into jansson objects.
 * @returns 1 with the event in \p evp when the value is in that shape and
 *          valid; 0 (\p evp NULL) for anything else, valid or not, and
 *          when out of memory: cdc_event_parse_full() decides then. An
 *          event it accepts is exactly what cdc_event_parse_full() makes
 *          of the same value.
 */
int cdc_event_parse_fast(const char *buf, size_t len, cdc_event_t **evp);

/**
 * @brief The full path: jansson's parser (duplicates rejected), then
 *        cdc_event_validate(). Same contract as cdc_event_parse().
 */
cdc_err_t cdc_event_parse_full(const char *buf, size_t len, cdc_event_t **evp,
                               char *errstr, size_t errstr_size);

#endif
