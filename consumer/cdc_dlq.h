/**
 * @file cdc_dlq.h
 * @brief Dead-letter producer: a message the consumer cannot apply
 *        (malformed JSON, schema violation, unmappable row) is copied to
 *        the dead-letter topic with its original key, value and headers,
 *        plus headers telling why and where it came from:
 *
 *          followcdc.dlq.reason     text
 *          followcdc.dlq.topic      source topic
 *          followcdc.dlq.partition  decimal
 *          followcdc.dlq.offset     decimal
 *
 *        The consumer stores the source offset only after the copy is
 *        acknowledged (cdc_dlq_wait), so a poison message is never lost
 *        and never stalls its partition.
 */
#ifndef CDC_DLQ_H
#define CDC_DLQ_H

#include <stddef.h>
#include <stdint.h>
#include <librdkafka/rdkafka.h>
#include "cdc_err.h"

typedef struct cdc_dlq_s cdc_dlq_t;

/**
 * @brief New dead-letter producer writing to \p topic.
 * @param kconf (owned, success or not) client properties (bootstrap...).
 * @returns the handle or NULL with the reason in \p errstr.
 * @locality main thread
 */
cdc_dlq_t *cdc_dlq_new(rd_kafka_conf_t *kconf, const char *topic, char *errstr,
                       size_t errstr_size);

/** @brief Flush (bounded by \p timeout_ms) and free. NULL: no-op. */
void cdc_dlq_destroy(cdc_dlq_t *dq, int timeout_ms);

/**
 * @brief Queue a copy of \p rkm (borrowed) with \p reason.
 * @returns CDC_ERR_NO_ERROR or CDC_ERR__TRANSPORT (reason in errstr); a
 *          failure is also reported by the next cdc_dlq_wait(), so a batch
 *          with an unsent letter never has its offsets stored.
 * @locality main thread
 */
cdc_err_t cdc_dlq_send(cdc_dlq_t *dq, const rd_kafka_message_t *rkm,
                       const char *reason, char *errstr, size_t errstr_size);

/**
 * @brief Wait up to \p timeout_ms for every queued copy to be
 *        acknowledged.
 * @returns CDC_ERR_NO_ERROR when all were acknowledged since the last
 *          successful wait; CDC_ERR__TIMED_OUT if some are still in
 *          flight (call again); CDC_ERR__TRANSPORT if a delivery failed
 *          (send the batch's letters again, then wait).
 */
cdc_err_t cdc_dlq_wait(cdc_dlq_t *dq, int timeout_ms);

/** @returns the number of letters acknowledged since start. */
uint64_t cdc_dlq_delivered(const cdc_dlq_t *dq);

/** @returns the last delivery error text. Borrowed. */
const char *cdc_dlq_errstr(const cdc_dlq_t *dq);

#endif
