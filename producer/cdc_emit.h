/**
 * @file cdc_emit.h
 * @brief Where a change event is shaped and sent: a binlog row change or a
 *        snapshot row -> its message key -> the envelope -> Kafka.
 *
 * Rules it keeps (schemas/events/README.md):
 * - The key is the row's canonical key (cdc_key_from_row() over the
 *   table's key columns); the topic is `<source.name>.<db>.<table>`.
 * - A delete is followed by a tombstone with the same key, carrying the
 *   delete event in its CDC_EVENT_TOMBSTONE_HEADER header (so the delete
 *   survives log compaction).
 * - An update that changes the key itself is written as a delete (and its
 *   tombstone) of the old key, then a create of the new one, so each key's
 *   partition tells that key's whole story.
 * - An event larger than Kafka accepts (`message.max.bytes`, key and
 *   record overhead included) is never fatal and never dropped silently:
 *   the largest string values outside the key columns are replaced by
 *   CDC_EVENT_OVERSIZED_MARKER until it fits, the envelope's "oversized"
 *   field names them with their original sizes, and it is counted
 *   (followcdc_producer_events_oversized_total) and logged. An event that
 *   cannot fit even so (message.max.bytes far below the row's key and
 *   column names) is skipped, counted
 *   (followcdc_producer_events_skipped_total) and logged at ERR with its
 *   coordinates; the checkpoint moves past it.
 *
 * Every message is counted in the in-flight tracker (cdc_inflight) before
 * it is produced; its delivery report acknowledges it. Without a Kafka
 * producer (bench.decode.only) events are encoded and discarded.
 *
 * Not thread safe: the engine's thread calls everything.
 */
#ifndef CDC_EMIT_H
#define CDC_EMIT_H

#include <stddef.h>
#include <jansson.h>
#include "cdc_binlog.h"
#include "cdc_err.h"
#include "cdc_event.h"
#include "cdc_inflight.h"
#include "cdc_kprod.h"
#include "cdc_metrics.h"
#include "cdc_pconf.h"

typedef struct cdc_emit_s cdc_emit_t;

/**
 * @brief New emitter for the tables of \p pc.
 * @param pc configuration: tables, key columns, source name and epoch
 *        (borrowed, outlives the emitter)
 * @param kp Kafka producer (borrowed), NULL to encode and discard
 * @param fl in-flight tracker (borrowed; unused without \p kp)
 * @param m registry of the row metrics (borrowed)
 * @returns the emitter, or NULL with the reason in \p errstr (a topic
 *          name that is not legal, out of memory).
 * @locality main thread
 */
cdc_emit_t *cdc_emit_new(const cdc_pconf_t *pc, cdc_kprod_t *kp,
                         cdc_inflight_t *fl, cdc_metrics_t *m, char *errstr,
                         size_t errstr_size);

/** @brief Free. NULL: no-op. */
void cdc_emit_destroy(cdc_emit_t *em);

/**
 * @brief Emit one row change of the binlog (\p it of type
 *        CDC_BINLOG_ROW; its source gets source.name and source.epoch).
 * @returns CDC_ERR_NO_ERROR (emitted, or not a captured table);
 *          CDC_ERR__QUEUE_FULL when every in-flight slot is taken and
 *          nothing of this row was produced yet: serve delivery reports
 *          and call again with the same item; CDC_ERR__CONFIG when the key
 *          can't be built (a key column missing or not a string/integer);
 *          CDC_ERR__NOMEM; CDC_ERR__STATE when stopped while waiting for
 *          room in librdkafka's queue; CDC_ERR__FATAL (Kafka). Reason in
 *          cdc_emit_errstr().
 * @locality main thread
 */
cdc_err_t cdc_emit_row(cdc_emit_t *em, const cdc_binlog_item_t *it);

/**
 * @brief Emit one snapshot read (op r) of \p table.
 * @param row the row image (borrowed)
 * @param src where it was read (source.name and epoch are set here)
 * @returns as cdc_emit_row().
 */
cdc_err_t cdc_emit_snapshot_row(cdc_emit_t *em, const char *table, json_t *row,
                                const cdc_source_t *src);

/**
 * @brief Emit the TRUNCATE of \p table at \p src (its transaction's
 *        position): one op t event to every partition of the table's
 *        topic, key {"truncate":<partition>} (schemas/events/README.md).
 * @param partsp set to the number of partitions written.
 * @returns as cdc_emit_row(); CDC_ERR__TRANSPORT when the partition
 *          count can't be learnt (retry).
 */
cdc_err_t cdc_emit_truncate(cdc_emit_t *em, const char *table,
                            const cdc_source_t *src, int *partsp);

/**
 * @brief Emit a repair's purge of \p user (decimal text) of \p table at
 *        \p src: op p, key {"purge":<user>}.
 * @returns as cdc_emit_row().
 */
cdc_err_t cdc_emit_purge(cdc_emit_t *em, const char *table, const char *user,
                         const cdc_source_t *src);

/** @returns the last error text. Borrowed. */
const char *cdc_emit_errstr(const cdc_emit_t *em);

/**
 * @brief Largest envelope size (bytes) a message of key length \p klen may
 *        have: message.max.bytes minus the key and a record overhead.
 *        Exposed for tests. 0 when nothing fits.
 */
size_t cdc_emit_budget(const cdc_emit_t *em, size_t klen);

#endif
