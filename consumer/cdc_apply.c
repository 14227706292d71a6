/**
 * @file cdc_apply.c
 * @brief Change events -> version-checked Redis scripts, sent pipelined.
 *
 * Layout, scripts and the convergence argument: schemas/redis.md.
 * Every event becomes one or more EVALSHA calls, each touching the keys of
 * one hash tag only; each call is built from an argument vector with
 * explicit lengths (row data is never formatted into a command).
 */
#include "cdc_apply.h"
#include "cdc_apply_int.h"
#include "cdc_apply_priv.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdc_backoff.h"
#include "cdc_log.h"
#include "cdc_metrics.h"
#include "cdc_rcluster.h"
#include "cdc_rsink.h"
#include "cdc_scripts.h"

/* ---- helpers ---- */
/* ---- helpers ---- */

static char *apply_strdup(const char *s, const char *def) {
        size_t n;
        char *d;

        if (!s)
                s = def;
        n = strlen(s);
        d = malloc(n + 1);
        if (d)
                memcpy(d, s, n + 1);
        return d;
}

/* Build one queued script from n (pointer, length) pairs. */
apply_cmd_t *apply_cmd_new(cdc_script_id_t id, int n, const char *const *v,
                           const size_t *len) {
        apply_cmd_t *ac;
        size_t total = 0;
        char *p;
        int i;

        for (i = 0; i < n; i++)
                total += len[i] + 1;
        ac = malloc(sizeof(*ac) + total);
        if (!ac)
                return NULL;
        ac->ac_id   = id;
        ac->ac_argc = n;
        /* every key of a script carries the same hash tag: the first key
         * gives the slot of all */
        ac->ac_slot = cdc_rcluster_slot(v[0], len[0]);
        p           = ac->ac_data;
        for (i = 0; i < n; i++) {
                memcpy(p, v[i], len[i]);
                p[len[i]]      = '\0';
                ac->ac_argv[i] = p;
                ac->ac_len[i]  = len[i];
                p += len[i] + 1;
        }
        return ac;
}


apply_key_t *apply_key_cat(apply_key_t *key, int nparts,
                           const char *const *parts, const size_t *lens) {
        size_t total = 0;
        int i;

        for (i = 0; i < nparts; i++)
                total += lens[i];
        key->k = total < sizeof(key->buf) ? key->buf : malloc(total + 1);
        if (!key->k)
                return NULL;
        key->len = 0;
        for (i = 0; i < nparts; i++) {
                memcpy(key->k + key->len, parts[i], lens[i]);
                key->len += lens[i];
        }
        key->k[key->len] = '\0';
        return key;
}

void apply_key_free(apply_key_t *key) {
        if (key->k != key->buf)
                free(key->k);
        key->k = NULL;
}

/* "<prefix>:{u:<uid>}:<suffix>" */
int apply_user_key(const cdc_apply_t *ap, apply_key_t *key, const char *uid,
                   const char *suffix) {
        const char *parts[5] = { ap->ap_prefix, ":{u:", uid, "}:", suffix };
        size_t lens[5]       = { ap->ap_prefix_len, 4, strlen(uid), 2,
                                 strlen(suffix) };

        return apply_key_cat(key, 5, parts, lens) ? 0 : -1;
}


/* ---- lifecycle ---- */

static cdc_err_t apply_on_connect(void *opaque, cdc_rcluster_t *rc, void *link,
                                  char *errstr, size_t errstr_size);
static void apply_metrics_init(cdc_apply_t *ap, cdc_metrics_t *m);

cdc_apply_t *cdc_apply_new(const cdc_apply_conf_t *conf, char *errstr,
                           size_t errstr_size) {
        cdc_apply_t *ap = NULL;
        cdc_rcluster_conf_t rcc;
        cdc_rsink_tls_t tls;
        int max_batch;

        if (conf->key_prefix &&
            (strchr(conf->key_prefix, '{') || strchr(conf->key_prefix, '}'))) {
                snprintf(errstr, errstr_size,
                         "key prefix must not contain '{' or '}' (it would "
                         "break the per-user hash tag)");
                return NULL;
        }
        ap = calloc(1, sizeof(*ap));
        if (!ap)
                goto nomem;
        memset(&rcc, 0, sizeof(rcc));
        rcc.rcc_nodes           = conf->redis_cluster_nodes;
        rcc.rcc_host            = conf->redis_host;
        rcc.rcc_port            = conf->redis_port;
        rcc.rcc_link.user       = conf->redis_user;
        rcc.rcc_link.password   = conf->redis_password;
        rcc.rcc_link.db         = conf->redis_db;
        rcc.rcc_link.timeout_ms = conf->redis_timeout_ms;
        if (conf->redis_tls) {
                memset(&tls, 0, sizeof(tls));
                tls.ca                       = conf->redis_tls_ca;
                tls.cert                     = conf->redis_tls_cert;
                tls.key                      = conf->redis_tls_key;
                tls.no_verify                = conf->redis_tls_no_verify;
                rcc.rcc_tls                  = &tls;
                rcc.rcc_link.tls_server_name = conf->redis_tls_server_name;
        }
        rcc.rcc_wait_replicas =
                conf->redis_wait_replicas > 0 ? conf->redis_wait_replicas : 0;
        rcc.rcc_wait_timeout_ms = conf->redis_wait_timeout_ms;
        rcc.rcc_on_connect      = apply_on_connect;
        rcc.rcc_opaque          = ap;
        ap->ap_rc               = cdc_rcluster_new(&rcc, errstr, errstr_size);
        if (!ap->ap_rc)
                goto fail;
        snprintf(ap->ap_nkeys[CDC_SCRIPT_EDGE], 4, "%d", CDC_SCRIPT_EDGE_NKEYS);
        snprintf(ap->ap_nkeys[CDC_SCRIPT_IDEM], 4, "%d", CDC_SCRIPT_IDEM_NKEYS);
        snprintf(ap->ap_nkeys[CDC_SCRIPT_PURGE], 4, "%d",
                 CDC_SCRIPT_PURGE_NKEYS);
        snprintf(ap->ap_nkeys[CDC_SCRIPT_IPURGE], 4, "%d",
                 CDC_SCRIPT_IPURGE_NKEYS);
        if (conf->metrics)
                apply_metrics_init(ap, conf->metrics);
        ap->ap_prefix       = apply_strdup(conf->key_prefix, "fc");
        ap->ap_follow_table = apply_strdup(conf->follow_table, "follow");
        ap->ap_col_follower =
                apply_strdup(conf->follow_col_follower, "follower_id");
        ap->ap_col_followee =
                apply_strdup(conf->follow_col_followee, "followee_id");
        ap->ap_col_status = apply_strdup(conf->follow_col_status, "status");
        ap->ap_col_time   = apply_strdup(conf->follow_col_time, "updated_at");
        ap->ap_model      = conf->follow_model;
        ap->ap_col_a      = apply_strdup(conf->pair_col_a, "user_a");
        ap->ap_col_b      = apply_strdup(conf->pair_col_b, "user_b");
        ap->ap_col_rel    = apply_strdup(conf->pair_col_relation, "relation");
        ap->ap_col_tab = apply_strdup(conf->pair_col_time_ab, ap->ap_col_time);
        ap->ap_col_tba = apply_strdup(conf->pair_col_time_ba, ap->ap_col_time);
        ap->ap_home    = apply_strdup(conf->home_source, "followcdc");
        ap->ap_idem_table  = apply_strdup(conf->idem_table, "idempotent_log");
        ap->ap_col_request = apply_strdup(conf->idem_col_request, "request_id");
        ap->ap_col_bizkey  = apply_strdup(conf->idem_col_bizkey, "biz_key");
        ap->ap_col_istatus = apply_strdup(conf->idem_col_status, "status");
        ap->ap_col_created = apply_strdup(conf->idem_col_created, "created_at");
        if (!ap->ap_prefix || !ap->ap_follow_table || !ap->ap_col_follower ||
            !ap->ap_col_followee || !ap->ap_col_status || !ap->ap_col_time ||
            !ap->ap_col_a || !ap->ap_col_b || !ap->ap_col_rel ||
            !ap->ap_col_tab || !ap->ap_col_tba || !ap->ap_home ||
            !ap->ap_idem_table || !ap->ap_col_request || !ap->ap_col_bizkey ||
            !ap->ap_col_istatus || !ap->ap_col_created)
                goto nomem;
        ap->ap_prefix_len  = strlen(ap->ap_prefix);
        ap->ap_idem_ttl_ms = conf->idem_ttl_ms > 0
                                     ? conf->idem_ttl_ms
                                     : (int64_t)7 * 24 * 3600 * 1000;
        /* No default here: the consumer passes redis.pipeline (its
         * default lives in the property table, cdc_cconf.c). */
        max_batch = conf->max_batch;
        if (max_batch < 4) { /* one event may need 4 scripts */
                snprintf(errstr, errstr_size,
                         "max_batch %d: at least 4 scripts per pipeline "
                         "(redis.pipeline)",
                         max_batch);
                goto fail;
        }
        ap->ap_qcap       = (size_t)max_batch;
        ap->ap_push_every = conf->push_every > 0 ? (size_t)conf->push_every : 0;
        ap->ap_q          = calloc(ap->ap_qcap, sizeof(*ap->ap_q));
        ap->ap_acked      = calloc(ap->ap_qcap, 1);
        if (!ap->ap_q || !ap->ap_acked)
                goto nomem;
        return ap;
nomem:
        snprintf(errstr, errstr_size, "out of memory");
fail:
        cdc_apply_destroy(ap);
        return NULL;
}

void cdc_apply_discard(cdc_apply_t *ap) {
        size_t i;

        cdc_rcluster_abort(ap->ap_rc); /* no reply of these is read */
        ap->ap_pushed = 0;
        ap->ap_nopush = 0;
        for (i = 0; i < ap->ap_qlen; i++) {
                free(ap->ap_q[i]);
                ap->ap_q[i] = NULL;
        }
        ap->ap_qlen = 0;
}

void cdc_apply_destroy(cdc_apply_t *ap) {
        if (!ap)
                return;
        if (ap->ap_q)
                cdc_apply_discard(ap);
        free(ap->ap_q);
        free(ap->ap_acked);
        cdc_rcluster_destroy(ap->ap_rc);
        free(ap->ap_prefix);
        free(ap->ap_follow_table);
        free(ap->ap_col_follower);
        free(ap->ap_col_followee);
        free(ap->ap_col_status);
        free(ap->ap_col_time);
        free(ap->ap_col_a);
        free(ap->ap_col_b);
        free(ap->ap_col_rel);
        free(ap->ap_col_tab);
        free(ap->ap_col_tba);
        free(ap->ap_home);
        free(ap->ap_idem_table);
        free(ap->ap_col_request);
        free(ap->ap_col_bizkey);
        free(ap->ap_col_istatus);
        free(ap->ap_col_created);
        free(ap);
}

size_t cdc_apply_pending(const cdc_apply_t *ap) {
        return ap->ap_qlen;
}

cdc_rcluster_t *cdc_apply_router(cdc_apply_t *ap) {
        return ap->ap_rc;
}

const char *cdc_apply_errstr(const cdc_apply_t *ap) {
        return ap->ap_errstr;
}

void cdc_apply_stats(const cdc_apply_t *ap, cdc_apply_stats_t *st) {
        *st = ap->ap_stats;
}

int cdc_apply_queued(const cdc_apply_t *ap, size_t i, cdc_script_id_t *idp,
                     const char *const **argvp, const size_t **lenp) {
        if (i >= ap->ap_qlen)
                return 0;
        *idp   = ap->ap_q[i]->ac_id;
        *argvp = ap->ap_q[i]->ac_argv;
        *lenp  = ap->ap_q[i]->ac_len;
        return ap->ap_q[i]->ac_argc;
}

/* ---- connection ---- */

/* Load the scripts on one node (rcluster's on_connect, after every
 * connect and after a NOSCRIPT reply). SCRIPT LOAD gives the same SHA1
 * on every node: a different one means a different script. */
static cdc_err_t apply_on_connect(void *opaque, cdc_rcluster_t *rc, void *link,
                                  char *errstr, size_t errstr_size) {
        cdc_apply_t *ap = opaque;
        redisReply *r   = NULL;
        cdc_err_t err   = CDC_ERR_NO_ERROR;
        int id;

        for (id = 0; id < CDC_SCRIPT__CNT; id++) {
                size_t len;
                const char *src    = cdc_scripts_source(id, &len);
                const char *argv[] = { "SCRIPT", "LOAD", src };
                size_t lens[]      = { 6, 4, len };
                const char *why    = NULL;

                err = cdc_rcluster_link_command(rc, link, &r, 3, argv, lens);
                if (err != CDC_ERR_NO_ERROR)
                        why = cdc_rcluster_link_errstr(rc, link);
                else if (r->type == REDIS_REPLY_ERROR)
                        why = r->str;
                else if (r->type != REDIS_REPLY_STRING || r->len != 40)
                        why = "unexpected reply";
                else if (ap->ap_sha[id][0] &&
                         memcmp(ap->ap_sha[id], r->str, 40) != 0)
                        why = "SHA1 differs from another node's";
                if (why) {
                        /* a refused script is as fatal for the batch as a
                         * lost connection: the caller retries */
                        snprintf(errstr, errstr_size, "load script %s: %s",
                                 cdc_scripts_name(id), why);
                        err = CDC_ERR__TRANSPORT;
                        break;
                }
                memcpy(ap->ap_sha[id], r->str, 40);
                ap->ap_sha[id][40] = '\0';
                freeReplyObject(r);
                r = NULL;
        }
        if (r)
                freeReplyObject(r);
        return err;
}

static void apply_metrics_init(cdc_apply_t *ap, cdc_metrics_t *m) {
        ap->ap_m_wait_short = cdc_metrics_counter(
                m, "followcdc_apply_wait_short_total",
                "WAITs that saw fewer replicas than redis.wait.replicas "
                "(writes kept and sent again, offsets held)",
                NULL);
        ap->ap_m_moved = cdc_metrics_counter(
                m, "followcdc_redis_redirects_total",
                "Redis Cluster redirections followed", "kind=\"moved\"");
        ap->ap_m_ask = cdc_metrics_counter(
                m, "followcdc_redis_redirects_total",
                "Redis Cluster redirections followed", "kind=\"ask\"");
        ap->ap_m_tryagain = cdc_metrics_counter(
                m, "followcdc_redis_tryagain_total",
                "TRYAGAIN replies (slot migration in progress; resent)", NULL);
        ap->ap_m_down = cdc_metrics_counter(
                m, "followcdc_redis_cluster_down_total",
                "CLUSTERDOWN, LOADING, MASTERDOWN or READONLY replies "
                "(backed off, offsets held)",
                NULL);
        ap->ap_m_refresh = cdc_metrics_counter(
                m, "followcdc_redis_topology_refreshes_total",
                "Redis Cluster slot maps fetched (CLUSTER SLOTS)", NULL);
        ap->ap_m_node_err = cdc_metrics_counter(
                m, "followcdc_redis_node_errors_total",
                "Connections to a Redis node refused or lost", NULL);
        ap->ap_m_masters = cdc_metrics_gauge(
                m, "followcdc_redis_masters",
                "Redis masters written to (1 outside Redis Cluster)", NULL);
        ap->ap_m_sweeps = cdc_metrics_counter(
                m, "followcdc_apply_truncates_total",
                "TRUNCATE events applied (a sweep of every user or "
                "idempotency record older than the TRUNCATE)",
                NULL);
        ap->ap_m_swept = cdc_metrics_counter(
                m, "followcdc_apply_truncate_removed_total",
                "Edge sides and idempotency records removed by TRUNCATE "
                "sweeps",
                NULL);
        ap->ap_m_purged = cdc_metrics_counter(
                m, "followcdc_apply_purges_total",
                "Purge events of repairs applied (one user's older edges)",
                NULL);
}

/* Publish the router's counters (metrics are optional: NULL metrics
 * ignore updates). */
void apply_metrics_sync(cdc_apply_t *ap) {
        cdc_rcluster_stats_t st;
        const cdc_rcluster_stats_t *l = &ap->ap_rlast;

        cdc_rcluster_stats(ap->ap_rc, &st);
        ap->ap_stats.wait_short = st.wait_short;
        cdc_metric_add(ap->ap_m_wait_short,
                       (int64_t)(st.wait_short - l->wait_short));
        cdc_metric_add(ap->ap_m_moved, (int64_t)(st.moved - l->moved));
        cdc_metric_add(ap->ap_m_ask, (int64_t)(st.ask - l->ask));
        cdc_metric_add(ap->ap_m_tryagain, (int64_t)(st.tryagain - l->tryagain));
        cdc_metric_add(ap->ap_m_down, (int64_t)(st.down - l->down));
        cdc_metric_add(ap->ap_m_refresh,
                       (int64_t)(st.refreshes - l->refreshes));
        cdc_metric_add(ap->ap_m_node_err,
                       (int64_t)(st.node_errors - l->node_errors));
        cdc_metric_set(ap->ap_m_masters, cdc_rcluster_masters(ap->ap_rc));
        ap->ap_stats.round_trips += st.round_trips - l->round_trips;
        ap->ap_rlast = st;
}

cdc_err_t cdc_apply_connect(cdc_apply_t *ap) {
        cdc_err_t err;

        err = cdc_rcluster_connect(ap->ap_rc);
        apply_metrics_sync(ap);
        if (err != CDC_ERR_NO_ERROR) {
                snprintf(ap->ap_errstr, sizeof(ap->ap_errstr), "%s",
                         cdc_rcluster_errstr(ap->ap_rc));
                return err == CDC_ERR__CONFIG ? err : CDC_ERR__TRANSPORT;
        }
        if (ap->ap_connected_once)
                ap->ap_stats.reconnects++;
        ap->ap_connected_once = 1;
        ap->ap_errstr[0]      = '\0';
        cdc_dbg(RSINK, "APPLY",
                "connected to %d master(s), scripts loaded (edge %s, idem %s)",
                cdc_rcluster_masters(ap->ap_rc), ap->ap_sha[CDC_SCRIPT_EDGE],
                ap->ap_sha[CDC_SCRIPT_IDEM]);
        return CDC_ERR_NO_ERROR;
}
/* ---- flush ---- */

/* The scripts of one cdc_rcluster_run(): the queue, or a sweep's page. */
typedef struct apply_run_s {
        cdc_apply_t *ap;
        apply_cmd_t **q;
} apply_run_t;

/* rcluster build callback: EVALSHA sha numkeys KEYS... ARGV... */
static int apply_build(void *opaque, size_t i, int *slotp, const char **argv,
                       size_t *lens, int max) {
        apply_run_t *run      = opaque;
        cdc_apply_t *ap       = run->ap;
        const apply_cmd_t *ac = run->q[i];

        if (APPLY_HDR + ac->ac_argc > max)
                return 0;
        *slotp  = ac->ac_slot;
        argv[0] = "EVALSHA", lens[0] = 7;
        argv[1] = ap->ap_sha[ac->ac_id], lens[1] = 40;
        argv[2] = ap->ap_nkeys[ac->ac_id];
        lens[2] = strlen(ap->ap_nkeys[ac->ac_id]);
        memcpy(argv + APPLY_HDR, ac->ac_argv,
               sizeof(argv[0]) * (size_t)ac->ac_argc);
        memcpy(lens + APPLY_HDR, ac->ac_len,
               sizeof(lens[0]) * (size_t)ac->ac_argc);
        return APPLY_HDR + ac->ac_argc;
}

/* rcluster reply callback: the script's own reply (routing errors such as
 * MOVED or NOSCRIPT never get here). */
static int apply_reply(void *opaque, size_t i, const redisReply *r,
                       char *errstr, size_t errstr_size) {
        apply_run_t *run      = opaque;
        cdc_apply_t *ap       = run->ap;
        const apply_cmd_t *ac = run->q[i];

        if (r->type == REDIS_REPLY_INTEGER) {
                ap->ap_stats.scripts++;
                if (ac->ac_id == CDC_SCRIPT_PURGE ||
                    ac->ac_id == CDC_SCRIPT_IPURGE) {
                        /* the number of members / records removed */
                        if (r->integer > 0) {
                                ap->ap_stats.applied++;
                                ap->ap_swept += (uint64_t)r->integer;
                        }
                } else if (r->integer == CDC_SCRIPT_R_APPLIED)
                        ap->ap_stats.applied++;
                else if (r->integer == CDC_SCRIPT_R_STALE)
                        ap->ap_stats.stale++;
                else if (r->integer == CDC_SCRIPT_R_EXPIRED)
                        ap->ap_stats.expired++;
                return 1;
        }
        snprintf(errstr, errstr_size, "script %s: %.*s",
                 cdc_scripts_name(ac->ac_id),
                 r->type == REDIS_REPLY_ERROR ? (int)r->len : 16,
                 r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
        return 0;
}

/* Run scripts q[0, n) until every one is acknowledged (done flags). */
cdc_err_t apply_run(cdc_apply_t *ap, apply_cmd_t **q, size_t n,
                    unsigned char *done) {
        apply_run_t run = { ap, q };
        cdc_err_t err;

        err = cdc_rcluster_run(ap->ap_rc, n, done, apply_build, apply_reply,
                               &run);
        apply_metrics_sync(ap);
        if (err != CDC_ERR_NO_ERROR)
                snprintf(ap->ap_errstr, sizeof(ap->ap_errstr), "%s",
                         cdc_rcluster_errstr(ap->ap_rc));
        return err;
}

/* Write the queue so far ahead of the flush, once push_every scripts
 * are new since the last push; only while connected and with no
 * sweep queued (a sweep runs alone, after what precedes it). A failure
 * here is the flush's to report. */
void apply_push(cdc_apply_t *ap) {
        apply_run_t run = { ap, ap->ap_q };

        if (!ap->ap_push_every || ap->ap_nopush ||
            ap->ap_qlen < ap->ap_pushed + ap->ap_push_every ||
            !cdc_rcluster_connected(ap->ap_rc))
                return;
        (void)cdc_rcluster_push(ap->ap_rc, ap->ap_qlen, apply_build, &run);
        ap->ap_pushed = ap->ap_qlen;
}

cdc_err_t cdc_apply_flush(cdc_apply_t *ap) {
        cdc_err_t err = CDC_ERR_NO_ERROR;
        size_t i, keep, m;

        /* pushed scripts finish in the first run below, whatever the
         * state of the connections (a failure is reported there) */
        if (!ap->ap_pushed && !cdc_rcluster_connected(ap->ap_rc) &&
            ap->ap_qlen) {
                err = cdc_apply_connect(ap);
                if (err != CDC_ERR_NO_ERROR)
                        return err;
        }
        while (ap->ap_qlen) {
                /* Scripts up to the first TRUNCATE, then its sweep: a
                 * sweep sees everything queued before it applied. */
                for (m = 0; m < ap->ap_qlen; m++)
                        if (ap->ap_q[m]->ac_id == APPLY_SWEEP)
                                break;
                if (m == 0) {
                        err = apply_sweep(ap, ap->ap_q[0]);
                        if (err != CDC_ERR_NO_ERROR)
                                break;
                        free(ap->ap_q[0]);
                        memmove(ap->ap_q, ap->ap_q + 1,
                                (ap->ap_qlen - 1) * sizeof(*ap->ap_q));
                        ap->ap_q[--ap->ap_qlen] = NULL;
                        continue;
                }
                /* Each script goes to the master of its slot (the only
                 * node outside Redis Cluster), one pipeline per node;
                 * redirections and NOSCRIPT are followed within the call.
                 * Scripts a node acknowledged (and, with WAIT, enough of
                 * its replicas) leave the queue; the others stay for the
                 * next flush: re-sending them, in any order, is harmless
                 * since every script is version-checked. */
                memset(ap->ap_acked, 0, ap->ap_qlen);
                err  = apply_run(ap, ap->ap_q, m, ap->ap_acked);
                keep = 0;
                for (i = 0; i < ap->ap_qlen; i++) {
                        if (ap->ap_acked[i]) {
                                free(ap->ap_q[i]);
                                ap->ap_q[i] = NULL;
                        } else {
                                ap->ap_q[keep++] = ap->ap_q[i];
                        }
                }
                for (i = keep; i < ap->ap_qlen; i++)
                        ap->ap_q[i] = NULL;
                ap->ap_qlen = keep;
                if (err != CDC_ERR_NO_ERROR)
                        break;
        }
        ap->ap_pushed = 0;
        ap->ap_nopush = 0;
        if (err == CDC_ERR_NO_ERROR)
                return err;
        return err == CDC_ERR__CONFIG ? err : CDC_ERR__TRANSPORT;
}
