/**
 * @file cdc_engine_int.h
 * @brief The consumer engine's fields, shared by cdc_engine.c (the steps
 *        and the loop) and cdc_engine_setup.c (metrics, readiness, setup).
 *        Internal: nothing else includes it.
 */
#ifndef CDC_ENGINE_INT_H
#define CDC_ENGINE_INT_H

#include <stdint.h>

#include "cdc_engine.h"

#include "cdc_apply.h"
#include "cdc_backoff.h"
#include "cdc_batch.h"
#include "cdc_dlq.h"
#include "cdc_kcons.h"
#include "cdc_metrics.h"
#include "cdc_reaper.h"
#include "cdc_retry.h"
#include "cdc_rloss.h"

/* Retry backoff of Redis and of dead letters. */
#define ENGINE_BACKOFF_BASE_MS 100
#define ENGINE_BACKOFF_MAX_MS  5000

/* One partition's followcdc_consumer_lag_messages series. */
typedef struct engine_lag_s {
        char *topic;
        int32_t partition;
        int seen; /* reported in this round */
        cdc_metric_t *mt;
} engine_lag_t;

typedef enum {
        ENGINE_S_GATHER,
        ENGINE_S_ADD,
        ENGINE_S_FLUSH,
        ENGINE_S_LETTERS,
        ENGINE_S_RESEND,
        ENGINE_S_STORE,
        ENGINE_S_BACKOFF,
        ENGINE_S_DROP,
        ENGINE_S_CHECK,
        ENGINE_S_STOP,
} engine_state_t;

struct cdc_engine_s {
        const cdc_cconf_t *e_cc;
        volatile sig_atomic_t *e_run;
        cdc_metrics_t *e_m;
        cdc_apply_t *e_ap;
        cdc_dlq_t *e_dq;
        cdc_kcons_t *e_kc;
        cdc_batch_t *e_b;
        cdc_reaper_t *e_rp;
        cdc_http_t *e_http;
        cdc_backoff_t *e_bo;
        cdc_backoff_t *e_loss_bo; /* of a failing marker check */
        cdc_rloss_t *e_rl;        /* Redis data-loss markers; NULL: off */

        engine_state_t e_state;
        engine_state_t e_after_flush; /* ADD (pipeline was full) or LETTERS */
        engine_state_t e_retry;       /* the step BACKOFF goes back to */
        int e_backoff_ms;
        int e_paused;           /* partitions paused by engine_idle */
        int e_redis_fatal;      /* Redis settings contradict the server */
        int64_t e_gather_us;    /* first message of the batch */
        int64_t e_deadline_us;  /* shutdown: give up settling then */
        int64_t e_loss_next_us; /* next marker check */
        int e_loss_due;         /* check at once: connect, rebalance */

        /* read by the HTTP thread (readiness) */
        volatile sig_atomic_t e_redis_up;
        volatile sig_atomic_t e_dlq_failing;

        engine_lag_t *e_lag; /* one per partition ever assigned */
        size_t e_nlag, e_lagcap;
        int64_t e_lag_us; /* last refresh */

        cdc_retry_t e_rl_redis, e_rl_dlq, e_rl_loss;
        cdc_apply_stats_t e_last; /* for metric deltas */
        uint64_t e_replayed;      /* for the metric's delta */
        uint64_t e_wakes;         /* for the metric's delta */
        uint64_t e_rebalances;    /* seen by the assigned gauge */
        cdc_metric_t *m_wakes;
        cdc_metric_t *m_replayed, *m_batches, *m_redis_err, *m_rebal,
                *m_dropped, *m_assigned, *m_redis_up, *m_stalled, *m_dlq_err,
                *m_unmapped_topics, *m_scripts, *m_applied, *m_stale, *m_rtt,
                *m_ignored, *m_expired, *m_loss, *m_loss_replays,
                *m_loss_checks, *m_loss_errors;
};

/* Not static only because cdc_engine.c and cdc_engine_setup.c share them:
 * internal to the engine. */

/* cdc_engine_setup.c */
void engine_metrics_group(cdc_engine_t *eng);
void engine_metrics_lag(cdc_engine_t *eng);
void engine_metrics_sync(cdc_engine_t *eng);
/* cdc_engine.c */
int engine_redis_once(cdc_engine_t *eng, char *why, size_t why_size);
void engine_assign_cb(void *opaque, rd_kafka_topic_partition_list_t *asg);
void engine_revoke_cb(void *opaque,
                      const rd_kafka_topic_partition_list_t *parts);
void engine_dlq_dr_cb(void *opaque, uint64_t id, cdc_dlq_status_t st,
                      const char *errstr);

#endif
