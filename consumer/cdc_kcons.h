/**
 * @file cdc_kcons.h
 * @brief The consumer's Kafka side: one librdkafka high-level consumer
 *        in a group, offsets stored by hand (enable.auto.offset.store =
 *        false) only after the writes they cover are acknowledged, and a
 *        rebalance callback that lets the owner finish in-flight work and
 *        commits synchronously before partitions are given up.
 *
 * Replay: with CDC_REPLAY_EARLIEST / CDC_REPLAY_TIME every partition
 * this process is assigned for the first time starts at its beginning /
 * at the first offset whose timestamp is >= the replay time
 * (rd_kafka_offsets_for_times); later re-assignments of the same
 * partition resume from the committed offset.
 */
#ifndef CDC_KCONS_H
#define CDC_KCONS_H

#include <stddef.h>
#include <stdint.h>
#include <librdkafka/rdkafka.h>
#include "cdc_cconf.h"
#include "cdc_err.h"

typedef struct cdc_kcons_s cdc_kcons_t;

/**
 * Called from inside cdc_kcons_poll() (main thread) when partitions are
 * about to be revoked: finish or drop in-flight work and store the
 * offsets of what was acknowledged. cdc_kcons then commits the stored
 * offsets synchronously and gives the partitions up.
 */
typedef void(cdc_kcons_revoke_cb_t)(void *opaque,
                                    const rd_kafka_topic_partition_list_t *p);

/**
 * Called from inside cdc_kcons_poll() (main thread) when partitions are
 * assigned, before fetching starts: it may set an element's offset to
 * choose where that partition starts (the way librdkafka documents it:
 * a seek before the first fetch can race with the initial offset lookup,
 * and a fetch already under way reads the same messages twice).
 */
typedef void(cdc_kcons_assign_cb_t)(void *opaque,
                                    rd_kafka_topic_partition_list_t *p);

/**
 * @brief Create the consumer and subscribe to the configured topics.
 *
 * Client properties: the kafka.* keys of \p cc, plus these defaults of
 * followcdc-consumer where librdkafka's do not suit it (each applies only
 * if the user did not set it):
 *  - bootstrap.servers=127.0.0.1:9092;
 *  - auto.offset.reset=earliest: a new group rebuilds Redis from what the
 *    topics hold;
 *  - queued.max.messages.kbytes=6144: the pre-fetch queue (64 MiB by
 *    default) bounds the memory; a few batches ahead is all the loop uses;
 *  - fetch.max.bytes=2097152: a fetch response in flight per broker is
 *    memory too (50 MiB by default; a larger message still comes whole);
 *  - fetch.error.backoff.ms=10: librdkafka 2.0 also waits this long
 *    whenever the pre-fetch queue is full, and 500 ms starves the loop.
 * Always: group.id (cc_group_id), enable.auto.offset.store=false.
 * @param cc borrowed for the handle's lifetime.
 * @returns the handle or NULL with the reason in \p errstr.
 * @locality main thread
 */
cdc_kcons_t *cdc_kcons_new(const cdc_cconf_t *cc,
                           cdc_kcons_revoke_cb_t *revoke_cb, void *opaque,
                           char *errstr, size_t errstr_size);

/** @brief Set the assign hook (NULL: none); before the first poll. */
void cdc_kcons_set_assign_cb(cdc_kcons_t *kc, cdc_kcons_assign_cb_t *cb);

/**
 * @brief For each partition of \p parts (not assigned yet, or assigned):
 *        query its low watermark, store it in the element's offset and
 *        commit it synchronously (the replay's start is durable before
 *        anyone records it). Does not seek.
 * @returns CDC_ERR_NO_ERROR or CDC_ERR__TRANSPORT (logged): offsets may
 *          be set, nothing recorded as committed.
 */
cdc_err_t cdc_kcons_commit_beginning(cdc_kcons_t *kc,
                                     rd_kafka_topic_partition_list_t *parts);

/** @brief Free (after cdc_kcons_close). NULL: no-op. */
void cdc_kcons_destroy(cdc_kcons_t *kc);

/**
 * @brief Poll for one message; serves rebalances and errors.
 * @returns a message (caller destroys with rd_kafka_message_destroy) or
 *          NULL on timeout or a consumer error (logged).
 */
rd_kafka_message_t *cdc_kcons_poll(cdc_kcons_t *kc, int timeout_ms);

/**
 * @brief Store, for each partition, the offset after the highest message
 *        among \p msgs (borrowed). Partitions no longer assigned are
 *        skipped: their next owner re-reads them.
 * @returns CDC_ERR_NO_ERROR or CDC_ERR__STATE (some were not stored).
 */
cdc_err_t cdc_kcons_store(cdc_kcons_t *kc, rd_kafka_message_t *const *msgs,
                          size_t n);

/**
 * @brief Move the fetch position of each still assigned partition back to
 *        its lowest offset among \p msgs (dropped, unacknowledged work),
 *        so those messages are delivered again.
 */
void cdc_kcons_rewind(cdc_kcons_t *kc, rd_kafka_message_t *const *msgs,
                      size_t n);

/**
 * @brief Replay the partitions of \p parts (offsets ignored) from their
 *        beginning, durably: each one's low watermark is queried, stored
 *        (so no older stored offset can be committed after it), committed
 *        synchronously (a partition that moves to another instance
 *        continues the replay there), and the fetch position is moved
 *        there. Partitions not assigned any more are skipped.
 * @returns CDC_ERR_NO_ERROR, or CDC_ERR__TRANSPORT (a watermark or the
 *          commit failed: the fetch positions are unchanged; try again).
 */
cdc_err_t cdc_kcons_restart(cdc_kcons_t *kc,
                            const rd_kafka_topic_partition_list_t *parts);

/**
 * @returns the assigned partitions (caller destroys the list), or NULL.
 */
rd_kafka_topic_partition_list_t *cdc_kcons_assignment(cdc_kcons_t *kc);

/** @brief Commit the stored offsets synchronously (nothing stored: ok). */
cdc_err_t cdc_kcons_commit(cdc_kcons_t *kc);

/** @brief Pause (1) or resume (0) fetching of every assigned partition. */
void cdc_kcons_pause(cdc_kcons_t *kc, int pause);

/** @returns the number of partitions currently assigned. */
int cdc_kcons_assigned(const cdc_kcons_t *kc);

/** One assigned partition's lag, as this consumer sees it. */
typedef void(cdc_kcons_lag_cb_t)(void *opaque, const char *topic,
                                 int32_t partition, int64_t lag);

/**
 * @brief Call \p cb for every assigned partition with its lag: the high
 *        watermark (last fetch response) minus the next offset this
 *        consumer has not acknowledged (stored by cdc_kcons_store(); before
 *        the first store since the assignment, the first offset polled, and
 *        before that the position). Messages read but waiting for Redis
 *        (the batch, paused partitions) count as not consumed. Partitions
 *        with no position or no watermark yet are skipped. No broker request:
 * both are the client's cached view, so this never blocks the loop.
 * @returns the number of partitions reported, or -1 (no assignment list).
 * @locality main thread
 */
int cdc_kcons_lag(cdc_kcons_t *kc, cdc_kcons_lag_cb_t *cb, void *opaque);

/**
 * @brief Keep librdkafka's fetcher going under a backlog. librdkafka 2.0
 *        stops fetching while its pre-fetch queue is over
 *        queued.max.messages.kbytes and looks again only when a broker
 *        thread wakes, up to 1 s later (later releases have
 *        fetch.queue.backoff.ms): the consumer sat idle for up to a
 *        quarter of each second. When fewer messages are queued than
 *        the low-water mark (\p want, or half of
 *        queued.max.messages.kbytes in messages of the mean size seen,
 *        whichever is more) and the brokers hold more (the cached
 *        watermarks: no request), one ListOffsets to the assignment's
 *        leaders (rd_kafka_offsets_for_times(), at most 100 ms) wakes
 *        their threads, which fetch at once. The request runs on a
 *        helper thread of its own: the caller never waits for it (its
 *        round trip took 16-40 ms on a loaded machine, Redis idle
 *        meanwhile). At most every 10 ms and one at a time; after a
 *        timeout, not for 1 s; not again while neither the positions
 *        nor the watermarks moved since the last one (the commit
 *        markers of transactions below the high watermark look like
 *        messages left for ever).
 * @returns 1 if a wake-up was handed to the helper thread, else 0 (also
 *          when that thread could not start: then as after a timeout).
 * @locality main thread
 */
int cdc_kcons_refill(cdc_kcons_t *kc, int want);

/**
 * @brief The timeout argument of rd_kafka_seek_partitions() that waits
 *        \p ms with librdkafka \p version (before 2.1.0 it counts in
 *        microseconds).
 */
int cdc_kcons_seek_timeout(int ms, int version);

/** @returns the number of fetcher wake-ups (cdc_kcons_refill()). */
uint64_t cdc_kcons_wakes(const cdc_kcons_t *kc);

/** @returns the number of rebalances (assign or revoke) served. */
uint64_t cdc_kcons_rebalances(const cdc_kcons_t *kc);

/** @returns the number of partitions a replay (--replay,
 *  --replay-from) has repositioned so far. */
uint64_t cdc_kcons_replayed(const cdc_kcons_t *kc);

/** @returns non-zero once a fatal client error was raised. */
int cdc_kcons_fatal(const cdc_kcons_t *kc);

/**
 * @brief Leave the group: revoke (through the callback), commit, close.
 * @locality main thread
 */
void cdc_kcons_close(cdc_kcons_t *kc);

/** @returns the librdkafka handle (borrowed), e.g. for metadata. */
rd_kafka_t *cdc_kcons_rk(cdc_kcons_t *kc);

#endif
