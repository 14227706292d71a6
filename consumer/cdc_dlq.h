/**
 * @file cdc_dlq.h
 * @brief Dead-letter producer: a message the consumer cannot apply
 *        (malformed JSON, schema violation, over a size cap, unmapped
 *        table or row) is copied to the dead-letter topic with its
 *        original key, value and headers, plus headers telling why and
 *        where it came from:
 *
 *          followcdc.dlq.reason        text
 *          followcdc.dlq.topic         source topic
 *          followcdc.dlq.partition     decimal
 *          followcdc.dlq.offset        decimal
 *          followcdc.dlq.value.size    size of the original value, decimal
 *          followcdc.dlq.value.sha256  SHA-256 of the original value, hex
 *          followcdc.dlq.truncated     "1" on a truncated copy only
 *
 *        A copy that would not fit the producer's message.max.bytes (or
 *        that the broker refuses as too large) is sent truncated: key cut
 *        to 1 KiB, value to its first 16 KiB (less if message.max.bytes is
 *        small), original headers left out. The hash and the coordinates
 *        identify the original, which stays in the source topic. So every
 *        message the consumer can fetch can be dead-lettered.
 *
 *        The consumer stores the source offset only after the copy is
 *        acknowledged, so a poison message is never lost; each copy's
 *        outcome is reported to the owner (cdc_dlq_dr_cb_t) with a status
 *        that says whether sending it again can help.
 */
#ifndef CDC_DLQ_H
#define CDC_DLQ_H

#include <stddef.h>
#include <stdint.h>
#include <librdkafka/rdkafka.h>
#include "cdc_conf.h"

typedef struct cdc_dlq_s cdc_dlq_t;

/** Outcome of one copy (queueing it, or its delivery report). */
typedef enum {
        CDC_DLQ_OK = 0,    /**< queued / acknowledged by every in-sync
                            *   replica */
        CDC_DLQ_RETRY,     /**< transient (timed out, broker down, queue
                            *   full): send it again after a backoff */
        CDC_DLQ_TOO_LARGE, /**< refused for its size: send it truncated */
        CDC_DLQ_REFUSED,   /**< refused for good until someone fixes the
                            *   cluster (authorization, invalid or missing
                            *   topic, policy): send it again after a
                            *   backoff, the source partition is stalled */
} cdc_dlq_status_t;

/**
 * Delivery report of the copy sent with \p id: \p errstr (borrowed) says
 * why when \p st is not CDC_DLQ_OK.
 * @locality main thread, from inside cdc_dlq_send() / cdc_dlq_flush()
 */
typedef void(cdc_dlq_dr_cb_t)(void *opaque, uint64_t id, cdc_dlq_status_t st,
                              const char *errstr);

/**
 * @brief New dead-letter producer writing to \p topic, configured from the
 *        kafka.* properties of \p conf plus its own settings (acks=all,
 *        message.timeout.ms=30000, linger.ms=5: every letter on every
 *        in-sync replica before the source offset moves, and failures
 *        surface after 30 s so they can be retried).
 * @returns the handle or NULL with the reason in \p errstr.
 * @locality main thread
 */
cdc_dlq_t *cdc_dlq_new(const cdc_conf_t *conf, const char *topic,
                       cdc_dlq_dr_cb_t *dr_cb, void *opaque, char *errstr,
                       size_t errstr_size);

/** @brief Flush (bounded by \p timeout_ms) and free. NULL: no-op. */
void cdc_dlq_destroy(cdc_dlq_t *dq, int timeout_ms);

/**
 * @brief Queue a copy of \p rkm (borrowed) with \p reason; its delivery
 *        report carries \p id.
 * @param truncated 0: the whole message if it fits, else truncated;
 *        1: truncated in any case (after CDC_DLQ_TOO_LARGE).
 * @returns CDC_DLQ_OK (queued), or why it could not be queued (reason in
 *          \p errstr; no delivery report follows).
 * @locality main thread
 */
cdc_dlq_status_t cdc_dlq_send(cdc_dlq_t *dq, const rd_kafka_message_t *rkm,
                              const char *reason, int truncated, uint64_t id,
                              char *errstr, size_t errstr_size);

/**
 * @brief Serve delivery reports for up to \p timeout_ms, returning early
 *        once nothing is in flight.
 * @returns the number of copies still in flight.
 */
int cdc_dlq_flush(cdc_dlq_t *dq, int timeout_ms);

/** @returns the largest copy sent whole (key, value and headers). */
size_t cdc_dlq_max_bytes(const cdc_dlq_t *dq);

/** @returns the dead-letter topic name. Borrowed. */
const char *cdc_dlq_topic(const cdc_dlq_t *dq);

/** @returns the status of a librdkafka produce or delivery error. */
cdc_dlq_status_t cdc_dlq_classify(rd_kafka_resp_err_t err);

#endif
