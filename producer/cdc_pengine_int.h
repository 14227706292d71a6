/**
 * @file cdc_pengine_int.h
 * @brief The producer engine's fields, shared by cdc_pengine.c (the state
 *        machine) and cdc_pengine_setup.c (setup, metrics, readiness).
 *        Internal: nothing else includes it.
 */
#ifndef CDC_PENGINE_INT_H
#define CDC_PENGINE_INT_H

#include <signal.h>
#include <stdint.h>

#include "cdc_backoff.h"
#include "cdc_binlog.h"
#include "cdc_ckpt.h"
#include "cdc_emit.h"
#include "cdc_inflight.h"
#include "cdc_kprod.h"
#include "cdc_lock.h"
#include "cdc_metrics.h"
#include "cdc_mysql.h"
#include "cdc_pbench.h"
#include "cdc_repair.h"
#include "cdc_pengine.h"
#include "cdc_retry.h"
#include "cdc_topics.h"

#define PE_POS_TEXT (CDC_POS_GTID_MAX + 512)

/* Values of followcdc_producer_state: 0..3 as they always were. */
typedef enum {
        PE_ST_STANDBY  = 0,
        PE_ST_SNAPSHOT = 1,
        PE_ST_STREAM   = 2,
        PE_ST_BACKOFF  = 3,
        PE_ST_CONNECT  = 4,
        PE_ST_DONE     = 5,
} pe_state_t;

/* What failed: a failure of the source marks it unreachable (/readyz,
 * followcdc_producer_source_up) until a connection to it works again. */
typedef enum {
        PE_WHY_NONE = 0,
        PE_WHY_SOURCE, /* MySQL unreachable */
        PE_WHY_OTHER,  /* anything else retried (e.g. out of memory) */
} pe_why_t;

struct cdc_pengine_s {
        const cdc_pconf_t *pe_pc;
        const cdc_conf_t *pe_conf;
        volatile sig_atomic_t *pe_run;

        /* modules */
        cdc_mysql_target_t pe_mysql; /* the source, for every connection */
        cdc_kprod_t *pe_kp;          /* NULL: bench.decode.only */
        cdc_ckpt_t *pe_ck;
        cdc_inflight_t *pe_fl;
        cdc_binlog_t *pe_bl;
        cdc_lock_t *pe_lk; /* NULL: lock.enabled=false */
        cdc_emit_t *pe_em;
        cdc_repair_t *pe_rp; /* NULL: repair.signal.table empty */
        /* the binlog's tables: the captured ones and the signal table */
        const char *pe_bl_tables[CDC_PCONF_TABLES_MAX + 1];
        cdc_pbench_t *pe_pb; /* NULL: no benchmark */
        cdc_backoff_t *pe_bo;
        cdc_metrics_t *pe_m;
        cdc_http_t *pe_http;

        /* the machine */
        pe_state_t pe_next; /* chosen by a step that succeeded */
        int pe_exit;        /* exit status once DONE */
        int pe_backoff_ms;  /* how long BACKOFF waits */
        char pe_why[768];   /* the last failure, for the transition */
        cdc_retry_t pe_rt;  /* failures of the source (and the rest) */
        cdc_retry_t pe_rt_ckpt;

        /* where the stream goes on */
        int pe_have_pos;       /* pe_read_pos is a valid resume point */
        cdc_pos_t pe_read_pos; /* after the last COMMIT read */
        int pe_in_txn;         /* rows of an uncommitted transaction seen */
        int pe_need_snapshot;  /* CONNECT chose a snapshot */
        int pe_snapshot_done;  /* a requested snapshot happened */
        /* A snapshot taken while a resume position existed (--snapshot,
         * snapshot.mode=always) sees only rows that still exist: rows
         * hard-deleted since that position have nothing to read. So the
         * stream restarts at the old position and publishes the gap too;
         * its older versions are no-ops for consumers, its deletes are
         * not. snap_pos is the fallback if the old position is purged. */
        int pe_gap_replay;
        cdc_pos_t pe_snap_pos;
        int pe_lock_held;
        int pe_standby_logged;
        int pe_end; /* bench.stop.at.end reached */
        int64_t pe_last_lock_us;

        /* checkpoint */
        uint64_t pe_ckpt_gen_done; /* generation the store holds */
        uint64_t pe_ckpt_gen_seen;
        int64_t pe_ckpt_moved_ms;
        int64_t pe_probe_us; /* last Kafka probe while brokers are down */
        int pe_txn;          /* producer.transactions */
        int pe_txn_snap;     /* a snapshot runs: commits carry no checkpoint */
        int64_t pe_txn_ckpt_us; /* last checkpoint tried in a transaction */
        int pe_kafka_down;      /* as last published */
        uint64_t pe_snap_rows;

        /* readiness: written here, read by the HTTP thread */
        volatile sig_atomic_t pe_state;
        volatile sig_atomic_t pe_source_down;

        cdc_topics_t *pe_topics; /* start-up topic check (answer pending) */
        struct {
                cdc_metric_t *state, *role, *ready, *source_up, *kafka_up;
                cdc_metric_t *acked, *dr_errors, *ckpt_age_s, *queue;
                cdc_metric_t *inflight, *snapshot_rows, *snapshots;
                cdc_metric_t *stream_starts, *ckpt_loads, *reconnects;
                cdc_metric_t *ckpt_writes, *ckpt_errors, *lock_lost;
                cdc_metric_t *purged, *topics_not_compacted, *truncates;
                cdc_metric_t *ring_wait_ms, *queue_wait_ms;
        } pe_mt;
};

/**
 * @brief The readiness of \p pe and its text for /readyz ("ready: ...",
 *        "not ready: ...").
 * @returns 1 if ready.
 * @locality any thread: reads sig_atomic_t only
 */
int pengine_ready(const cdc_pengine_t *pe, char *why, size_t size);

/* Not static only because cdc_pengine.c and cdc_pengine_rows.c share them:
 * internal to the engine. */

/* Publish the state (and what follows from it) to /readyz and metrics. */
void pengine_publish(cdc_pengine_t *pe, pe_state_t st);
/* Record the failure the transition will act on. */
cdc_err_t pengine_fail(cdc_pengine_t *pe, cdc_err_t err, pe_why_t kind,
                       const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
/* Periodic work of every state that holds the lock (cdc_pengine.c). */
cdc_err_t pengine_tick(cdc_pengine_t *pe, int timeout_ms);
/* The SNAPSHOT and STREAM states (cdc_pengine_rows.c). */
cdc_err_t pengine_snapshot(cdc_pengine_t *pe);
cdc_err_t pengine_stream(cdc_pengine_t *pe);

#endif
