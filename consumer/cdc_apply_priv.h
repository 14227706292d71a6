/**
 * @file cdc_apply_priv.h
 * @brief What the applier's own files share (cdc_apply.c: lifecycle,
 *        connection, metrics, flush; cdc_apply_map.c: change events ->
 *        scripts; cdc_apply_sweep.c: the TRUNCATE sweep). Not for other
 *        modules: they use cdc_apply.h (tests: cdc_apply_int.h).
 */
#ifndef CDC_APPLY_PRIV_H
#define CDC_APPLY_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "cdc_apply.h"
#include "cdc_metrics.h"
#include "cdc_rcluster.h"
#include "cdc_scripts.h"

/** A queued TRUNCATE (not a script): the sweep of cdc_apply_flush(). */
#define APPLY_SWEEP       CDC_SCRIPT__CNT
/** Keys asked per SCAN call of a sweep. */
#define APPLY_SWEEP_COUNT "500"

/** Most KEYS + ARGV of any script. */
#define APPLY_MAX_ARGS    13
/** Header of an EVALSHA: EVALSHA, sha, numkeys. */
#define APPLY_HDR         3
/** Longest request id accepted (MySQL VARCHAR(n) of utf8mb4 stays far
 *  below; anything larger is poison, not a request id). */
#define APPLY_MAX_FIELD   (64 * 1024)
/** Latest instant accepted as a time column: 9999-12-31T23:59:59.999Z. */
#define APPLY_MAX_TIME_MS INT64_C(253402300799999)

/** One queued script: keys and args copied into one block. */
typedef struct apply_cmd_s {
        cdc_script_id_t ac_id;
        int ac_slot; /* cluster hash slot of the keys (one tag) */
        int ac_argc; /* keys + args */
        const char *ac_argv[APPLY_MAX_ARGS];
        size_t ac_len[APPLY_MAX_ARGS];
        char ac_data[]; /* the bytes ac_argv points into */
} apply_cmd_t;

struct cdc_apply_s {
        cdc_rcluster_t *ap_rc; /* the Redis node(s): routing, pipelines */
        char *ap_prefix;
        size_t ap_prefix_len;
        char *ap_follow_table;
        char *ap_col_follower;
        char *ap_col_followee;
        char *ap_col_status;
        char *ap_col_time;
        cdc_apply_model_t ap_model;
        char *ap_col_a;   /* pair: user a */
        char *ap_col_b;   /* pair: user b */
        char *ap_col_rel; /* pair: relation bits */
        char *ap_col_tab; /* pair: time of a -> b */
        char *ap_col_tba; /* pair: time of b -> a */
        char *ap_home;    /* home source: untagged versions */
        char *ap_idem_table;
        char *ap_col_request;
        char *ap_col_bizkey;
        char *ap_col_istatus;
        char *ap_col_created;
        int64_t ap_idem_ttl_ms;

        apply_cmd_t **ap_q;      /* queued scripts, apply order */
        unsigned char *ap_acked; /* per queued script, during a send */
        size_t ap_qlen;
        size_t ap_qcap;       /* = max_batch */
        size_t ap_pushed;     /* scripts [0, ap_pushed) written ahead of the
                               * flush (cdc_rcluster_push), replies unread */
        int ap_nopush;        /* a sweep is queued: no push until the flush */
        size_t ap_push_every; /* conf push_every; 0: never */

        char ap_sha[CDC_SCRIPT__CNT][41];
        char ap_nkeys[CDC_SCRIPT__CNT][4]; /* numkeys argument */
        int ap_connected_once;
        cdc_apply_stats_t ap_stats;
        cdc_rcluster_stats_t ap_rlast; /* for metric deltas */
        cdc_metric_t *ap_m_wait_short, *ap_m_moved, *ap_m_ask, *ap_m_tryagain,
                *ap_m_down, *ap_m_refresh, *ap_m_node_err, *ap_m_masters;
        cdc_metric_t *ap_m_sweeps, *ap_m_swept, *ap_m_purged;
        uint64_t ap_swept; /* members / records removed by purge scripts */
        char ap_errstr[512];
};

/* A key: in its own small buffer when it fits (the usual case: no
 * allocation per key), else on the heap. */
typedef struct apply_key_s {
        char *k;
        size_t len;
        char buf[128];
} apply_key_t;

/** One queued script built from \p n (pointer, length) pairs (copied).
 *  @returns it (free()) or NULL (out of memory). */
apply_cmd_t *apply_cmd_new(cdc_script_id_t id, int n, const char *const *v,
                           const size_t *len);

/** \p key = the concatenation of \p nparts parts. @returns \p key, or
 *  NULL (out of memory). Release with apply_key_free(). */
apply_key_t *apply_key_cat(apply_key_t *key, int nparts,
                           const char *const *parts, const size_t *lens);

/** Release what apply_key_cat() allocated (a zeroed key: no-op). */
void apply_key_free(apply_key_t *key);

/** \p key = "<prefix>:{u:<uid>}:<suffix>". @returns 0 or -1 (memory). */
int apply_user_key(const cdc_apply_t *ap, apply_key_t *key, const char *uid,
                   const char *suffix);

/** Write the queue ahead of the flush when enough is new (see
 *  cdc_apply_conf_t.push_every). */
void apply_push(cdc_apply_t *ap);

/** Run scripts q[0, n) until every one is acknowledged (done flags). */
cdc_err_t apply_run(cdc_apply_t *ap, apply_cmd_t **q, size_t n,
                    unsigned char *done);

/** The applier's counters -> its metrics (deltas since the last call). */
void apply_metrics_sync(cdc_apply_t *ap);

/** Run the TRUNCATE sweep queued as \p mk (cdc_apply_sweep.c). */
cdc_err_t apply_sweep(cdc_apply_t *ap, const apply_cmd_t *mk);

#endif
