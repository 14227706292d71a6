/**
 * @file event_oracle.h
 * @brief A second, independent encoder of the change event contract, built
 *        on jansson's own json_dumps(): the test oracle the fast encoder
 *        (common/cdc_event_enc.c) is compared with. Tests only.
 */
#ifndef EVENT_ORACLE_H
#define EVENT_ORACLE_H

#include <stddef.h>
#include <jansson.h>
#include "cdc_event.h"

/** @returns \p ev as a JSON tree (new reference) or NULL. */
json_t *oracle_event_json(const cdc_event_t *ev);

/** @returns json_dumps(JSON_COMPACT) of oracle_event_json(), or NULL. */
char *oracle_event_encode(const cdc_event_t *ev, size_t *lenp);

/** @returns the canonical key of \p row by json_dumps() of an array, or
 *           NULL (reason in errstr). */
char *oracle_key_from_row(const json_t *row, const char *const *cols, size_t n,
                          size_t *lenp, char *errstr, size_t errstr_size);

#endif
