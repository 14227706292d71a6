/**
 * @file cdc_penc.h
 * @brief The producer's fast encoder: the change event envelope and the
 *        canonical message key written straight into one buffer.
 *
 * Produces byte for byte what cdc_event_encode() and cdc_key_from_row()
 * (common/cdc_event.h, jansson JSON_COMPACT) produce - tests/unit/
 * test_kprod.c checks it on generated events - without building a
 * temporary JSON tree per event (the producer's hottest path: it halves
 * the CPU per row).
 */
#ifndef CDC_PENC_H
#define CDC_PENC_H

#include <stddef.h>
#include <jansson.h>
#include "cdc_event.h"

/**
 * @brief Encode \p ev like cdc_event_encode().
 * @returns a malloc()ed NUL-terminated string (caller frees) and its
 *          length, or NULL on allocation failure.
 * @locality any thread
 */
char *cdc_penc_event(const cdc_event_t *ev, size_t *lenp);

/**
 * @brief Canonical key of \p row like cdc_key_from_row().
 * @returns a malloc()ed key, or NULL with the reason in \p errstr (a key
 *          column missing or not a string/integer, out of memory).
 */
char *cdc_penc_key(const json_t *row, const char *const *cols, size_t n,
                   size_t *lenp, char *errstr, size_t errstr_size);

#endif
