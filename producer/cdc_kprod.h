/**
 * @file cdc_kprod.h
 * @brief The producer's Kafka connection: an idempotent librdkafka
 *        producer tuned for throughput, back-pressure that never drops a
 *        message, and delivery reports handed to the checkpoint tracker.
 *
 * This module owns the rd_kafka_t. Every message carries a 64-bit
 * sequence number in its opaque (RD_KAFKA_V_OPAQUE); the delivery report
 * callback receives it back on the thread that calls cdc_kprod_poll().
 * With the publisher thread (cdc_kprod_publisher_start()), produce only
 * checks a message and queues it in order; the thread hands it to
 * librdkafka and serves librdkafka's events.
 */
#ifndef CDC_KPROD_H
#define CDC_KPROD_H

#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <librdkafka/rdkafka.h>
#include "cdc_err.h"
#include "cdc_conf.h"

typedef struct cdc_kprod_s cdc_kprod_t;

/** Messages the publisher thread's ring holds (cdc_kprod_publisher_start). */
#ifndef CDC_KPROD_RING
#define CDC_KPROD_RING 2048
#endif

/** Sequence number of messages whose delivery does not move the
 *  position (checkpoint records). */
#define CDC_KPROD_SEQ_NONE UINT64_MAX

/**
 * Delivery report: \p err is CDC_ERR_NO_ERROR when Kafka acknowledged
 * the message, else CDC_ERR__FATAL with the reason (librdkafka retries
 * every transient error itself; what reaches here is permanent).
 * @locality the thread calling cdc_kprod_poll()/_flush()
 */
typedef void(cdc_kprod_dr_cb_t)(void *opaque, uint64_t seq, cdc_err_t err,
                                const char *reason);

/**
 * @brief New idempotent producer from the `kafka.*` properties of
 *        \p conf. Defaults applied when the user did not set them:
 *        enable.idempotence=true, acks=all, compression.codec=lz4,
 *        linger.ms=10, batch.num.messages=10000,
 *        max.in.flight.requests.per.connection=5, message.timeout.ms=0
 *        (never give up: a Kafka outage pauses the producer),
 *        queue.buffering.max.kbytes=16384. Settings that would break
 *        per-row order or durability (enable.idempotence=false, acks
 *        other than all/-1, max.in.flight > 5) are refused.
 * @param run the main loop's flag: back-pressure waits end when it is 0.
 * @returns the handle, or NULL with the reason in \p errstr.
 * @locality main thread
 */
cdc_kprod_t *cdc_kprod_new(const cdc_conf_t *conf, cdc_kprod_dr_cb_t *dr_cb,
                           void *opaque, volatile sig_atomic_t *run,
                           char *errstr, size_t errstr_size);

/**
 * @brief As cdc_kprod_new(), transactional when \p txn_id is not NULL:
 *        transactional.id = \p txn_id, message.timeout.ms 60000 unless
 *        set (a transaction must end within transaction.timeout.ms).
 *        Every message then goes into the open transaction (begun on the
 *        first produce after a commit or abort); cdc_kprod_txn_init()
 *        must have succeeded first. A delivery failure no longer stops
 *        the producer: it makes the open transaction abort at its commit.
 *        Without \p txn_id, kafka.transactional.id is refused.
 *        \p nice (0..19, producer.threads.nice) is added to the nice
 *        value of the threads that publish: librdkafka's and the
 *        publisher (cdc_kprod_publisher_start()), so that on a busy
 *        machine they wait behind the main thread, not it behind them.
 */
cdc_kprod_t *cdc_kprod_new_txn(const cdc_conf_t *conf, const char *txn_id,
                               int nice, cdc_kprod_dr_cb_t *dr_cb, void *opaque,
                               volatile sig_atomic_t *run, char *errstr,
                               size_t errstr_size);

/** @returns 1 for a transactional producer. */
int cdc_kprod_transactional(const cdc_kprod_t *kp);

/**
 * @brief rd_kafka_init_transactions(): fences every older producer with
 *        the same transactional.id and aborts its open transaction (so
 *        read_committed readers, the checkpoint reader included, see its
 *        final state). Call once the instance is the active one, before
 *        the checkpoint is read; a no-op when done already.
 * @returns CDC_ERR_NO_ERROR; CDC_ERR__TRANSPORT (retry later);
 *          CDC_ERR__FATAL (reason in _errstr).
 */
cdc_err_t cdc_kprod_txn_init(cdc_kprod_t *kp, int timeout_ms);

/** @brief Begin a transaction unless one is open (produce does it).
 *  @returns as cdc_kprod_txn_init(). */
cdc_err_t cdc_kprod_txn_begin(cdc_kprod_t *kp);

/** @returns when the open transaction began (cdc_now_us()), 0 if none. */
int64_t cdc_kprod_txn_begun_us(const cdc_kprod_t *kp);

/**
 * @brief Commit the open transaction (flushing its messages first); a
 *        no-op without one. A transaction a delivery failure or the
 *        broker made abortable is aborted instead.
 * @returns CDC_ERR_NO_ERROR (committed: every message of it is durable
 *          and visible); CDC_ERR__TRANSPORT: not committed — aborted
 *          (nothing of it is visible) or, for a retriable failure, still
 *          open (commit again); CDC_ERR__FATAL (fenced, among others).
 */
cdc_err_t cdc_kprod_txn_commit(cdc_kprod_t *kp, int timeout_ms);

/** @brief Abort the open transaction (no-op without one).
 *  @returns CDC_ERR_NO_ERROR, CDC_ERR__TRANSPORT (still open: abort
 *           again), CDC_ERR__FATAL. */
cdc_err_t cdc_kprod_txn_abort(cdc_kprod_t *kp, int timeout_ms);

/**
 * @brief Transactional producers only: destroy the rd_kafka_t (abandoning
 *        an open transaction, which the next init aborts) and make a new
 *        one from the same configuration, not initialized. Clears a fatal
 *        error (fenced). For an instance that lost the source lock and
 *        goes back to standby.
 */
cdc_err_t cdc_kprod_reset(cdc_kprod_t *kp, char *errstr, size_t errstr_size);

/**
 * @brief Start the publisher thread: from now on produce checks a message
 *        (size, transaction, fatal state) and puts it in a bounded ring
 *        (CDC_KPROD_RING messages, 2 MiB) in order, waiting while it is full;
 *        the thread hands them to librdkafka in that order and serves
 *        librdkafka's events. Delivery reports still reach the callback
 *        on the thread calling cdc_kprod_poll()/_flush(); flush, commit
 *        and abort first wait for the ring to empty. A no-op when it runs.
 * @returns CDC_ERR_NO_ERROR, or an error (reason in \p errstr) with the
 *          producer still usable without the thread.
 * @locality main thread
 */
cdc_err_t cdc_kprod_publisher_start(cdc_kprod_t *kp, char *errstr,
                                    size_t errstr_size);

/** @returns 1 while the publisher thread runs. */
int cdc_kprod_publisher_running(const cdc_kprod_t *kp);

/** @brief Destroy without flushing (call _flush first): what the
 *         publisher thread still holds is dropped. NULL: no-op. */
void cdc_kprod_destroy(cdc_kprod_t *kp);

/**
 * @brief Produce one message. On a full local queue this polls (serving
 *        delivery reports) and retries until it fits: nothing is dropped.
 * @param topic topic name (handles are cached)
 * @param partition RD_KAFKA_PARTITION_UA to partition by key
 * @param key message key (copied)
 * @param value (owned, malloc()ed) value, or NULL for a tombstone
 * @param seq delivered back to the dr callback
 * @returns CDC_ERR_NO_ERROR; CDC_ERR__STATE if the run flag dropped
 *          while waiting for room; CDC_ERR__BAD_EVENT if the message is
 *          larger than message.max.bytes allows (nothing was queued, the
 *          handle stays usable: send a smaller one); CDC_ERR__FATAL
 *          (reason in _errstr).
 * @locality main thread
 */
cdc_err_t cdc_kprod_produce(cdc_kprod_t *kp, const char *topic,
                            int32_t partition, const void *key, size_t keylen,
                            char *value, size_t len, uint64_t seq);

/**
 * @brief Produce a tombstone (NULL value) of \p key, partitioned by key,
 *        with one header \p hname = \p hval (copied; \p hname NULL: no
 *        header). Back-pressure and errors as cdc_kprod_produce();
 *        CDC_ERR__NOMEM when the header can't be built.
 * @locality main thread
 */
cdc_err_t cdc_kprod_produce_tombstone(cdc_kprod_t *kp, const char *topic,
                                      const void *key, size_t keylen,
                                      const char *hname, const void *hval,
                                      size_t hlen, uint64_t seq);

/**
 * @brief The number of partitions of \p topic (a metadata request, at
 *        most \p timeout_ms), e.g. to send a control event to each.
 * @returns the count, or -1 (unknown topic, brokers unreachable).
 * @locality main thread
 */
int cdc_kprod_partitions(cdc_kprod_t *kp, const char *topic, int timeout_ms);

/** @brief Serve delivery reports, waiting at most \p timeout_ms for one.
 *  @returns the number of events served (with the publisher thread: of
 *           delivery reports passed to the callback). */
int cdc_kprod_poll(cdc_kprod_t *kp, int timeout_ms);

/**
 * @brief Wait until every message is acknowledged (or \p timeout_ms).
 * @returns CDC_ERR_NO_ERROR or CDC_ERR__TIMED_OUT.
 */
cdc_err_t cdc_kprod_flush(cdc_kprod_t *kp, int timeout_ms);

/** @returns messages not yet acknowledged (queue depth, the publisher's
 *  ring included; librdkafka's events waiting to be served are not
 *  messages and are not counted). @locality main thread */
int cdc_kprod_outq_len(cdc_kprod_t *kp);

/**
 * @brief Back-pressure so far, in microseconds since cdc_kprod_new():
 *        \p ring_us produce waited for room in the publisher's ring (the
 *        publisher behind), \p queue_us a message waited for room in
 *        librdkafka's queue (queue.buffering.max.*: Kafka behind), on the
 *        publisher or, without one, in produce. @locality any thread
 */
void cdc_kprod_waits(const cdc_kprod_t *kp, int64_t *ring_us,
                     int64_t *queue_us);

/** @returns non-zero once a fatal error happened (stop producing). */
int cdc_kprod_fatal(const cdc_kprod_t *kp);

/** @returns the last error text. Borrowed until the next call.
 *  @locality main thread */
const char *cdc_kprod_errstr(cdc_kprod_t *kp);

/** @returns the largest message librdkafka accepts: message.max.bytes
 *           (key, value and the record's overhead count against it). */
size_t cdc_kprod_max_message_bytes(const cdc_kprod_t *kp);

/**
 * @returns 1 while Kafka is unusable: librdkafka reported every broker
 *          down (RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) and none has
 *          acknowledged a message or answered cdc_kprod_probe() since.
 * @locality any thread (a sig_atomic_t read)
 */
int cdc_kprod_brokers_down(const cdc_kprod_t *kp);

/** @returns why the brokers are down ("" when they are not). Borrowed
 *  until the next call. @locality main thread */
const char *cdc_kprod_down_reason(cdc_kprod_t *kp);

/**
 * @brief While the brokers are down, ask any of them for metadata (blocks
 *        up to \p timeout_ms) and clear the state when one answers. An
 *        idle producer has no delivery reports to tell it so.
 * @returns 1 if the brokers are (now) up, else 0.
 * @locality main thread
 */
int cdc_kprod_probe(cdc_kprod_t *kp, int timeout_ms);

/** @returns the rd_kafka_t (borrowed), e.g. for metadata queries. */
rd_kafka_t *cdc_kprod_rk(cdc_kprod_t *kp);

#endif
