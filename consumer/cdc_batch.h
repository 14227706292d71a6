/**
 * @file cdc_batch.h
 * @brief The consumer's batch: the Kafka messages gathered for one Redis
 *        round, one record per message, and every step of their life:
 *
 *   gather  cdc_batch_push()      up to batch.size messages / batch.bytes
 *   parse   (inside _add)         caps (cdc_precheck), then JSON, in
 *                                 windows of 256 events or 4 MiB, half on
 *                                 a helper thread
 *   add     cdc_batch_add()       each event into the applier's pipeline;
 *                                 tombstones counted, poison and unmapped
 *                                 tables marked for the dead-letter topic
 *   settle  cdc_batch_letters()   dead letters acknowledged (the owner
 *                                 flushes the applier: cdc_apply_flush)
 *   store   cdc_batch_store()     offsets of the whole batch stored
 *   revoke  cdc_batch_drop()      or dropped unacknowledged: offsets not
 *                                 stored, positions rewound, re-read later
 *
 * Phases (cdc_batch_phase()):
 *
 *   EMPTY --push--> GATHER --add--> ADD --add--> SETTLE --store/drop--> EMPTY
 *                                   ^  | QUEUE_FULL: owner flushes Redis
 *                                   +--+
 *
 * Nothing here polls Kafka or waits for Redis, and nothing calls back into
 * the owner except the delivery reports it forwards (cdc_batch_dr): a
 * step returns a code and the owner's state machine (cdc_engine) decides
 * what comes next. So a rebalance callback can never find a step half
 * done: between two calls the batch is always in one of the phases above.
 *
 * Messages polled while a batch settles (partitions assigned meanwhile)
 * are carried: kept after the batch, in order, and gathered first into
 * the next one.
 *
 * @locality main thread (the parse helper thread only reads messages and
 *           writes the records of its half of a window, joined before use)
 */
#ifndef CDC_BATCH_H
#define CDC_BATCH_H

#include <stddef.h>
#include <stdint.h>
#include <librdkafka/rdkafka.h>
#include "cdc_apply.h"
#include "cdc_dlq.h"
#include "cdc_err.h"
#include "cdc_kcons.h"
#include "cdc_metrics.h"

typedef struct cdc_batch_s cdc_batch_t;

/** Parsed events alive at once (a window), and their raw bytes: bound
 *  the memory of parsing whatever batch.size and the event sizes are. */
#define CDC_BATCH_PARSE_EVENTS 256
#define CDC_BATCH_PARSE_BYTES  (4 * 1024 * 1024)

/** Limits and mapping; strings are borrowed for the batch's lifetime. */
typedef struct cdc_batch_conf_s {
        size_t max_msgs;          /**< batch.size */
        size_t max_bytes;         /**< batch.bytes: values per batch */
        size_t event_max_bytes;   /**< event.max.bytes */
        int event_max_columns;    /**< event.max.columns */
        const char *follow_table; /**< events of other tables than these */
        const char *idem_table;   /**< two are dead-lettered */
} cdc_batch_conf_t;

typedef enum {
        CDC_BATCH_EMPTY = 0, /**< nothing held (carried messages may wait) */
        CDC_BATCH_GATHER,    /**< messages held, nothing added yet */
        CDC_BATCH_ADD,       /**< adding: part is in the applier's queue */
        CDC_BATCH_SETTLE,    /**< all added, letters queued: wait for acks */
} cdc_batch_phase_t;

/**
 * @brief New empty batch; starts the parse helper thread.
 * @param ap, dq, kc borrowed; \p m registers the message counters.
 * @returns the batch or NULL with the reason in \p errstr.
 */
cdc_batch_t *cdc_batch_new(const cdc_batch_conf_t *conf, cdc_apply_t *ap,
                           cdc_dlq_t *dq, cdc_kcons_t *kc, cdc_metrics_t *m,
                           char *errstr, size_t errstr_size);

/** @brief Stop the helper thread and free every message held, without
 *         storing or rewinding. NULL: no-op. */
void cdc_batch_destroy(cdc_batch_t *b);

/** @returns the current phase. */
cdc_batch_phase_t cdc_batch_phase(const cdc_batch_t *b);

/** @returns the number of messages in the batch (not counting carried). */
size_t cdc_batch_count(const cdc_batch_t *b);

/** @returns 1 once batch.size messages or batch.bytes are gathered. */
int cdc_batch_full(const cdc_batch_t *b);

/**
 * @brief Gather: append \p rkm (owned) to the batch (EMPTY or GATHER).
 * @returns 1 if the batch is now full, else 0.
 */
int cdc_batch_push(cdc_batch_t *b, rd_kafka_message_t *rkm);

/**
 * @brief Add the batch to the applier from where the last call stopped:
 *        parse the next windows, queue each event's scripts, mark poison;
 *        once every record is handled, queue the dead letters (phase
 *        SETTLE) so their delivery overlaps the Redis flush.
 * @returns CDC_ERR_NO_ERROR (all added); CDC_ERR__QUEUE_FULL (the
 *          applier's pipeline is full: flush it, then call again); any
 *          other code (out of memory) means the batch cannot be applied
 *          now: drop it.
 */
cdc_err_t cdc_batch_add(cdc_batch_t *b);

/**
 * @brief Settle the dead letters: serve delivery reports for up to
 *        \p timeout_ms (re-sending a copy refused for its size, truncated).
 * @returns CDC_ERR_NO_ERROR when every letter of the batch is acknowledged
 *          (also when there is none); CDC_ERR__TIMED_OUT while some are in
 *          flight (call again); CDC_ERR__TRANSPORT if a delivery failed
 *          (why in \p errstr; back off, then cdc_batch_letters_resend()).
 */
cdc_err_t cdc_batch_letters(cdc_batch_t *b, int timeout_ms, char *errstr,
                            size_t errstr_size);

/** @returns 1 if a failed letter was refused for good (authorization,
 *           missing topic, too large even truncated): the partition is
 *           stalled until an operator acts. */
int cdc_batch_letters_refused(const cdc_batch_t *b);

/** @brief Send the failed letters again (after a backoff). */
void cdc_batch_letters_resend(cdc_batch_t *b);

/**
 * @brief Forward a dead-letter delivery report (cdc_dlq_dr_cb_t). Reports
 *        of letters of an earlier, dropped batch are ignored.
 */
void cdc_batch_dr(cdc_batch_t *b, uint64_t id, cdc_dlq_status_t st,
                  const char *errstr);

/**
 * @brief Store the offsets of the whole batch (everything acknowledged)
 *        and free it; carried messages become the next batch.
 */
void cdc_batch_store(cdc_batch_t *b);

/**
 * @brief Drop the batch without storing: discard the applier's queue,
 *        rewind each partition to the batch's first offset (so the
 *        messages are delivered again) and free it. Carried messages
 *        stay. No-op on an empty batch.
 * @returns the number of messages dropped.
 */
size_t cdc_batch_drop(cdc_batch_t *b);

/**
 * @brief Keep \p rkm (owned), polled while the batch settles, for the next
 *        batch; with no room left it is rewound and freed instead.
 */
void cdc_batch_carry(cdc_batch_t *b, rd_kafka_message_t *rkm);

/** @brief Free the carried messages; \p rewind: seek back to them first
 *         (a rebalance), so they are read again. */
void cdc_batch_drop_carried(cdc_batch_t *b, int rewind);

/** @returns the number of carried messages. */
size_t cdc_batch_carried(const cdc_batch_t *b);

/**
 * @brief Whether \p table is mapped (follow.table or idem.table).
 *        Events of other tables are dead-lettered, not dropped.
 */
int cdc_batch_table_mapped(const cdc_batch_conf_t *conf, const char *table);

#endif
