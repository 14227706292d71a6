/**
 * @file cdc_tomb.h
 * @brief A tombstone's delete: the header CDC_EVENT_TOMBSTONE_HEADER
 *        ("followcdc.delete") that the producer puts on every tombstone
 *        carries the delete event the tombstone follows, so the delete
 *        survives log compaction (schemas/events/README.md "Tombstones").
 *
 * Headers are untrusted input like message values: the header's value
 * goes through the same caps (cdc_precheck) and the same parser and
 * validator (cdc_event_parse) as an event, and it must be a delete
 * (op d). A tombstone without that header (written by an older producer
 * or by another tool) is what it always was: nothing to apply.
 */
#ifndef CDC_TOMB_H
#define CDC_TOMB_H

#include <stddef.h>
#include <librdkafka/rdkafka.h>
#include "cdc_err.h"
#include "cdc_event.h"

/**
 * @brief Parse the delete carried by a tombstone's headers.
 * @param hdrs the message's headers (borrowed), NULL when it has none
 * @param max_bytes, max_columns the caps of cdc_precheck_event()
 * @param evp set to the delete event (caller destroys), or NULL when the
 *        tombstone carries none (no header of that name)
 * @param overp set to 1 when the header was refused by a cap (unparsed)
 * @returns CDC_ERR_NO_ERROR (*evp may be NULL); CDC_ERR__BAD_EVENT with
 *          the reason in \p errstr (the header appears more than once, is
 *          empty, over a cap, not a valid event, or not a delete): dead-
 *          letter the message; CDC_ERR__NOMEM.
 * @locality any thread (pure function)
 */
cdc_err_t cdc_tomb_parse(const rd_kafka_headers_t *hdrs, size_t max_bytes,
                         int max_columns, cdc_event_t **evp, int *overp,
                         char *errstr, size_t errstr_size);

#endif
