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
        size_t ap_qcap; /* = max_batch */

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
static apply_cmd_t *apply_cmd_new(cdc_script_id_t id, int n,
                                  const char *const *v, const size_t *len) {
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

/* A key: in its own small buffer when it fits (the usual case: no
 * allocation per key), else on the heap. */
typedef struct apply_key_s {
        char *k;
        size_t len;
        char buf[128];
} apply_key_t;

static apply_key_t *apply_key_cat(apply_key_t *key, int nparts,
                                  const char *const *parts,
                                  const size_t *lens) {
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

static void apply_key_free(apply_key_t *key) {
        if (key->k != key->buf)
                free(key->k);
        key->k = NULL;
}

/* Decimal text of \p v into \p buf (at least 21 bytes); @returns its
 * length. As "%" PRId64, without printf (several per event). */
static size_t apply_i64(char *buf, int64_t v) {
        char tmp[24], *p = tmp + sizeof(tmp);
        uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
        size_t n;

        do {
                *--p = (char)('0' + u % 10);
                u /= 10;
        } while (u);
        if (v < 0)
                *--p = '-';
        n = (size_t)(tmp + sizeof(tmp) - p);
        memcpy(buf, p, n);
        buf[n] = '\0';
        return n;
}

/* "<prefix>:{u:<uid>}:<suffix>" */
static int apply_user_key(const cdc_apply_t *ap, apply_key_t *key,
                          const char *uid, const char *suffix) {
        const char *parts[5] = { ap->ap_prefix, ":{u:", uid, "}:", suffix };
        size_t lens[5]       = { ap->ap_prefix_len, 4, strlen(uid), 2,
                                 strlen(suffix) };

        return apply_key_cat(key, 5, parts, lens) ? 0 : -1;
}

/* Canonical decimal text of a user id: a non-negative JSON integer, or a
 * string of 1..20 digits (BIGINT UNSIGNED may exceed json_int_t), leading
 * zeros dropped. Ids become part of key names, so nothing else is
 * accepted. */
static int apply_id_text(const json_t *row, const char *col, char *buf,
                         size_t size, char *errstr, size_t errstr_size) {
        const json_t *v = json_object_get(row, col);

        if (!v) {
                snprintf(errstr, errstr_size, "column %s missing", col);
                return -1;
        }
        if (json_is_integer(v)) {
                json_int_t i = json_integer_value(v);

                if (i < 0) {
                        snprintf(errstr, errstr_size, "column %s negative",
                                 col);
                        return -1;
                }
                if (size < 21)
                        goto bad;
                apply_i64(buf, i);
                return 0;
        }
        if (json_is_string(v)) {
                const char *s = json_string_value(v);
                size_t n      = json_string_length(v), i;

                if (n == 0 || n > 20)
                        goto bad;
                for (i = 0; i < n; i++)
                        if (s[i] < '0' || s[i] > '9')
                                goto bad;
                while (n > 1 && *s == '0') {
                        s++;
                        n--;
                }
                if (n + 1 > size)
                        goto bad;
                /* 20 digits may exceed 2^64-1: compare as text */
                if (n == 20 && memcmp(s, "18446744073709551615", 20) > 0)
                        goto bad;
                memcpy(buf, s, n);
                buf[n] = '\0';
                return 0;
        }
bad:
        snprintf(errstr, errstr_size, "column %s is not an unsigned integer",
                 col);
        return -1;
}

/* Integer column as int64 (JSON integer or decimal string). */
static int apply_int_col(const json_t *row, const char *col, int64_t *vp,
                         char *errstr, size_t errstr_size) {
        const json_t *v = json_object_get(row, col);

        if (json_is_integer(v)) {
                *vp = json_integer_value(v);
                return 0;
        }
        if (json_is_string(v)) {
                const char *s = json_string_value(v);
                size_t n = json_string_length(v), i = 0;
                int neg   = 0;
                int64_t x = 0;

                if (n > 0 && s[0] == '-') {
                        neg = 1;
                        i   = 1;
                }
                if (i == n || n - i > 18)
                        goto bad;
                for (; i < n; i++) {
                        if (s[i] < '0' || s[i] > '9')
                                goto bad;
                        x = x * 10 + (s[i] - '0');
                }
                *vp = neg ? -x : x;
                return 0;
        }
bad:
        snprintf(errstr, errstr_size, "column %s %s", col,
                 v ? "is not an integer" : "missing");
        return -1;
}

/* Time column as ms since the epoch: "YYYY-MM-DDTHH:MM:SS[.ffffff]Z" or a
 * JSON integer of ms. Returns 1 if absent or null, 0 if set, -1 bad. */
static int apply_time_col(const json_t *row, const char *col, int64_t *msp,
                          char *errstr, size_t errstr_size) {
        const json_t *v = json_object_get(row, col);

        if (!v || json_is_null(v))
                return 1;
        if (json_is_integer(v)) {
                *msp = json_integer_value(v);
                return 0;
        }
        if (json_is_string(v) &&
            strlen(json_string_value(v)) == json_string_length(v) &&
            cdc_time_parse_ms(json_string_value(v), msp) == 0)
                return 0;
        snprintf(errstr, errstr_size,
                 "column %s is not a UTC time (YYYY-MM-DDTHH:MM:SS.ffffffZ)",
                 col);
        return -1;
}

/* The version as Redis stores it: the fixed-width decimal text of
 * cdc_event_version() without its leading zeros ("0" if all zero). The
 * scripts order two such numbers by length, then as strings, which is the
 * order of the fixed-width texts; it saves ~20 bytes per stored version
 * and lets listpack encodings keep most versions as integers. */
static int apply_version_compact(const char *vtext, char *out) {
        size_t i = 0, n = strlen(vtext), k;

        if (n != CDC_VERSION_LEN)
                return -1;
        for (k = 0; k < n; k++)
                if (vtext[k] < '0' || vtext[k] > '9')
                        return -1;
        while (i + 1 < n && vtext[i] == '0')
                i++;
        memcpy(out, vtext + i, n - i + 1);
        return 0;
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
        ap->ap_qcap  = (size_t)max_batch;
        ap->ap_q     = calloc(ap->ap_qcap, sizeof(*ap->ap_q));
        ap->ap_acked = calloc(ap->ap_qcap, 1);
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
static void apply_metrics_sync(cdc_apply_t *ap) {
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

/* ---- event -> scripts ---- */

/* One edge direction as one user sees it: "o" (me -> other) or "i"
 * (other -> me), whether it exists and since when. */
typedef struct apply_side_s {
        const char *dir;
        int exists;
        int64_t score_ms;
} apply_side_t;

/* One edge script on the keys of \p me about \p other: one or two sides,
 * all at version \p ver of source \p tag ("" = home). */
static apply_cmd_t *apply_user(cdc_apply_t *ap, const char *me,
                               const char *other, const char *ver,
                               const char *tag, const apply_side_t *sides,
                               int nsides) {
        static const char *const suffix[4] = { "following", "followers",
                                               "friends", "ver" };
        apply_key_t keys[4];
        char score[2][24];
        const char *v[CDC_SCRIPT_EDGE_NKEYS + CDC_SCRIPT_EDGE_NARGS];
        size_t len[CDC_SCRIPT_EDGE_NKEYS + CDC_SCRIPT_EDGE_NARGS];
        apply_cmd_t *ac = NULL;
        int i, n = 0;

        memset(keys, 0, sizeof(keys));
        for (i = 0; i < 4; i++) {
                if (apply_user_key(ap, &keys[i], me, suffix[i]) != 0)
                        goto out;
                v[n] = keys[i].k, len[n] = keys[i].len, n++;
        }
        v[n] = other, len[n] = strlen(other), n++;
        v[n] = ver, len[n] = strlen(ver), n++;
        v[n] = tag, len[n] = strlen(tag), n++;
        for (i = 0; i < nsides && i < 2; i++) {
                apply_i64(score[i], sides[i].exists ? sides[i].score_ms : 0);
                v[n] = sides[i].dir, len[n] = 1, n++;
                v[n] = sides[i].exists ? "1" : "0", len[n] = 1, n++;
                v[n] = score[i], len[n] = strlen(score[i]), n++;
        }
        ac = apply_cmd_new(CDC_SCRIPT_EDGE, n, v, len);
out:
        for (i = 0; i < 4; i++)
                apply_key_free(&keys[i]);
        return ac;
}

/* Queue the two sides of one edge change follower -> followee. */
static int apply_edge(cdc_apply_t *ap, apply_cmd_t **out, const char *fr,
                      const char *fe, const char *ver, const char *tag,
                      int exists, int64_t score_ms) {
        apply_side_t s = { "o", exists, score_ms };

        /* follower side: my following */
        out[0] = apply_user(ap, fr, fe, ver, tag, &s, 1);
        /* followee side: my followers */
        s.dir  = "i";
        out[1] = apply_user(ap, fe, fr, ver, tag, &s, 1);
        return out[0] && out[1] ? 0 : -1;
}

/* Queue the two scripts of a pair row (a, b): a's keys and b's keys, each
 * updating both directions. */
static int apply_pair_edges(cdc_apply_t *ap, apply_cmd_t **out, const char *a,
                            const char *b, const char *ver, const char *tag,
                            int ab, int64_t t_ab, int ba, int64_t t_ba) {
        apply_side_t sa[2] = { { "o", ab, t_ab }, { "i", ba, t_ba } };
        apply_side_t sb[2] = { { "o", ba, t_ba }, { "i", ab, t_ab } };

        out[0] = apply_user(ap, a, b, ver, tag, sa, 2);
        out[1] = apply_user(ap, b, a, ver, tag, sb, 2);
        return out[0] && out[1] ? 0 : -1;
}

/* The tag stored with versions of \p ev's source: "" for the home source,
 * else its name. Names become part of stored values, so only what a
 * producer can use as a topic prefix is accepted. */
static int apply_source_tag(const cdc_apply_t *ap, const cdc_event_t *ev,
                            const char **tagp, char *errstr,
                            size_t errstr_size) {
        const char *name = ev->source.name;
        size_t i, n = strnlen(name, sizeof(ev->source.name));

        if (n < sizeof(ev->source.name) && strcmp(name, ap->ap_home) == 0) {
                *tagp = "";
                return 0;
        }
        if (n == 0 || n >= sizeof(ev->source.name))
                goto bad;
        for (i = 0; i < n; i++) {
                char c = name[i];

                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                      c == '-'))
                        goto bad;
        }
        *tagp = name;
        return 0;
bad:
        snprintf(errstr, errstr_size,
                 "source.name is not a source name ([A-Za-z0-9._-]{1,127})");
        return -1;
}

/* The follow time of a row: the time column, or (absent or NULL) the
 * commit time. */
static int apply_score(const cdc_event_t *ev, const json_t *row,
                       const char *col, int64_t *msp, char *errstr,
                       size_t errstr_size) {
        int r = apply_time_col(row, col, msp, errstr, errstr_size);

        if (r < 0)
                return -1;
        if (r > 0)
                *msp = ev->source.ts_ms;
        return 0;
}

static cdc_err_t apply_follow(cdc_apply_t *ap, const cdc_event_t *ev,
                              const char *ver, const char *tag,
                              apply_cmd_t **out, int *np, char *errstr,
                              size_t errstr_size) {
        const json_t *row = cdc_event_row(ev);
        char fr[24], fe[24], ofr[24], ofe[24];
        int64_t status = 0, score = 0;
        int exists = 0, n = 0;

        if (!json_is_object(row)) {
                snprintf(errstr, errstr_size, "op %c without a row image",
                         (char)ev->op);
                return CDC_ERR__BAD_EVENT;
        }
        if (apply_id_text(row, ap->ap_col_follower, fr, sizeof(fr), errstr,
                          errstr_size) != 0 ||
            apply_id_text(row, ap->ap_col_followee, fe, sizeof(fe), errstr,
                          errstr_size) != 0)
                return CDC_ERR__BAD_EVENT;
        if (ev->op != CDC_OP_DELETE) {
                if (apply_int_col(row, ap->ap_col_status, &status, errstr,
                                  errstr_size) != 0)
                        return CDC_ERR__BAD_EVENT;
                exists = status == 1;
        }
        if (exists && apply_score(ev, row, ap->ap_col_time, &score, errstr,
                                  errstr_size) != 0)
                return CDC_ERR__BAD_EVENT;
        /* An update that moved the edge (changed follower or followee):
         * the old edge is gone as of this version. A before image without
         * usable ids (not a FULL row image) cannot tell: skip the check. */
        if (ev->op == CDC_OP_UPDATE && json_is_object(ev->before) &&
            apply_id_text(ev->before, ap->ap_col_follower, ofr, sizeof(ofr),
                          errstr, errstr_size) == 0 &&
            apply_id_text(ev->before, ap->ap_col_followee, ofe, sizeof(ofe),
                          errstr, errstr_size) == 0) {
                if (strcmp(ofr, fr) != 0 || strcmp(ofe, fe) != 0) {
                        if (apply_edge(ap, out, ofr, ofe, ver, tag, 0, 0) != 0)
                                goto nomem;
                        n = 2;
                }
        }
        errstr[0] = '\0';
        if (apply_edge(ap, out + n, fr, fe, ver, tag, exists, score) != 0)
                goto nomem;
        n += 2;
        *np = n;
        return CDC_ERR_NO_ERROR;
nomem:
        /* the caller frees whatever was built */
        snprintf(errstr, errstr_size, "out of memory");
        return CDC_ERR__NOMEM;
}

/* The two users of a pair row. A row of one user with himself has no
 * meaning in a pair table (both bits would be one edge). */
static int apply_pair_ids(const cdc_apply_t *ap, const json_t *row, char *a,
                          char *b, char *errstr, size_t errstr_size) {
        if (apply_id_text(row, ap->ap_col_a, a, 24, errstr, errstr_size) != 0 ||
            apply_id_text(row, ap->ap_col_b, b, 24, errstr, errstr_size) != 0)
                return -1;
        if (strcmp(a, b) == 0) {
                snprintf(errstr, errstr_size, "columns %s and %s are equal",
                         ap->ap_col_a, ap->ap_col_b);
                return -1;
        }
        return 0;
}

/* A pair row (user a, user b, relation bits): bit 1 = a follows b, bit 2 =
 * b follows a (3 = friends); other bits are not ours. A delete ends both
 * directions. */
static cdc_err_t apply_pair(cdc_apply_t *ap, const cdc_event_t *ev,
                            const char *ver, const char *tag, apply_cmd_t **out,
                            int *np, char *errstr, size_t errstr_size) {
        const json_t *row = cdc_event_row(ev);
        char a[24], b[24], oa[24], ob[24];
        int64_t rel = 0, t_ab = 0, t_ba = 0;
        int ab = 0, ba = 0, n = 0;

        if (!json_is_object(row)) {
                snprintf(errstr, errstr_size, "op %c without a row image",
                         (char)ev->op);
                return CDC_ERR__BAD_EVENT;
        }
        if (apply_pair_ids(ap, row, a, b, errstr, errstr_size) != 0)
                return CDC_ERR__BAD_EVENT;
        if (ev->op != CDC_OP_DELETE) {
                if (apply_int_col(row, ap->ap_col_rel, &rel, errstr,
                                  errstr_size) != 0)
                        return CDC_ERR__BAD_EVENT;
                if (rel < 0) {
                        snprintf(errstr, errstr_size, "column %s negative",
                                 ap->ap_col_rel);
                        return CDC_ERR__BAD_EVENT;
                }
                ab = (rel & 1) != 0;
                ba = (rel & 2) != 0;
        }
        if ((ab && apply_score(ev, row, ap->ap_col_tab, &t_ab, errstr,
                               errstr_size) != 0) ||
            (ba && apply_score(ev, row, ap->ap_col_tba, &t_ba, errstr,
                               errstr_size) != 0))
                return CDC_ERR__BAD_EVENT;
        /* An update that changed the pair's users: the old pair is gone as
         * of this version (as a moved follow edge). */
        if (ev->op == CDC_OP_UPDATE && json_is_object(ev->before) &&
            apply_pair_ids(ap, ev->before, oa, ob, errstr, errstr_size) == 0 &&
            (strcmp(oa, a) != 0 || strcmp(ob, b) != 0)) {
                if (apply_pair_edges(ap, out, oa, ob, ver, tag, 0, 0, 0, 0) !=
                    0)
                        goto nomem;
                n = 2;
        }
        errstr[0] = '\0';
        if (apply_pair_edges(ap, out + n, a, b, ver, tag, ab, t_ab, ba, t_ba) !=
            0)
                goto nomem;
        n += 2;
        *np = n;
        return CDC_ERR_NO_ERROR;
nomem:
        snprintf(errstr, errstr_size, "out of memory");
        return CDC_ERR__NOMEM;
}

/* One idem script for \p row: the row exists (\p present) or was deleted
 * as of \p ver. */
static cdc_err_t apply_idem_row(cdc_apply_t *ap, const json_t *row, int present,
                                const char *ver, const char *tag,
                                apply_cmd_t **out, char *errstr,
                                size_t errstr_size) {
        const json_t *jrid, *jbiz;
        const char *rid, *biz = "";
        size_t ridlen, bizlen = 0;
        char ridnum[24], biznum[24], status[24], expire[24];
        int64_t st = 0, created = 0;
        apply_key_t rec = { NULL, 0, { 0 } }, tomb = { NULL, 0, { 0 } };
        const char *v[CDC_SCRIPT_IDEM_NKEYS + CDC_SCRIPT_IDEM_NARGS];
        size_t len[CDC_SCRIPT_IDEM_NKEYS + CDC_SCRIPT_IDEM_NARGS];
        cdc_err_t err = CDC_ERR__BAD_EVENT;
        int r;

        jrid = json_object_get(row, ap->ap_col_request);
        if (json_is_string(jrid)) {
                rid    = json_string_value(jrid);
                ridlen = json_string_length(jrid);
        } else if (json_is_integer(jrid)) {
                snprintf(ridnum, sizeof(ridnum), "%" JSON_INTEGER_FORMAT,
                         json_integer_value(jrid));
                rid    = ridnum;
                ridlen = strlen(ridnum);
        } else {
                snprintf(errstr, errstr_size, "column %s %s",
                         ap->ap_col_request,
                         jrid ? "is not a string" : "missing");
                goto out;
        }
        if (ridlen > APPLY_MAX_FIELD) {
                snprintf(errstr, errstr_size, "column %s too long (%zu)",
                         ap->ap_col_request, ridlen);
                goto out;
        }
        jbiz = json_object_get(row, ap->ap_col_bizkey);
        if (json_is_string(jbiz)) {
                biz    = json_string_value(jbiz);
                bizlen = json_string_length(jbiz);
        } else if (json_is_integer(jbiz)) {
                snprintf(biznum, sizeof(biznum), "%" JSON_INTEGER_FORMAT,
                         json_integer_value(jbiz));
                biz    = biznum;
                bizlen = strlen(biznum);
        } else if (jbiz && !json_is_null(jbiz)) {
                snprintf(errstr, errstr_size, "column %s is not a string",
                         ap->ap_col_bizkey);
                goto out;
        }
        if (bizlen > APPLY_MAX_FIELD) {
                snprintf(errstr, errstr_size, "column %s too long (%zu)",
                         ap->ap_col_bizkey, bizlen);
                goto out;
        }
        status[0] = '\0';
        if (present) {
                if (apply_int_col(row, ap->ap_col_istatus, &st, errstr,
                                  errstr_size) != 0)
                        goto out;
                snprintf(status, sizeof(status), "%" PRId64, st);
        }
        r = apply_time_col(row, ap->ap_col_created, &created, errstr,
                           errstr_size);
        if (r > 0)
                snprintf(errstr, errstr_size, "column %s missing",
                         ap->ap_col_created);
        if (r != 0)
                goto out;
        /* keep PEXPIREAT in range (and the sum from overflowing) */
        if (created < 0 || created > APPLY_MAX_TIME_MS ||
            ap->ap_idem_ttl_ms > APPLY_MAX_TIME_MS) {
                snprintf(errstr, errstr_size, "column %s out of range",
                         ap->ap_col_created);
                goto out;
        }
        snprintf(expire, sizeof(expire), "%" PRId64,
                 created + ap->ap_idem_ttl_ms);

        {
                const char *parts[4] = { ap->ap_prefix, ":idem:{r:", rid, "}" };
                size_t lens[4]       = { ap->ap_prefix_len, 9, ridlen, 1 };
                const char *tparts[5] = { ap->ap_prefix, ":idem:{r:", rid, "}",
                                          ":del" };
                size_t tlens[5]       = { ap->ap_prefix_len, 9, ridlen, 1, 4 };

                if (!apply_key_cat(&rec, 4, parts, lens) ||
                    !apply_key_cat(&tomb, 5, tparts, tlens)) {
                        err = CDC_ERR__NOMEM;
                        goto out;
                }
        }
        v[0] = rec.k, len[0] = rec.len;
        v[1] = tomb.k, len[1] = tomb.len;
        v[2] = ver, len[2] = strlen(ver);
        v[3] = present ? "1" : "0", len[3] = 1;
        v[4] = expire, len[4] = strlen(expire);
        v[5] = status, len[5] = strlen(status);
        v[6] = biz, len[6] = bizlen;
        v[7] = tag, len[7] = strlen(tag);
        out[0] = apply_cmd_new(CDC_SCRIPT_IDEM, 8, v, len);
        if (!out[0]) {
                err = CDC_ERR__NOMEM;
                goto out;
        }
        err = CDC_ERR_NO_ERROR;
out:
        if (err == CDC_ERR__NOMEM)
                snprintf(errstr, errstr_size, "out of memory");
        apply_key_free(&rec);
        apply_key_free(&tomb);
        return err;
}

static cdc_err_t apply_idem(cdc_apply_t *ap, const cdc_event_t *ev,
                            const char *ver, const char *tag, apply_cmd_t **out,
                            int *np, char *errstr, size_t errstr_size) {
        const json_t *row = cdc_event_row(ev);
        cdc_err_t err;
        int n = 0;

        *np = 0;
        if (!json_is_object(row)) {
                snprintf(errstr, errstr_size, "op %c without a row image",
                         (char)ev->op);
                return CDC_ERR__BAD_EVENT;
        }
        /* An update that changed the request id: the old record is gone
         * as of this version. */
        if (ev->op == CDC_OP_UPDATE && json_is_object(ev->before)) {
                const json_t *was =
                        json_object_get(ev->before, ap->ap_col_request);
                const json_t *is = json_object_get(row, ap->ap_col_request);

                if (was && is && !json_equal(was, is)) {
                        err = apply_idem_row(ap, ev->before, 0, ver, tag, out,
                                             errstr, errstr_size);
                        if (err != CDC_ERR_NO_ERROR)
                                return err;
                        n = 1;
                }
        }
        err = apply_idem_row(ap, row, ev->op != CDC_OP_DELETE, ver, tag,
                             out + n, errstr, errstr_size);
        if (err != CDC_ERR_NO_ERROR)
                return err;
        *np = n + 1;
        return CDC_ERR_NO_ERROR;
}

/* Control events: a TRUNCATE becomes a sweep marker (run by the flush
 * once every script queued before it is acknowledged), a purge the purge
 * script on the user's keys. */
static cdc_err_t apply_control(cdc_apply_t *ap, const cdc_event_t *ev,
                               const char *ver, const char *tag,
                               apply_cmd_t **out, int *np, char *errstr,
                               size_t errstr_size) {
        static const char *const suffix[4] = { "following", "followers",
                                               "friends", "ver" };
        int follow = strcmp(ev->source.table, ap->ap_follow_table) == 0;
        int idem   = strcmp(ev->source.table, ap->ap_idem_table) == 0;
        apply_key_t k[4];
        const char *v[CDC_SCRIPT_PURGE_NKEYS + CDC_SCRIPT_PURGE_NARGS];
        size_t len[CDC_SCRIPT_PURGE_NKEYS + CDC_SCRIPT_PURGE_NARGS];
        int i;

        *np = 0;
        /* the marker: "f"/"i", the version, the source tag */
        if (ev->op == CDC_OP_TRUNCATE) {
                if (!follow && !idem) {
                        ap->ap_stats.ignored++;
                        return CDC_ERR_NO_ERROR;
                }
                v[0] = follow ? "f" : "i", len[0] = 1;
                v[1] = ver, len[1] = strlen(ver);
                v[2] = tag, len[2] = strlen(tag);
                out[0] = apply_cmd_new(APPLY_SWEEP, 3, v, len);
                if (!out[0])
                        goto nomem;
                *np = 1;
                return CDC_ERR_NO_ERROR;
        }
        /* a purge: of one user, in the follow table only */
        if (!follow) {
                snprintf(errstr, errstr_size,
                         "op p (purge) of table \"%s\": only the follow "
                         "table has users",
                         ev->source.table);
                return CDC_ERR__BAD_EVENT;
        }
        if (!ev->purge_user[0]) {
                snprintf(errstr, errstr_size, "op p without a user");
                return CDC_ERR__BAD_EVENT;
        }
        memset(k, 0, sizeof(k));
        for (i = 0; i < 4; i++)
                if (apply_user_key(ap, &k[i], ev->purge_user, suffix[i]) != 0)
                        goto nomem_keys;
        for (i = 0; i < 4; i++)
                v[i] = k[i].k, len[i] = k[i].len;
        v[4] = ver, len[4] = strlen(ver);
        v[5] = tag, len[5] = strlen(tag);
        out[0] = apply_cmd_new(CDC_SCRIPT_PURGE, 6, v, len);
        for (i = 0; i < 4; i++)
                apply_key_free(&k[i]);
        if (!out[0])
                goto nomem;
        cdc_metric_add(ap->ap_m_purged, 1);
        *np = 1;
        return CDC_ERR_NO_ERROR;
nomem_keys:
        for (i = 0; i < 4; i++)
                apply_key_free(&k[i]);
nomem:
        snprintf(errstr, errstr_size, "out of memory");
        return CDC_ERR__NOMEM;
}

cdc_err_t cdc_apply_add(cdc_apply_t *ap, const cdc_event_t *ev, char *errstr,
                        size_t errstr_size) {
        apply_cmd_t *out[4] = { NULL, NULL, NULL, NULL };
        char vtext[CDC_VERSION_LEN + 1], ver[CDC_VERSION_LEN + 1];
        const char *tag = "";
        cdc_err_t err   = CDC_ERR_NO_ERROR;
        int n           = 0, i;

        errstr[0] = '\0';
        if (ap->ap_qlen + 4 > ap->ap_qcap) {
                snprintf(errstr, errstr_size, "%zu scripts queued: flush first",
                         ap->ap_qlen);
                return CDC_ERR__QUEUE_FULL;
        }
        switch (ev->op) {
        case CDC_OP_CREATE:
        case CDC_OP_UPDATE:
        case CDC_OP_DELETE:
        case CDC_OP_READ:
        case CDC_OP_TRUNCATE:
        case CDC_OP_PURGE:
                break;
        default:
                snprintf(errstr, errstr_size, "unknown op 0x%02x",
                         (unsigned)ev->op & 0xff);
                return CDC_ERR__BAD_EVENT;
        }
        cdc_event_version(&ev->source, vtext);
        if (apply_version_compact(vtext, ver) != 0) {
                snprintf(errstr, errstr_size, "bad version text");
                return CDC_ERR__BAD_EVENT;
        }
        if (ev->op == CDC_OP_TRUNCATE || ev->op == CDC_OP_PURGE) {
                if (apply_source_tag(ap, ev, &tag, errstr, errstr_size) != 0)
                        return CDC_ERR__BAD_EVENT;
                err = apply_control(ap, ev, ver, tag, out, &n, errstr,
                                    errstr_size);
                if (err != CDC_ERR_NO_ERROR)
                        goto out;
                if (n == 0) {
                        ap->ap_stats.events++;
                        return CDC_ERR_NO_ERROR; /* ignored (counted) */
                }
                goto queue;
        }
        if (strcmp(ev->source.table, ap->ap_follow_table) != 0 &&
            strcmp(ev->source.table, ap->ap_idem_table) != 0) {
                ap->ap_stats.events++;
                ap->ap_stats.ignored++;
                return CDC_ERR_NO_ERROR;
        }
        if (apply_source_tag(ap, ev, &tag, errstr, errstr_size) != 0)
                return CDC_ERR__BAD_EVENT;
        if (strcmp(ev->source.table, ap->ap_follow_table) != 0)
                err = apply_idem(ap, ev, ver, tag, out, &n, errstr,
                                 errstr_size);
        else if (ap->ap_model == CDC_APPLY_MODEL_PAIR)
                err = apply_pair(ap, ev, ver, tag, out, &n, errstr,
                                 errstr_size);
        else
                err = apply_follow(ap, ev, ver, tag, out, &n, errstr,
                                   errstr_size);
        if (err != CDC_ERR_NO_ERROR)
                goto out;
queue:
        for (i = 0; i < n; i++) {
                ap->ap_q[ap->ap_qlen++] = out[i];
                out[i]                  = NULL;
        }
        ap->ap_stats.events++;
out:
        for (i = 0; i < 4; i++)
                free(out[i]);
        return err;
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
static cdc_err_t apply_run(cdc_apply_t *ap, apply_cmd_t **q, size_t n,
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

/* The user id in a key "<prefix>:{u:<uid>}..." into \p uid (digits, at
 * most 20). @returns 0, or -1 if the key is not a user key. */
static int apply_key_uid(const cdc_apply_t *ap, const char *k, size_t len,
                         char *uid) {
        size_t o = ap->ap_prefix_len + 4, n = 0;

        if (len <= o || memcmp(k, ap->ap_prefix, ap->ap_prefix_len) ||
            memcmp(k + ap->ap_prefix_len, ":{u:", 4))
                return -1;
        while (o < len && k[o] >= '0' && k[o] <= '9' && n < 20)
                uid[n++] = k[o++];
        if (!n || o >= len || k[o] != '}')
                return -1;
        uid[n] = '\0';
        return 0;
}

static int apply_cmp_str(const void *a, const void *b) {
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The scripts of one SCAN page of a sweep: a purge per user (each once),
 * or an ipurge per idempotency record. @returns the number built, or -1
 * (out of memory). */
static int apply_sweep_page(cdc_apply_t *ap, const redisReply *keys, int idem,
                            const char *ver, const char *tag,
                            apply_cmd_t **cmds) {
        static const char *const suffix[4] = { "following", "followers",
                                               "friends", "ver" };
        char(*uids)[21]                    = NULL;
        char **sorted                      = NULL;
        size_t i, nu = 0;
        int n = 0, k;

        if (idem) {
                for (i = 0; i < keys->elements; i++) {
                        const redisReply *e = keys->element[i];
                        apply_key_t tomb    = { NULL, 0 };
                        const char *v[4];
                        size_t len[4];
                        const char *parts[2] = { NULL, ":del" };
                        size_t lens[2]       = { 0, 4 };

                        /* records end with "}", tombstones with ":del" */
                        if (e->type != REDIS_REPLY_STRING || e->len < 2 ||
                            e->str[e->len - 1] != '}')
                                continue;
                        parts[0] = e->str, lens[0] = e->len;
                        if (!apply_key_cat(&tomb, 2, parts, lens))
                                goto nomem;
                        v[0] = e->str, len[0] = e->len;
                        v[1] = tomb.k, len[1] = tomb.len;
                        v[2] = ver, len[2] = strlen(ver);
                        v[3] = tag, len[3] = strlen(tag);
                        cmds[n] = apply_cmd_new(CDC_SCRIPT_IPURGE, 4, v, len);
                        apply_key_free(&tomb);
                        if (!cmds[n])
                                goto nomem;
                        n++;
                }
                return n;
        }
        uids   = calloc(keys->elements + 1, sizeof(*uids));
        sorted = calloc(keys->elements + 1, sizeof(*sorted));
        if (!uids || !sorted)
                goto nomem;
        for (i = 0; i < keys->elements; i++) {
                const redisReply *e = keys->element[i];
                if (e->type == REDIS_REPLY_STRING &&
                    apply_key_uid(ap, e->str, e->len, uids[nu]) == 0) {
                        sorted[nu] = uids[nu];
                        nu++;
                }
        }
        qsort(sorted, nu, sizeof(*sorted), apply_cmp_str);
        for (i = 0; i < nu; i++) {
                apply_key_t kk[4];
                const char *v[6];
                size_t len[6];

                if (i && !strcmp(sorted[i], sorted[i - 1]))
                        continue; /* the same user's next key */
                memset(kk, 0, sizeof(kk));
                for (k = 0; k < 4; k++)
                        if (apply_user_key(ap, &kk[k], sorted[i], suffix[k]))
                                break;
                if (k == 4) {
                        for (k = 0; k < 4; k++)
                                v[k] = kk[k].k, len[k] = kk[k].len;
                        v[4] = ver, len[4] = strlen(ver);
                        v[5] = tag, len[5] = strlen(tag);
                        cmds[n] = apply_cmd_new(CDC_SCRIPT_PURGE, 6, v, len);
                }
                for (k = 0; k < 4; k++)
                        apply_key_free(&kk[k]);
                if (!cmds[n])
                        goto nomem;
                n++;
        }
        free(uids);
        free(sorted);
        return n;
nomem:
        while (n > 0)
                free(cmds[--n]);
        free(uids);
        free(sorted);
        return -1;
}

/*
 * A TRUNCATE of the follow (\p mk argv[0] "f") or idempotent_log ("i")
 * table at version argv[1]: SCAN every master for the table's keys and
 * run the purge script of each user (ipurge of each record), which
 * removes what is older than the TRUNCATE. Idempotent: a failure part
 * way is retried from the start by the next flush.
 */
static cdc_err_t apply_sweep(cdc_apply_t *ap, const apply_cmd_t *mk) {
        int idem        = mk->ac_argv[0][0] == 'i';
        const char *ver = mk->ac_argv[1];
        const char *tag = mk->ac_argv[2];
        apply_key_t pat = { NULL, 0 };
        const char *parts[2];
        size_t lens[2], scanned = 0;
        uint64_t swept0 = ap->ap_swept;
        int64_t start   = cdc_now_us();
        cdc_err_t err   = CDC_ERR_NO_ERROR;
        int m, masters;

        parts[0] = ap->ap_prefix, lens[0] = ap->ap_prefix_len;
        parts[1] = idem ? ":idem:{r:*" : ":{u:*";
        lens[1]  = strlen(parts[1]);
        if (!apply_key_cat(&pat, 2, parts, lens)) {
                snprintf(ap->ap_errstr, sizeof(ap->ap_errstr), "out of memory");
                return CDC_ERR__TRANSPORT;
        }
        cdc_log(LOG_NOTICE, "APPLY",
                "TRUNCATE of the %s table at version %s: removing every %s "
                "older than it",
                idem ? "idempotency" : "follow", ver,
                idem ? "idempotency record" : "edge");
        masters = cdc_rcluster_masters(ap->ap_rc);
        for (m = 0; m < masters && !err; m++) {
                char cursor[32] = "0";
                do {
                        const char *argv[6] = { "SCAN",  cursor,
                                                "MATCH", pat.k,
                                                "COUNT", APPLY_SWEEP_COUNT };
                        size_t alen[6]      = { 4, strlen(cursor),
                                                5, pat.len,
                                                5, strlen(APPLY_SWEEP_COUNT) };
                        redisReply *r       = NULL;
                        apply_cmd_t **cmds;
                        unsigned char *done;
                        int n, i;

                        err = cdc_rcluster_master_command(ap->ap_rc, m, &r, 6,
                                                          argv, alen);
                        if (err) {
                                snprintf(ap->ap_errstr, sizeof(ap->ap_errstr),
                                         "TRUNCATE sweep: %s",
                                         cdc_rcluster_errstr(ap->ap_rc));
                                break;
                        }
                        if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
                            r->element[0]->type != REDIS_REPLY_STRING ||
                            r->element[0]->len >= sizeof(cursor) ||
                            r->element[1]->type != REDIS_REPLY_ARRAY) {
                                snprintf(ap->ap_errstr, sizeof(ap->ap_errstr),
                                         "TRUNCATE sweep: SCAN: %.*s",
                                         r->type == REDIS_REPLY_ERROR
                                                 ? (int)r->len
                                                 : 16,
                                         r->type == REDIS_REPLY_ERROR
                                                 ? r->str
                                                 : "unexpected reply");
                                freeReplyObject(r);
                                err = CDC_ERR__TRANSPORT;
                                break;
                        }
                        memcpy(cursor, r->element[0]->str, r->element[0]->len);
                        cursor[r->element[0]->len] = '\0';
                        scanned += r->element[1]->elements;
                        cmds = calloc(r->element[1]->elements + 1,
                                      sizeof(*cmds));
                        done = calloc(r->element[1]->elements + 1, 1);
                        n    = cmds && done
                                       ? apply_sweep_page(ap, r->element[1], idem,
                                                          ver, tag, cmds)
                                       : -1;
                        freeReplyObject(r);
                        if (n < 0) {
                                snprintf(ap->ap_errstr, sizeof(ap->ap_errstr),
                                         "out of memory");
                                err = CDC_ERR__TRANSPORT;
                        } else if (n > 0) {
                                err = apply_run(ap, cmds, (size_t)n, done);
                        }
                        for (i = 0; i < n; i++)
                                free(cmds[i]);
                        free(cmds);
                        free(done);
                } while (!err && strcmp(cursor, "0") != 0);
        }
        apply_key_free(&pat);
        if (err)
                return err;
        cdc_metric_add(ap->ap_m_sweeps, 1);
        cdc_metric_add(ap->ap_m_swept, (int64_t)(ap->ap_swept - swept0));
        cdc_log(LOG_NOTICE, "APPLY",
                "TRUNCATE of the %s table applied: %zu keys scanned on %d "
                "master(s), %" PRIu64 " %s removed in %.1fs",
                idem ? "idempotency" : "follow", scanned, masters,
                ap->ap_swept - swept0, idem ? "records" : "edge sides",
                (double)(cdc_now_us() - start) / 1e6);
        return CDC_ERR_NO_ERROR;
}

cdc_err_t cdc_apply_flush(cdc_apply_t *ap) {
        cdc_err_t err = CDC_ERR_NO_ERROR;
        size_t i, keep, m;

        if (!cdc_rcluster_connected(ap->ap_rc) && ap->ap_qlen) {
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
        if (err == CDC_ERR_NO_ERROR)
                return err;
        return err == CDC_ERR__CONFIG ? err : CDC_ERR__TRANSPORT;
}
