/**
 * @file cdc_inflight.h
 * @brief Transactions in flight to Kafka, and the position every earlier
 *        change of which Kafka has acknowledged (the checkpoint).
 *
 * cf. bottledwater's maybe_checkpoint(): a ring of transaction groups,
 * each with a count of messages not yet acknowledged and the position
 * that resumes right after it. Delivery reports decrement the counts; the
 * checkpoint advances to the position of the newest group whose messages,
 * and every earlier group's, are all acknowledged.
 *
 * Consecutive small transactions share one group (at most group_us old,
 * group_max messages) so a stream of single-row transactions does not
 * need one ring slot each: the group's position is that of its last
 * COMMIT, and it completes when all of its transactions are delivered.
 * Transactions that touch no captured table (and heartbeats) only move
 * the position of the newest group, or the checkpoint itself when nothing
 * is in flight, so the position advances while the tables are idle.
 *
 * Not thread safe: the main thread calls everything (delivery reports
 * are served by rd_kafka_poll on it).
 */
#ifndef CDC_INFLIGHT_H
#define CDC_INFLIGHT_H

#include <stddef.h>
#include <stdint.h>
#include "cdc_err.h"
#include "cdc_pos.h"

typedef struct cdc_inflight_s cdc_inflight_t;

/**
 * @brief New tracker.
 * @param cap ring slots (transaction groups in flight)
 * @param group_us how long a group stays open to later transactions
 * @param group_max most messages in one group
 * @returns the handle or NULL (out of memory).
 */
cdc_inflight_t *cdc_inflight_new(size_t cap, int64_t group_us,
                                 uint64_t group_max);

/** @brief Free. NULL: no-op. */
void cdc_inflight_destroy(cdc_inflight_t *fl);

/**
 * @brief Count one more message of the current transaction.
 * @param seqp set to the number to put in the message's opaque
 * @returns CDC_ERR_NO_ERROR, or CDC_ERR__QUEUE_FULL if every slot is in
 *          use: serve delivery reports and try again.
 */
cdc_err_t cdc_inflight_add(cdc_inflight_t *fl, int64_t now_us, uint64_t *seqp);

/**
 * @brief End of a transaction.
 * @param next where to resume right after it, or NULL when the
 *        transaction has no resumable position (snapshot chunks).
 */
void cdc_inflight_commit(cdc_inflight_t *fl, const cdc_pos_t *next);

/**
 * @brief Kafka acknowledged a message of group \p seq.
 * @returns 0, or -1 if \p seq is not in flight (ignored).
 */
int cdc_inflight_ack(cdc_inflight_t *fl, uint64_t seq);

/**
 * @brief The checkpoint: the newest position whose changes, and all
 *        earlier ones, are acknowledged.
 * @param pos copied out if there is one
 * @returns a generation number that grows each time the checkpoint moves
 *          (0: no position yet).
 */
uint64_t cdc_inflight_acked(const cdc_inflight_t *fl, cdc_pos_t *pos);

/**
 * @brief A mark after every group counted so far: the messages added up
 *        to now are acknowledged (and their positions passed) once
 *        cdc_inflight_passed() says so.
 */
uint64_t cdc_inflight_mark(const cdc_inflight_t *fl);

/** @returns 1 if every group before \p mark is acknowledged. */
int cdc_inflight_passed(const cdc_inflight_t *fl, uint64_t mark);

/** @brief Forget the checkpoint and every group (after the stream is
 *         restarted from elsewhere, e.g. a new snapshot). Messages still
 *         in flight must have been flushed first. The generation
 *         restarts at 0. */
void cdc_inflight_reset(cdc_inflight_t *fl);

/** @returns groups in flight. */
size_t cdc_inflight_groups(const cdc_inflight_t *fl);

/** @returns messages not yet acknowledged. */
uint64_t cdc_inflight_pending(const cdc_inflight_t *fl);

/** @returns 1 if a new group could not be opened now. */
int cdc_inflight_full(const cdc_inflight_t *fl);

#endif
