/**
 * @file cdc_apply.h
 * @brief Turns change events into version-checked Redis updates and sends
 *        them pipelined to one Redis or to the masters of a Redis Cluster
 *        (routing: cdc_rcluster; connections: cdc_rsink, their only
 *        owner).
 *
 * Layout and scripts: schemas/redis.md. Every script touches the keys of
 * one user (one hash tag) only; an edge change is one follower-side and one
 * followee-side script, each applied only if its version is newer than
 * what that side holds for the event's source (cdc_event_version();
 * versions of different sources are never compared). A pair-table row
 * (CDC_APPLY_MODEL_PAIR) is one script per user, each updating both
 * directions of the pair atomically.
 */
#ifndef CDC_APPLY_H
#define CDC_APPLY_H

#include <stddef.h>
#include <stdint.h>
#include "cdc_err.h"
#include "cdc_event.h"

typedef struct cdc_apply_s cdc_apply_t;

/** How the follow table stores edges. */
typedef enum {
        CDC_APPLY_MODEL_EDGE = 0, /**< one row per direction (follower,
                                   *   followee, status) */
        CDC_APPLY_MODEL_PAIR,     /**< one row per pair (user a, user b,
                                   *   relation bits 1 = a->b, 2 = b->a) */
} cdc_apply_model_t;

/** Where events go and how rows map to Redis. Strings are copied. */
typedef struct cdc_apply_conf_s {
        const char *redis_host;     /**< "127.0.0.1" */
        int redis_port;             /**< 6379 */
        const char *redis_password; /**< NULL: none */
        const char *redis_user;     /**< ACL user, NULL: default */
        int redis_db;               /**< SELECT n (0) */
        int redis_timeout_ms;       /**< connect and command timeout */
        const char *key_prefix;     /**< "fc" */

        const char *follow_table;        /**< "follow" */
        const char *follow_col_follower; /**< "follower_id" */
        const char *follow_col_followee; /**< "followee_id" */
        const char *follow_col_status;   /**< "status" (1 following) */
        const char *follow_col_time;     /**< "updated_at": score source */

        const char *idem_table;       /**< "idempotent_log" */
        const char *idem_col_request; /**< "request_id" */
        const char *idem_col_bizkey;  /**< "biz_key" */
        const char *idem_col_status;  /**< "status" */
        const char *idem_col_created; /**< "created_at" */
        int64_t idem_ttl_ms;          /**< 7 days */

        int max_batch; /**< scripts per pipeline, at least 4 (the
                        *   consumer passes redis.pipeline) */

        /* Added after the first contract (0 = off keeps the old meaning). */
        int redis_wait_replicas;   /**< > 0: after each pipeline, WAIT
                                    *   for this many replicas; scripts
                                    *   leave the queue only once that
                                    *   many acknowledged (survives a
                                    *   Redis failover). 0: no WAIT */
        int redis_wait_timeout_ms; /**< WAIT timeout (1000); keep it
                                    *   below redis_timeout_ms */
        /** Redis Cluster seeds, "host:port,host:port" (NULL or empty:
         *  one Redis at redis_host:redis_port). With WAIT, each master
         *  waits for its own replicas. */
        const char *redis_cluster_nodes;
        /** TLS to Redis (every node); strings as in cdc_rsink_tls_t. */
        int redis_tls;                     /**< 0: plain TCP */
        const char *redis_tls_ca;          /**< NULL: system trust store */
        const char *redis_tls_cert;        /**< client certificate */
        const char *redis_tls_key;         /**< its key */
        const char *redis_tls_server_name; /**< NULL: the host */
        int redis_tls_no_verify;           /**< tests only */
        /** The home source (the consumer's source.name): its versions are
         *  stored untagged, as with a single source. Events of any other
         *  source carry their source name as a tag (schemas/redis.md,
         *  "Several sources"). NULL: "followcdc". */
        const char *home_source;
        /** Model of follow_table (EDGE: the follow_col_* columns below
         *  apply; PAIR: the pair_col_* columns). */
        cdc_apply_model_t follow_model;
        const char *pair_col_a;        /**< "user_a" */
        const char *pair_col_b;        /**< "user_b" */
        const char *pair_col_relation; /**< "relation": bit 1 = a follows
                                        *   b, bit 2 = b follows a */
        const char *pair_col_time_ab;  /**< score of a -> b (NULL:
                                        *   follow_col_time) */
        const char *pair_col_time_ba;  /**< score of b -> a (NULL:
                                        *   follow_col_time) */
        /** > 0: once this many scripts are queued beyond the last write,
         *  cdc_apply_add() writes them ahead of the flush (replies are
         *  read by cdc_apply_flush()), so Redis applies a batch's first
         *  scripts while the rest are mapped. 0: nothing is written
         *  before cdc_apply_flush() (verify: mapping only). */
        int push_every;
        /** Registry for the Redis metrics (short WAITs, redirections,
         *  topology refreshes; see docs/consumer.md). NULL: none. */
        struct cdc_metrics_s *metrics;
} cdc_apply_conf_t;

/** Counters since start (read by the consumer for metrics). */
typedef struct cdc_apply_stats_s {
        uint64_t events;      /**< events added */
        uint64_t scripts;     /**< scripts acknowledged by Redis */
        uint64_t applied;     /**< scripts that changed state */
        uint64_t stale;       /**< scripts skipped as not newer */
        uint64_t expired;     /**< idempotency rows already past TTL */
        uint64_t ignored;     /**< events of tables not mapped */
        uint64_t round_trips; /**< pipelines sent */
        uint64_t reconnects;
        uint64_t wait_short; /**< WAITs that saw too few replicas */
} cdc_apply_stats_t;

/**
 * @brief New applier; does not connect yet.
 * @returns handle or NULL with the reason in \p errstr.
 * @locality main thread (the consumer's loop thread)
 */
cdc_apply_t *cdc_apply_new(const cdc_apply_conf_t *conf, char *errstr,
                           size_t errstr_size);

/** @brief Free. NULL: no-op. */
void cdc_apply_destroy(cdc_apply_t *ap);

/**
 * @brief (Re)connect to Redis and load the scripts. Redis Cluster:
 *        refresh the slot map and connect every master.
 * @returns CDC_ERR_NO_ERROR; CDC_ERR__TRANSPORT (retry with backoff);
 *          CDC_ERR__CONFIG (permanent: redis.host names a Redis Cluster
 *          node, or redis.cluster.nodes a Redis without cluster support;
 *          the reason names the setting: stop the process).
 */
cdc_err_t cdc_apply_connect(cdc_apply_t *ap);

/**
 * @brief Queue the Redis work of one event (borrowed; copied as needed).
 *        Append order is apply order, so per-key order is preserved.
 * @returns CDC_ERR_NO_ERROR; CDC_ERR__BAD_EVENT if the event can't be
 *          mapped (missing or ill-typed column: reason in errstr; nothing
 *          was queued, dead-letter it); CDC_ERR__QUEUE_FULL if max_batch
 *          is reached (flush first).
 */
cdc_err_t cdc_apply_add(cdc_apply_t *ap, const cdc_event_t *ev, char *errstr,
                        size_t errstr_size);

/**
 * @brief Send every queued script pipelined and wait for all replies.
 *        On success the queue is empty and everything is acknowledged.
 *        In Redis Cluster mode each script goes to the master of its
 *        slot, one pipeline per master; MOVED and ASK are followed
 *        within this call (cdc_rcluster.h).
 * @returns CDC_ERR_NO_ERROR or CDC_ERR__TRANSPORT (connection lost, a
 *          script failed, too few replicas acknowledged a WAIT, the
 *          cluster is down or still migrating: what was not acknowledged
 *          stays queued, _connect() and _flush() again — re-sending is
 *          harmless since every script is version-checked);
 *          CDC_ERR__CONFIG as cdc_apply_connect(). Scripts answered
 *          NOSCRIPT are reloaded and re-sent within this call.
 * @remark The process must ignore SIGPIPE (a write to a connection Redis
 *         closed would otherwise kill it).
 */
cdc_err_t cdc_apply_flush(cdc_apply_t *ap);

/** @returns the number of queued scripts. */
size_t cdc_apply_pending(const cdc_apply_t *ap);

/** @brief Drop the queue (e.g. on a rebalance before re-delivery). */
void cdc_apply_discard(cdc_apply_t *ap);

/** @returns the router of the Redis node(s) (borrowed), for other
 *  commands than the applier's (cdc_rloss). */
struct cdc_rcluster_s *cdc_apply_router(cdc_apply_t *ap);

/** @returns the last error text. Borrowed. */
const char *cdc_apply_errstr(const cdc_apply_t *ap);

/** @brief Copy the counters. */
void cdc_apply_stats(const cdc_apply_t *ap, cdc_apply_stats_t *st);

#endif
