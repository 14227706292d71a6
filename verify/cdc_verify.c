/**
 * @file cdc_verify.c
 * @brief followcdc-verify's engine (see cdc_verify.h, docs/verify.md).
 *
 * A run goes chunk by chunk. For each chunk of users (a range of ids, or
 * a slice of --users / --sample) one consistent MySQL read gives the rows
 * and the binlog position P of the read; every row goes through the
 * consumer's own mapping (cdc_apply_add(): the scripts it would run for a
 * snapshot read of that row) so key names, members, scores and expiries
 * are the consumer's, not a second implementation. Redis is read for the
 * chunk's users and compared. A user with differences that Redis' edge
 * versions do not explain as newer changes is a suspect: suspects are
 * kept (with their expected state and P) until verify.max.suspects or the
 * end, then verify waits until the pipeline applied up to the newest P
 * (cdc_vsettle), re-reads Redis for the suspects only and reports what
 * still differs. After that wait every edge side holds either the newest
 * change up to its P - then it must equal MySQL at P - or a newer one,
 * which its version shows: so what is reported is a divergence.
 */
#include "cdc_verify.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cdc_apply.h"
#include "cdc_apply_int.h"
#include "cdc_backoff.h"
#include "cdc_log.h"
#include "cdc_rcluster.h"
#include "cdc_vsettle.h"
#include "cdc_vsource.h"

#define VERIFY_IDLEN   24
/* an error of the engine itself inside a row callback (reason in
 * v_errstr); the MySQL module never returns this code on its own */
#define VERIFY_ECB     CDC_ERR__BAD_EVENT
/* commit time stand-in: the consumer scores a row without its time column
 * with the commit time, which only the binlog knows; such scores are not
 * compared */
#define VERIFY_NO_TIME INT64_MIN

/* One expected member, from one MySQL row. */
typedef struct ventry_s {
        char uid[VERIFY_IDLEN];
        char other[VERIFY_IDLEN];
        int set; /* CDC_VSET_FOLLOWING or CDC_VSET_FOLLOWERS */
        int present;
        double score;
        json_t *row;
} ventry_t;

/* Redis keys of a user, in command order. */
enum {
        VK_FOLLOWING,
        VK_FOLLOWERS,
        VK_FRIENDS,
        VK_VER,
        VK__CNT
};

typedef struct vuser_s {
        char uid[VERIFY_IDLEN];
        cdc_vsnap_t snap;
        ventry_t *ents; /* owned */
        size_t nents;
        cdc_vmember_t *e[CDC_VSET__CNT]; /* expected */
        size_t en[CDC_VSET__CNT];
        char *key[VK__CNT];
        size_t klen[VK__CNT];
        /* Redis */
        char *rblk[VK__CNT]; /* one block per reply */
        cdc_vmember_t *r[CDC_VSET__CNT];
        size_t rn[CDC_VSET__CNT];
        cdc_vver_t *ver;
        size_t nver;
        int reported; /* differences reported in the final pass */
} vuser_t;

/* One idempotency record. */
typedef struct videm_s {
        cdc_vsnap_t snap;
        char *rec, *tomb; /* keys */
        size_t rec_len, tomb_len;
        const char *rid; /* inside rec */
        size_t rid_len;
        char *status, *biz;
        size_t biz_len;
        int64_t expire_ms;
        json_t *row;
        /* Redis */
        char *rblk;
        char *tomb_ver;
        cdc_videm_t red;
} videm_t;

struct cdc_verify_s {
        const cdc_vconf_t *v_vc;
        FILE *v_out;
        cdc_vsource_t *v_src;
        cdc_apply_t *v_ap;
        cdc_rcluster_t *v_rc;
        cdc_vsettle_t *v_settle;
        char *v_prefix;
        size_t v_prefix_len;

        /* the chunk being read */
        ventry_t *v_ents;
        size_t v_nents, v_cap;
        videm_t **v_idem;
        size_t v_nidem, v_idem_cap;
        cdc_vsnap_t v_snap;
        char v_last_rid[1024];
        size_t v_last_rid_len;
        int v_has_last_rid;

        /* suspects: kept until the wait */
        vuser_t **v_sus;
        size_t v_nsus, v_sus_cap;
        videm_t **v_isus;
        size_t v_nisus, v_isus_cap;

        /* a Redis read in progress */
        vuser_t **v_rd_users;
        videm_t **v_rd_idem;
        size_t v_rd_n;
        int v_rd_fail;

        volatile sig_atomic_t *v_run;
        cdc_verify_sum_t *v_sum;
        int v_final; /* the pass that reports */
        int v_result;
        int64_t v_progress_at;

        cdc_metric_t *m_users, *m_edges, *m_div, *m_missing, *m_extra,
                *m_wrong_score, *m_wrong_count, *m_idem, *m_newer, *m_last_ts,
                *m_runs[3], *m_duration;
        char v_errstr[512];
};

/* ---- small helpers ---- */

static int64_t verify_wall_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t verify_mono_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char *verify_memdup(const char *s, size_t n) {
        char *d = malloc(n + 1);
        if (d) {
                memcpy(d, s, n);
                d[n] = '\0';
        }
        return d;
}

/* "<prefix>:{u:<uid>}:<suffix>" as the consumer names it
 * (schemas/redis.md); cross-checked against cdc_apply's keys. */
static char *verify_user_key(const cdc_verify_t *v, const char *uid,
                             const char *suffix, size_t *lenp) {
        size_t n = v->v_prefix_len + strlen(uid) + strlen(suffix) + 8;
        char *k  = malloc(n);
        if (!k)
                return NULL;
        *lenp = (size_t)snprintf(k, n, "%s:{u:%s}:%s", v->v_prefix, uid,
                                 suffix);
        return k;
}

static void vuser_free_redis(vuser_t *u) {
        int i;
        for (i = 0; i < VK__CNT; i++) {
                free(u->rblk[i]);
                u->rblk[i] = NULL;
        }
        for (i = 0; i < CDC_VSET__CNT; i++) {
                free(u->r[i]);
                u->r[i]  = NULL;
                u->rn[i] = 0;
        }
        u->ver  = NULL;
        u->nver = 0;
}

static void vuser_destroy(vuser_t *u) {
        size_t i;
        if (!u)
                return;
        vuser_free_redis(u);
        for (i = 0; i < u->nents; i++)
                json_decref(u->ents[i].row);
        free(u->ents);
        for (i = 0; i < CDC_VSET__CNT; i++)
                free(u->e[i]);
        for (i = 0; i < VK__CNT; i++)
                free(u->key[i]);
        free(u);
}

static void videm_destroy(videm_t *r) {
        if (!r)
                return;
        free(r->rec);
        free(r->tomb);
        free(r->status);
        free(r->biz);
        free(r->rblk);
        free(r->tomb_ver);
        json_decref(r->row);
        free(r);
}

/* ---- lifecycle ---- */

static void verify_metrics_init(cdc_verify_t *v, cdc_metrics_t *m) {
        static const char *const res[3] = { "result=\"equal\"",
                                            "result=\"different\"",
                                            "result=\"unfinished\"" };
        int i;

        v->m_users = cdc_metrics_gauge(m, "followcdc_verify_users",
                                       "Users compared by the last run", NULL);
        v->m_edges = cdc_metrics_gauge(
                m, "followcdc_verify_checked_edges",
                "Members and idempotency records compared by the last run",
                NULL);
        v->m_div = cdc_metrics_gauge(m, "followcdc_verify_divergent_users",
                                     "Users with a difference in the last run",
                                     NULL);
        v->m_missing =
                cdc_metrics_gauge(m, "followcdc_verify_differences",
                                  "Differences found by the last run, by kind",
                                  "kind=\"missing_member\"");
        v->m_extra =
                cdc_metrics_gauge(m, "followcdc_verify_differences",
                                  "Differences found by the last run, by kind",
                                  "kind=\"extra_member\"");
        v->m_wrong_score =
                cdc_metrics_gauge(m, "followcdc_verify_differences",
                                  "Differences found by the last run, by kind",
                                  "kind=\"wrong_score\"");
        v->m_wrong_count =
                cdc_metrics_gauge(m, "followcdc_verify_differences",
                                  "Differences found by the last run, by kind",
                                  "kind=\"wrong_count\"");
        v->m_idem  = cdc_metrics_gauge(m, "followcdc_verify_differences",
                                       "Differences found by the last run, by "
                                        "kind",
                                       "kind=\"idem\"");
        v->m_newer = cdc_metrics_counter(
                m, "followcdc_verify_skipped_newer_total",
                "Differences skipped because Redis held a newer change", NULL);
        v->m_last_ts = cdc_metrics_gauge(
                m, "followcdc_verify_last_run_timestamp_seconds",
                "When the last run ended (Unix time)", NULL);
        v->m_duration = cdc_metrics_gauge(m, "followcdc_verify_last_run_ms",
                                          "How long the last run took", NULL);
        for (i = 0; i < 3; i++)
                v->m_runs[i] =
                        cdc_metrics_counter(m, "followcdc_verify_runs_total",
                                            "Runs by result", res[i]);
}

cdc_verify_t *cdc_verify_new(const cdc_vconf_t *vc, FILE *out, cdc_metrics_t *m,
                             char *errstr, size_t errstr_size) {
        cdc_verify_t *v = calloc(1, sizeof(*v));
        cdc_apply_conf_t ac;
        cdc_rcluster_conf_t rcc;
        cdc_rsink_tls_t tls;

        if (!v) {
                snprintf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        v->v_vc  = vc;
        v->v_out = out;
        /* the consumer's mapping, never connected: only its queue is read */
        cdc_cconf_apply_conf(&vc->vc_cc, &ac);
        ac.max_batch = 4;
        v->v_ap      = cdc_apply_new(&ac, errstr, errstr_size);
        if (!v->v_ap)
                goto fail;
        v->v_prefix = strdup(
                vc->vc_cc.redis_key_prefix ? vc->vc_cc.redis_key_prefix : "fc");
        if (!v->v_prefix)
                goto nomem;
        v->v_prefix_len = strlen(v->v_prefix);

        /* the consumer's routing: one Redis or a cluster's masters */
        memset(&rcc, 0, sizeof(rcc));
        rcc.rcc_nodes           = vc->vc_cc.redis_cluster_nodes;
        rcc.rcc_host            = vc->vc_cc.redis_host;
        rcc.rcc_port            = (int)vc->vc_cc.redis_port;
        rcc.rcc_link.user       = vc->vc_cc.redis_user;
        rcc.rcc_link.password   = vc->vc_cc.redis_password;
        rcc.rcc_link.db         = (int)vc->vc_cc.redis_db;
        rcc.rcc_link.timeout_ms = (int)vc->vc_cc.redis_timeout_ms;
        if (vc->vc_cc.redis_tls) {
                memset(&tls, 0, sizeof(tls));
                tls.ca                       = vc->vc_cc.redis_tls_ca;
                tls.cert                     = vc->vc_cc.redis_tls_cert;
                tls.key                      = vc->vc_cc.redis_tls_key;
                tls.no_verify                = !vc->vc_cc.redis_tls_verify;
                rcc.rcc_tls                  = &tls;
                rcc.rcc_link.tls_server_name = vc->vc_cc.redis_tls_server_name;
        }
        v->v_rc = cdc_rcluster_new(&rcc, errstr, errstr_size);
        if (!v->v_rc)
                goto fail;
        v->v_src = cdc_vsource_new(vc, errstr, errstr_size);
        if (!v->v_src)
                goto fail;
        if (vc->settle == CDC_VSETTLE_KAFKA) {
                v->v_settle = cdc_vsettle_new(vc, errstr, errstr_size);
                if (!v->v_settle)
                        goto fail;
        }
        if (m)
                verify_metrics_init(v, m);
        return v;
nomem:
        snprintf(errstr, errstr_size, "out of memory");
fail:
        cdc_verify_destroy(v);
        return NULL;
}

static void verify_clear_chunk(cdc_verify_t *v) {
        size_t i;
        for (i = 0; i < v->v_nents; i++)
                json_decref(v->v_ents[i].row);
        v->v_nents = 0;
        for (i = 0; i < v->v_nidem; i++)
                videm_destroy(v->v_idem[i]);
        v->v_nidem = 0;
}

static void verify_clear_suspects(cdc_verify_t *v) {
        size_t i;
        for (i = 0; i < v->v_nsus; i++)
                vuser_destroy(v->v_sus[i]);
        v->v_nsus = 0;
        for (i = 0; i < v->v_nisus; i++)
                videm_destroy(v->v_isus[i]);
        v->v_nisus = 0;
}

void cdc_verify_destroy(cdc_verify_t *v) {
        if (!v)
                return;
        verify_clear_chunk(v);
        verify_clear_suspects(v);
        free(v->v_ents);
        free(v->v_idem);
        free(v->v_sus);
        free(v->v_isus);
        cdc_vsettle_destroy(v->v_settle);
        cdc_vsource_destroy(v->v_src);
        cdc_rcluster_destroy(v->v_rc);
        cdc_apply_destroy(v->v_ap);
        free(v->v_prefix);
        free(v);
}

/* ---- report ---- */

static void verify_json_num(json_t *o, const char *k, double d) {
        if (isnan(d))
                json_object_set_new(o, k, json_null());
        else
                json_object_set_new(o, k, json_integer((json_int_t)d));
}

static void verify_print_json(cdc_verify_t *v, const cdc_vdiff_t *d,
                              const char *key) {
        json_t *o = json_object(), *my = json_object(), *rd = json_object();
        char *txt;

        if (!o || !my || !rd)
                goto out;
        json_object_set_new(o, "type", json_string("diff"));
        json_object_set_new(o, "kind", json_string(cdc_vkind_name(d->kind)));
        if (d->uid) {
                json_object_set_new(o, "table",
                                    json_string(v->v_vc->vc_cc.follow_table));
                json_object_set_new(o, "user", json_string(d->uid));
                json_object_set_new(o, "set",
                                    json_string(cdc_vset_name(d->set)));
                if (d->member)
                        json_object_set_new(
                                o, "member",
                                json_stringn(d->member, d->member_len));
                if (d->kind == CDC_VK_WRONG_COUNT) {
                        json_object_set_new(
                                my, "count",
                                json_integer((json_int_t)d->mysql_count));
                        json_object_set_new(
                                rd, "count",
                                json_integer((json_int_t)d->redis_count));
                }
                if (d->has_mysql)
                        verify_json_num(my, "score", d->mysql_score);
                if (d->has_redis)
                        verify_json_num(rd, "score", d->redis_score);
        } else {
                json_object_set_new(o, "table",
                                    json_string(v->v_vc->vc_cc.idem_table));
                json_object_set_new(o, "request_id",
                                    json_stringn(d->member, d->member_len));
                if (d->has_mysql) {
                        json_object_set_new(my, "status",
                                            json_string(d->mysql_status));
                        json_object_set_new(
                                my, "biz_key",
                                json_stringn(d->mysql_biz, d->mysql_biz_len));
                        json_object_set_new(my, "expire_ms",
                                            json_integer(d->mysql_expire_ms));
                }
                if (d->has_redis) {
                        json_object_set_new(
                                rd, "status",
                                json_string(d->redis_status ? d->redis_status
                                                            : ""));
                        json_object_set_new(
                                rd, "biz_key",
                                json_stringn(d->redis_biz ? d->redis_biz : "",
                                             d->redis_biz_len));
                        json_object_set_new(rd, "expire_ms",
                                            json_integer(d->redis_expire_ms));
                }
        }
        json_object_set_new(o, "key", json_string(key));
        json_object_set_new(my, "present", json_boolean(d->has_mysql));
        if (d->mysql_row)
                json_object_set(my, "row", (json_t *)d->mysql_row);
        json_object_set_new(rd, "present", json_boolean(d->has_redis));
        json_object_set_new(rd, "version",
                            json_string(d->redis_ver ? d->redis_ver : ""));
        json_object_set_new(o, "mysql", my);
        json_object_set_new(o, "redis", rd);
        my = rd = NULL;
        txt     = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
        if (txt) {
                fprintf(v->v_out, "%s\n", txt);
                free(txt);
        }
out:
        json_decref(o);
        json_decref(my);
        json_decref(rd);
}

static void verify_print_human(cdc_verify_t *v, const cdc_vdiff_t *d,
                               const char *key) {
        char *row = d->mysql_row ? json_dumps(d->mysql_row,
                                              JSON_COMPACT | JSON_ENSURE_ASCII)
                                 : NULL;
        if (d->uid && d->kind == CDC_VK_WRONG_COUNT) {
                fprintf(v->v_out,
                        "DIFF user=%s set=%s kind=%s mysql_count=%zu "
                        "redis_count=%zu key=%s\n",
                        d->uid, cdc_vset_name(d->set), cdc_vkind_name(d->kind),
                        d->mysql_count, d->redis_count, key);
        } else if (d->uid) {
                fprintf(v->v_out,
                        "DIFF user=%s set=%s kind=%s member=%.*s "
                        "mysql_score=%.0f redis_score=%.0f "
                        "redis_version=%s key=%s mysql_row=%s\n",
                        d->uid, cdc_vset_name(d->set), cdc_vkind_name(d->kind),
                        (int)d->member_len, d->member,
                        d->has_mysql ? d->mysql_score : -1.0,
                        d->has_redis ? d->redis_score : -1.0,
                        d->redis_ver && *d->redis_ver ? d->redis_ver : "-", key,
                        row ? row : "-");
        } else {
                fprintf(v->v_out,
                        "DIFF request_id=%.*s kind=%s mysql_status=%s "
                        "redis_status=%s mysql_expire_ms=%" PRId64
                        " redis_expire_ms=%" PRId64
                        " redis_version=%s key=%s mysql_row=%s\n",
                        (int)d->member_len, d->member, cdc_vkind_name(d->kind),
                        d->mysql_status ? d->mysql_status : "-",
                        d->redis_status ? d->redis_status : "-",
                        d->mysql_expire_ms, d->redis_expire_ms,
                        d->redis_ver && *d->redis_ver ? d->redis_ver : "-", key,
                        row ? row : "-");
        }
        free(row);
}

typedef struct vcb_s {
        cdc_verify_t *v;
        vuser_t *u;
        videm_t *r;
        int found;
} vcb_t;

/* Count a difference of the final pass, print it. */
static int verify_report_cb(void *opaque, const cdc_vdiff_t *d) {
        vcb_t *c            = opaque;
        cdc_verify_t *v     = c->v;
        cdc_verify_sum_t *s = v->v_sum;
        const char *key;

        c->found++;
        if (!v->v_final)
                return 0;
        switch (d->kind) {
        case CDC_VK_MISSING:
                s->missing++;
                break;
        case CDC_VK_EXTRA:
                s->extra++;
                break;
        case CDC_VK_WRONG_SCORE:
                s->wrong_score++;
                break;
        case CDC_VK_WRONG_COUNT:
                s->wrong_count++;
                break;
        default:
                s->idem_divergent++;
                break;
        }
        if (c->u) {
                if (!c->u->reported++)
                        s->divergent_users++;
                key = c->u->key[d->set];
        } else {
                key = c->r->rec;
        }
        if (v->v_vc->json)
                verify_print_json(v, d, key);
        else
                verify_print_human(v, d, key);
        return 0;
}

/* ---- Redis ---- */

static int verify_rd_build(void *opaque, size_t i, int *slotp,
                           const char **argv, size_t *lens, int max) {
        cdc_verify_t *v = opaque;

        if (max < 5)
                return 0;
        if (v->v_rd_users) {
                vuser_t *u = v->v_rd_users[i / VK__CNT];
                int k      = (int)(i % VK__CNT);

                *slotp = cdc_rcluster_slot(u->key[k], u->klen[k]);
                if (k == VK_VER) {
                        argv[0] = "HGETALL", lens[0] = 7;
                        argv[1] = u->key[k], lens[1] = u->klen[k];
                        return 2;
                }
                argv[0] = "ZRANGE", lens[0] = 6;
                argv[1] = u->key[k], lens[1] = u->klen[k];
                argv[2] = "0", lens[2] = 1;
                argv[3] = "-1", lens[3] = 2;
                argv[4] = "WITHSCORES", lens[4] = 10;
                return 5;
        } else {
                videm_t *r = v->v_rd_idem[i / 3];
                int k      = (int)(i % 3);

                *slotp = cdc_rcluster_slot(r->rec, r->rec_len);
                if (k == 0) {
                        argv[0] = "HGETALL", lens[0] = 7;
                        argv[1] = r->rec, lens[1] = r->rec_len;
                } else if (k == 1) {
                        argv[0] = "PTTL", lens[0] = 4;
                        argv[1] = r->rec, lens[1] = r->rec_len;
                } else {
                        argv[0] = "GET", lens[0] = 3;
                        argv[1] = r->tomb, lens[1] = r->tomb_len;
                }
                return 2;
        }
}

/* Copy an array reply of pairs into one block: a cdc_vver_t per pair
 * (first, its length, second, its length), then the bytes. */
static cdc_vver_t *verify_copy_pairs(const redisReply *r, size_t *np) {
        size_t n = r->elements / 2, bytes = 0, i;
        cdc_vver_t *pv;
        char *p;

        for (i = 0; i < r->elements; i++)
                bytes += r->element[i]->len + 1;
        pv = malloc(n * sizeof(*pv) + bytes + 1);
        if (!pv)
                return NULL;
        p = (char *)(pv + n);
        for (i = 0; i < n; i++) {
                const redisReply *a = r->element[2 * i],
                                 *b = r->element[2 * i + 1];
                memcpy(p, a->str, a->len);
                p[a->len]   = '\0';
                pv[i].field = p;
                pv[i].flen  = a->len;
                p += a->len + 1;
                memcpy(p, b->str, b->len);
                p[b->len]  = '\0';
                pv[i].ver  = p;
                pv[i].vlen = b->len;
                p += b->len + 1;
        }
        *np = n;
        return pv;
}

static int verify_pairs_ok(const redisReply *r) {
        size_t i;
        if (r->type != REDIS_REPLY_ARRAY || r->elements % 2)
                return 0;
        for (i = 0; i < r->elements; i++)
                if (r->element[i]->type != REDIS_REPLY_STRING)
                        return 0;
        return 1;
}

static int verify_rd_user_reply(cdc_verify_t *v, size_t i, const redisReply *r,
                                char *errstr, size_t errstr_size) {
        vuser_t *u = v->v_rd_users[i / VK__CNT];
        int k      = (int)(i % VK__CNT);
        cdc_vver_t *pv;
        size_t n = 0, j;

        if (!verify_pairs_ok(r)) {
                snprintf(errstr, errstr_size, "unexpected reply reading %s",
                         u->key[k]);
                return 0;
        }
        pv = verify_copy_pairs(r, &n);
        if (!pv)
                goto nomem;
        free(u->rblk[k]);
        u->rblk[k] = (char *)pv;
        if (k == VK_VER) {
                u->ver  = pv;
                u->nver = n;
                cdc_vdiff_sort_ver(u->ver, n);
                return 1;
        }
        free(u->r[k]);
        u->r[k]  = calloc(n ? n : 1, sizeof(*u->r[k]));
        u->rn[k] = 0;
        if (!u->r[k])
                goto nomem;
        for (j = 0; j < n; j++) {
                u->r[k][j].id      = pv[j].field;
                u->r[k][j].len     = pv[j].flen;
                u->r[k][j].score   = strtod(pv[j].ver, NULL);
                u->r[k][j].present = 1;
        }
        u->rn[k] = n;
        cdc_vdiff_sort_members(u->r[k], n);
        return 1;
nomem:
        snprintf(errstr, errstr_size, "out of memory");
        return 0;
}

static int verify_rd_idem_reply(cdc_verify_t *v, size_t i, const redisReply *r,
                                char *errstr, size_t errstr_size) {
        videm_t *rc = v->v_rd_idem[i / 3];
        int k       = (int)(i % 3);
        cdc_vver_t *pv;
        size_t n = 0, j;

        if (k == 0) {
                if (!verify_pairs_ok(r)) {
                        snprintf(errstr, errstr_size,
                                 "unexpected reply to HGETALL %s", rc->rec);
                        return 0;
                }
                pv = verify_copy_pairs(r, &n);
                if (!pv)
                        goto nomem;
                free(rc->rblk);
                rc->rblk = (char *)pv;
                memset(&rc->red, 0, sizeof(rc->red));
                rc->red.expire_ms = -1;
                rc->red.rid       = rc->rid;
                rc->red.rid_len   = rc->rid_len;
                rc->red.present   = n > 0;
                for (j = 0; j < n; j++) {
                        if (pv[j].flen == 6 &&
                            !memcmp(pv[j].field, "status", 6))
                                rc->red.status = pv[j].ver;
                        else if (pv[j].flen == 7 &&
                                 !memcmp(pv[j].field, "biz_key", 7)) {
                                rc->red.biz     = pv[j].ver;
                                rc->red.biz_len = pv[j].vlen;
                        } else if (pv[j].flen == 3 &&
                                   !memcmp(pv[j].field, "ver", 3)) {
                                rc->red.ver  = pv[j].ver;
                                rc->red.vlen = pv[j].vlen;
                        }
                }
                return 1;
        }
        if (k == 1) {
                if (r->type != REDIS_REPLY_INTEGER) {
                        snprintf(errstr, errstr_size,
                                 "unexpected reply to PTTL %s", rc->rec);
                        return 0;
                }
                if (r->integer >= 0)
                        rc->red.expire_ms = verify_wall_ms() + r->integer;
                return 1;
        }
        /* the delete tombstone: its version counts when newer */
        free(rc->tomb_ver);
        rc->tomb_ver = NULL;
        if (r->type == REDIS_REPLY_STRING) {
                rc->tomb_ver = verify_memdup(r->str, r->len);
                if (!rc->tomb_ver)
                        goto nomem;
                if (!rc->red.ver || r->len > rc->red.vlen ||
                    (r->len == rc->red.vlen &&
                     memcmp(r->str, rc->red.ver, r->len) > 0)) {
                        rc->red.ver  = rc->tomb_ver;
                        rc->red.vlen = r->len;
                }
        }
        return 1;
nomem:
        snprintf(errstr, errstr_size, "out of memory");
        return 0;
}

static int verify_rd_reply(void *opaque, size_t i, const redisReply *r,
                           char *errstr, size_t errstr_size) {
        cdc_verify_t *v = opaque;

        if (r->type == REDIS_REPLY_ERROR) {
                snprintf(errstr, errstr_size, "%.*s", (int)r->len, r->str);
                return 0;
        }
        return v->v_rd_users
                       ? verify_rd_user_reply(v, i, r, errstr, errstr_size)
                       : verify_rd_idem_reply(v, i, r, errstr, errstr_size);
}

/* Run the reads of v_rd_users or v_rd_idem (n commands), reconnecting
 * with backoff for up to verify.settle.timeout: reads are harmless to
 * repeat. */
static int verify_redis_run(cdc_verify_t *v, size_t n) {
        unsigned char *done = calloc(n ? n : 1, 1);
        int64_t deadline    = verify_mono_ms() + v->v_vc->settle_timeout_ms;
        cdc_backoff_t *bo   = cdc_backoff_new(100, 5000);
        cdc_err_t err       = CDC_ERR__TRANSPORT;

        if (!done || !bo) {
                snprintf(v->v_errstr, sizeof(v->v_errstr), "out of memory");
                goto out;
        }
        while (*v->v_run) {
                if (!cdc_rcluster_connected(v->v_rc))
                        err = cdc_rcluster_connect(v->v_rc);
                else
                        err = CDC_ERR_NO_ERROR;
                if (err == CDC_ERR_NO_ERROR)
                        err = cdc_rcluster_run(v->v_rc, n, done,
                                               verify_rd_build, verify_rd_reply,
                                               v);
                if (err == CDC_ERR_NO_ERROR || err == CDC_ERR__CONFIG)
                        break;
                snprintf(v->v_errstr, sizeof(v->v_errstr), "redis: %s",
                         cdc_rcluster_errstr(v->v_rc));
                if (verify_mono_ms() >= deadline)
                        break;
                cdc_log(LOG_WARNING, "VERIFY", "%s (retrying)", v->v_errstr);
                {
                        int ms             = cdc_backoff_next_ms(bo,
                                                                 verify_mono_ms() * 1000);
                        struct timespec ts = { ms / 1000,
                                               (long)(ms % 1000) * 1000000L };
                        nanosleep(&ts, NULL);
                }
        }
        if (err == CDC_ERR__CONFIG)
                snprintf(v->v_errstr, sizeof(v->v_errstr), "redis: %s",
                         cdc_rcluster_errstr(v->v_rc));
out:
        free(done);
        cdc_backoff_destroy(bo);
        if (err == CDC_ERR_NO_ERROR)
                return 0;
        return err == CDC_ERR__CONFIG ? -2 : -1;
}

static int verify_read_users(cdc_verify_t *v, vuser_t **users, size_t n) {
        size_t i;
        int rc;

        if (!n)
                return 0;
        for (i = 0; i < n; i++)
                vuser_free_redis(users[i]);
        v->v_rd_users = users;
        v->v_rd_idem  = NULL;
        rc            = verify_redis_run(v, n * VK__CNT);
        v->v_rd_users = NULL;
        return rc;
}

static int verify_read_idem(cdc_verify_t *v, videm_t **recs, size_t n) {
        int rc;
        if (!n)
                return 0;
        v->v_rd_users = NULL;
        v->v_rd_idem  = recs;
        rc            = verify_redis_run(v, n * 3);
        v->v_rd_idem  = NULL;
        return rc;
}

/* ---- MySQL rows -> expected state (the consumer's mapping) ---- */

/* Map one row as the consumer would a snapshot read of it. *np scripts
 * are queued in v_ap (discard after reading them). */
static int verify_map_row(cdc_verify_t *v, const char *table, json_t *row,
                          int *np) {
        cdc_event_t ev;
        char es[256];
        cdc_err_t err;

        memset(&ev, 0, sizeof(ev));
        ev.op    = CDC_OP_READ;
        ev.after = row;
        snprintf(ev.source.table, sizeof(ev.source.table), "%s", table);
        /* the home source: versions stored without a tag */
        snprintf(ev.source.name, sizeof(ev.source.name), "%s",
                 v->v_vc->vc_cc.source_name);
        ev.source.ts_ms    = VERIFY_NO_TIME;
        ev.source.epoch    = v->v_snap.epoch;
        ev.source.seq      = v->v_snap.seq;
        ev.source.snapshot = 1;
        cdc_apply_discard(v->v_ap);
        err = cdc_apply_add(v->v_ap, &ev, es, sizeof(es));
        if (err == CDC_ERR__BAD_EVENT) {
                v->v_sum->unmappable++;
                cdc_log(LOG_WARNING, "VERIFY",
                        "%s row the consumer would dead-letter: %s", table, es);
                *np = 0;
                return 0;
        }
        if (err) {
                snprintf(v->v_errstr, sizeof(v->v_errstr), "%s", es);
                return -1;
        }
        *np = (int)cdc_apply_pending(v->v_ap);
        return 0;
}

/* uid of "<prefix>:{u:<uid>}:<suffix>" */
static int verify_key_uid(const cdc_verify_t *v, const char *k, size_t len,
                          char *uid) {
        const char *p = k + v->v_prefix_len + 4, *e;
        if (len < v->v_prefix_len + 6 || memcmp(k + v->v_prefix_len, ":{u:", 4))
                return -1;
        e = memchr(p, '}', len - (size_t)(p - k));
        if (!e || e == p || (size_t)(e - p) >= VERIFY_IDLEN)
                return -1;
        memcpy(uid, p, (size_t)(e - p));
        uid[e - p] = '\0';
        return 0;
}

static cdc_err_t verify_follow_row_cb(void *opaque, int side, json_t *row) {
        cdc_verify_t *v = opaque;
        const char *const *argv;
        const size_t *lens;
        cdc_script_id_t id;
        char uid[VERIFY_IDLEN];
        int n, argc, k;
        /* every row queues the script on the first user's keys (follower,
         * or user a of a pair), then on the second's: a row read by the
         * follower (a) column gives that user's sides, one read by the
         * followee (b) column the other's */
        size_t script = side == CDC_VSOURCE_BY_FOLLOWER ? 0 : 1;

        if (verify_map_row(v, v->v_vc->vc_cc.follow_table, row, &n))
                return VERIFY_ECB;
        if (n < 2)
                return CDC_ERR_NO_ERROR;
        argc = cdc_apply_queued(v->v_ap, script, &id, &argv, &lens);
        /* KEYS[4], other, version, tag, then (side, exists, score)... */
        if (id != CDC_SCRIPT_EDGE || argc < CDC_SCRIPT_EDGE_NKEYS + 6 ||
            (argc - CDC_SCRIPT_EDGE_NKEYS - 3) % 3 ||
            verify_key_uid(v, argv[0], lens[0], uid) ||
            lens[4] >= VERIFY_IDLEN) {
                snprintf(v->v_errstr, sizeof(v->v_errstr),
                         "unexpected mapping of a follow row");
                return VERIFY_ECB;
        }
        for (k = CDC_SCRIPT_EDGE_NKEYS + 3; k + 2 < argc; k += 3) {
                ventry_t *e;

                if (v->v_nents == v->v_cap) {
                        size_t cap   = v->v_cap ? v->v_cap * 2 : 1024;
                        ventry_t *ne = realloc(v->v_ents, cap * sizeof(*ne));
                        if (!ne)
                                return CDC_ERR__NOMEM;
                        v->v_ents = ne;
                        v->v_cap  = cap;
                }
                e = &v->v_ents[v->v_nents];
                memset(e, 0, sizeof(*e));
                memcpy(e->uid, uid, sizeof(uid));
                memcpy(e->other, argv[4], lens[4]);
                e->other[lens[4]] = '\0';
                e->set            = argv[k][0] == 'o' ? CDC_VSET_FOLLOWING
                                                      : CDC_VSET_FOLLOWERS;
                e->present        = argv[k + 1][0] == '1';
                e->score          = strtod(argv[k + 2], NULL);
                if (e->present &&
                    strtoll(argv[k + 2], NULL, 10) == VERIFY_NO_TIME)
                        e->score = NAN;
                e->row = json_incref(row);
                v->v_nents++;
        }
        cdc_apply_discard(v->v_ap);
        return CDC_ERR_NO_ERROR;
}

static int verify_ent_cmp(const void *x, const void *y) {
        const ventry_t *a = x, *b = y;
        size_t al = strlen(a->uid), bl = strlen(b->uid);
        int c;
        if (al != bl)
                return al < bl ? -1 : 1;
        if ((c = strcmp(a->uid, b->uid)))
                return c;
        if (a->set != b->set)
                return a->set - b->set;
        al = strlen(a->other);
        bl = strlen(b->other);
        if (al != bl)
                return al < bl ? -1 : 1;
        return strcmp(a->other, b->other);
}

static vuser_t *verify_user_new(cdc_verify_t *v, const char *uid,
                                const ventry_t *ents, size_t n) {
        static const char *const suffix[VK__CNT] = { "following", "followers",
                                                     "friends", "ver" };
        vuser_t *u                               = calloc(1, sizeof(*u));
        size_t i, nf = 0, mx;
        int k;

        if (!u)
                return NULL;
        snprintf(u->uid, sizeof(u->uid), "%s", uid);
        u->snap = v->v_snap;
        for (k = 0; k < VK__CNT; k++) {
                u->key[k] = verify_user_key(v, uid, suffix[k], &u->klen[k]);
                if (!u->key[k])
                        goto fail;
        }
        if (n) {
                u->ents = malloc(n * sizeof(*u->ents));
                if (!u->ents)
                        goto fail;
                memcpy(u->ents, ents, n * sizeof(*ents));
                for (i = 0; i < n; i++)
                        json_incref(u->ents[i].row);
                u->nents = n;
        }
        for (k = 0; k < 2; k++) {
                u->e[k] = calloc(n ? n : 1, sizeof(cdc_vmember_t));
                if (!u->e[k])
                        goto fail;
        }
        for (i = 0; i < n; i++) {
                ventry_t *e      = &u->ents[i];
                cdc_vmember_t *m = &u->e[e->set][u->en[e->set]++];
                m->id            = e->other;
                m->len           = strlen(e->other);
                m->score         = e->score;
                m->present       = e->present;
                m->row           = e->row;
                if (e->set == CDC_VSET_FOLLOWING)
                        nf++;
        }
        mx      = u->en[0] < u->en[1] ? u->en[0] : u->en[1];
        u->e[2] = calloc(mx ? mx : 1, sizeof(cdc_vmember_t));
        if (!u->e[2])
                goto fail;
        {
                cdc_vuser_t exp;
                memset(&exp, 0, sizeof(exp));
                for (k = 0; k < 2; k++) {
                        exp.m[k] = u->e[k];
                        exp.n[k] = u->en[k];
                }
                u->en[2] = cdc_vdiff_friends(&exp, u->e[2]);
        }
        (void)nf;
        return u;
fail:
        vuser_destroy(u);
        return NULL;
}

static void verify_user_view(vuser_t *u, cdc_vuser_t *exp, cdc_vuser_t *red) {
        int k;
        memset(exp, 0, sizeof(*exp));
        memset(red, 0, sizeof(*red));
        exp->uid = red->uid = u->uid;
        for (k = 0; k < CDC_VSET__CNT; k++) {
                exp->m[k] = u->e[k];
                exp->n[k] = u->en[k];
                red->m[k] = u->r[k];
                red->n[k] = u->rn[k];
        }
        red->ver  = u->ver;
        red->nver = u->nver;
}

static int verify_push(void ***arr, size_t *n, size_t *cap, void *p) {
        if (*n == *cap) {
                size_t nc = *cap ? *cap * 2 : 256;
                void **na = realloc(*arr, nc * sizeof(*na));
                if (!na)
                        return -1;
                *arr = na;
                *cap = nc;
        }
        (*arr)[(*n)++] = p;
        return 0;
}

/* ---- the wait and the final pass ---- */

static int verify_settle_and_report(cdc_verify_t *v) {
        cdc_vsnap_t top;
        size_t i;
        int rc;

        if (!v->v_nsus && !v->v_nisus)
                return 0;
        memset(&top, 0, sizeof(top));
        for (i = 0; i < v->v_nsus; i++)
                if (v->v_sus[i]->snap.seq > top.seq)
                        top = v->v_sus[i]->snap;
        for (i = 0; i < v->v_nisus; i++)
                if (v->v_isus[i]->snap.seq > top.seq)
                        top = v->v_isus[i]->snap;
        if (v->v_settle) {
                cdc_err_t err;
                cdc_log(LOG_INFO, "VERIFY",
                        "%zu user(s) and %zu record(s) differ: waiting for "
                        "the pipeline to apply up to seq %" PRIu64,
                        v->v_nsus, v->v_nisus, top.seq);
                err = cdc_vsettle_wait(v->v_settle, &top,
                                       v->v_vc->settle_timeout_ms, v->v_run,
                                       v->v_errstr, sizeof(v->v_errstr));
                if (err)
                        return -1;
        }
        if ((rc = verify_read_users(v, (vuser_t **)v->v_sus, v->v_nsus)) ||
            (rc = verify_read_idem(v, (videm_t **)v->v_isus, v->v_nisus)))
                return rc;
        v->v_final = 1;
        for (i = 0; i < v->v_nsus; i++) {
                vuser_t *u = v->v_sus[i];
                cdc_vuser_t exp, red;
                cdc_vdiff_stats_t st;
                vcb_t c = { v, u, NULL, 0 };

                memset(&st, 0, sizeof(st));
                verify_user_view(u, &exp, &red);
                cdc_vdiff_user(&exp, &red, &u->snap, verify_report_cb, &c, &st);
                v->v_sum->skipped_newer += st.newer;
                v->v_sum->rechecked++;
        }
        for (i = 0; i < v->v_nisus; i++) {
                videm_t *r = v->v_isus[i];
                cdc_vdiff_stats_t st;
                vcb_t c = { v, NULL, r, 0 };
                cdc_videm_t exp;

                memset(&st, 0, sizeof(st));
                memset(&exp, 0, sizeof(exp));
                exp.rid       = r->rid;
                exp.rid_len   = r->rid_len;
                exp.present   = r->expire_ms > verify_wall_ms();
                exp.status    = r->status;
                exp.biz       = r->biz;
                exp.biz_len   = r->biz_len;
                exp.expire_ms = r->expire_ms;
                exp.row       = r->row;
                cdc_vdiff_idem(&exp, &r->red, &r->snap, verify_wall_ms(),
                               v->v_vc->expiry_slack_ms, verify_report_cb, &c,
                               &st);
                v->v_sum->skipped_newer += st.newer;
                v->v_sum->rechecked++;
        }
        v->v_final = 0;
        verify_clear_suspects(v);
        return 0;
}

/* Compare the users of the chunk; suspects are kept. */
static int verify_users_pass(cdc_verify_t *v, vuser_t **users, size_t n) {
        size_t i;
        int rc;

        if ((rc = verify_read_users(v, users, n)))
                return rc;
        for (i = 0; i < n; i++) {
                vuser_t *u = users[i];
                cdc_vuser_t exp, red;
                cdc_vdiff_stats_t st;
                vcb_t c = { v, u, NULL, 0 };

                memset(&st, 0, sizeof(st));
                verify_user_view(u, &exp, &red);
                cdc_vdiff_user(&exp, &red, &u->snap, verify_report_cb, &c, &st);
                v->v_sum->users++;
                v->v_sum->checked_edges += st.edges;
                v->v_sum->skipped_newer += st.newer;
                if (c.found) {
                        vuser_free_redis(u);
                        if (verify_push((void ***)&v->v_sus, &v->v_nsus,
                                        &v->v_sus_cap, u))
                                return -1;
                } else {
                        vuser_destroy(u);
                }
                users[i] = NULL;
        }
        if ((int64_t)(v->v_nsus + v->v_nisus) >= v->v_vc->max_suspects)
                return verify_settle_and_report(v);
        return 0;
}

/* Turn v_ents (+ listed users without rows) into users, compare. */
static int verify_chunk_users(cdc_verify_t *v, const uint64_t *ids,
                              size_t nids) {
        vuser_t **users = NULL;
        size_t nu = 0, cap = 0, i = 0, j;
        int rc = -1;

        qsort(v->v_ents, v->v_nents, sizeof(*v->v_ents), verify_ent_cmp);
        while (i < v->v_nents) {
                vuser_t *u;
                j = i;
                while (j < v->v_nents &&
                       !strcmp(v->v_ents[j].uid, v->v_ents[i].uid))
                        j++;
                u = verify_user_new(v, v->v_ents[i].uid, &v->v_ents[i], j - i);
                if (!u || verify_push((void ***)&users, &nu, &cap, u)) {
                        vuser_destroy(u);
                        goto out;
                }
                i = j;
        }
        /* listed users MySQL has no row for: Redis must hold nothing */
        for (i = 0; i < nids; i++) {
                char uid[VERIFY_IDLEN];
                size_t k;
                vuser_t *u;

                snprintf(uid, sizeof(uid), "%" PRIu64, ids[i]);
                for (k = 0; k < nu && strcmp(users[k]->uid, uid); k++)
                        ;
                if (k < nu)
                        continue;
                u = verify_user_new(v, uid, NULL, 0);
                if (!u || verify_push((void ***)&users, &nu, &cap, u)) {
                        vuser_destroy(u);
                        goto out;
                }
        }
        rc = verify_users_pass(v, users, nu);
out:
        for (i = 0; i < nu; i++)
                vuser_destroy(users[i]);
        free(users);
        verify_clear_chunk(v);
        return rc;
}

static cdc_err_t verify_idem_row_cb(void *opaque, int side, json_t *row) {
        cdc_verify_t *v = opaque;
        const char *const *argv;
        const size_t *lens;
        cdc_script_id_t id;
        videm_t *r;
        int n, argc;
        const json_t *jr;

        (void)side;
        /* keyset position, whatever the mapping says about the row */
        jr = json_object_get(row, v->v_vc->vc_cc.idem_col_request);
        if (json_is_string(jr) &&
            json_string_length(jr) <= sizeof(v->v_last_rid)) {
                memcpy(v->v_last_rid, json_string_value(jr),
                       json_string_length(jr));
                v->v_last_rid_len = json_string_length(jr);
                v->v_has_last_rid = 1;
        } else if (json_is_integer(jr)) {
                v->v_last_rid_len = (size_t)snprintf(
                        v->v_last_rid, sizeof(v->v_last_rid),
                        "%" JSON_INTEGER_FORMAT, json_integer_value(jr));
                v->v_has_last_rid = 1;
        } else {
                /* the next chunk could not start after this row */
                snprintf(v->v_errstr, sizeof(v->v_errstr),
                         "%s: a request id that is not a string of at most "
                         "%zu bytes",
                         v->v_vc->vc_cc.idem_table, sizeof(v->v_last_rid));
                return VERIFY_ECB;
        }
        v->v_sum->idem_records++;
        if (verify_map_row(v, v->v_vc->vc_cc.idem_table, row, &n))
                return VERIFY_ECB;
        if (n < 1)
                return CDC_ERR_NO_ERROR;
        argc = cdc_apply_queued(v->v_ap, 0, &id, &argv, &lens);
        if (argc < 7 || id != CDC_SCRIPT_IDEM) {
                snprintf(v->v_errstr, sizeof(v->v_errstr),
                         "unexpected mapping of an idempotency row");
                return VERIFY_ECB;
        }
        r = calloc(1, sizeof(*r));
        if (!r)
                return CDC_ERR__NOMEM;
        r->snap      = v->v_snap;
        r->rec       = verify_memdup(argv[0], lens[0]);
        r->tomb      = verify_memdup(argv[1], lens[1]);
        r->status    = verify_memdup(argv[5], lens[5]);
        r->biz       = verify_memdup(argv[6], lens[6]);
        r->rec_len   = lens[0];
        r->tomb_len  = lens[1];
        r->biz_len   = lens[6];
        r->expire_ms = strtoll(argv[4], NULL, 10);
        r->row       = json_incref(row);
        cdc_apply_discard(v->v_ap);
        if (!r->rec || !r->tomb || !r->status || !r->biz ||
            verify_push((void ***)&v->v_idem, &v->v_nidem, &v->v_idem_cap, r)) {
                videm_destroy(r);
                return CDC_ERR__NOMEM;
        }
        /* "<prefix>:idem:{r:" rid "}" */
        r->rid     = r->rec + v->v_prefix_len + 9;
        r->rid_len = r->rec_len - v->v_prefix_len - 10;
        return CDC_ERR_NO_ERROR;
}

static int verify_idem_pass(cdc_verify_t *v) {
        size_t i;
        int rc;
        int64_t now;

        if ((rc = verify_read_idem(v, v->v_idem, v->v_nidem)))
                return rc;
        now = verify_wall_ms();
        for (i = 0; i < v->v_nidem; i++) {
                videm_t *r = v->v_idem[i];
                cdc_vdiff_stats_t st;
                vcb_t c = { v, NULL, r, 0 };
                cdc_videm_t exp;

                memset(&st, 0, sizeof(st));
                memset(&exp, 0, sizeof(exp));
                exp.rid       = r->rid;
                exp.rid_len   = r->rid_len;
                exp.present   = r->expire_ms > now;
                exp.status    = r->status;
                exp.biz       = r->biz;
                exp.biz_len   = r->biz_len;
                exp.expire_ms = r->expire_ms;
                exp.row       = r->row;
                cdc_vdiff_idem(&exp, &r->red, &r->snap, now,
                               v->v_vc->expiry_slack_ms, verify_report_cb, &c,
                               &st);
                v->v_sum->checked_edges += st.edges;
                v->v_sum->skipped_newer += st.newer;
                if (c.found) {
                        if (verify_push((void ***)&v->v_isus, &v->v_nisus,
                                        &v->v_isus_cap, r))
                                return -1;
                        v->v_idem[i] = NULL;
                }
        }
        return 0;
}

/* ---- modes ---- */

static void verify_progress(cdc_verify_t *v, const char *where) {
        int64_t now = verify_mono_ms();
        if (now < v->v_progress_at)
                return;
        v->v_progress_at = now + v->v_vc->progress_ms;
        cdc_log(LOG_INFO, "VERIFY",
                "progress: users=%" PRIu64 " checked_edges=%" PRIu64
                " idem_records=%" PRIu64 " suspects=%zu at %s",
                v->v_sum->users, v->v_sum->checked_edges,
                v->v_sum->idem_records, v->v_nsus + v->v_nisus, where);
}

static int verify_src_fail(cdc_verify_t *v, cdc_err_t err) {
        snprintf(v->v_errstr, sizeof(v->v_errstr), "mysql: %s",
                 cdc_vsource_errstr(v->v_src));
        return err == CDC_ERR__CONFIG ? -2 : -1;
}

/* One consistent read of the rows of \p ids (both sides), compared. */
static int verify_ids(cdc_verify_t *v, const uint64_t *ids, size_t n) {
        cdc_pos_t pos;
        cdc_err_t err;

        if ((err = cdc_vsource_begin(v->v_src, &v->v_snap, &pos)) ||
            (err = cdc_vsource_follow_users(v->v_src, CDC_VSOURCE_BY_FOLLOWER,
                                            ids, n, verify_follow_row_cb, v)) ||
            (err = cdc_vsource_follow_users(v->v_src, CDC_VSOURCE_BY_FOLLOWEE,
                                            ids, n, verify_follow_row_cb, v)) ||
            (err = cdc_vsource_end(v->v_src))) {
                verify_clear_chunk(v);
                return err == VERIFY_ECB ? -1 : verify_src_fail(v, err);
        }
        return verify_chunk_users(v, ids, n);
}

static int verify_list(cdc_verify_t *v, const uint64_t *ids, size_t n) {
        size_t step = (size_t)v->v_vc->chunk_rows, i;
        int rc;

        if (step > 1000)
                step = 1000; /* an IN list per read */
        for (i = 0; i < n && *v->v_run; i += step) {
                size_t k = n - i < step ? n - i : step;
                if ((rc = verify_ids(v, ids + i, k)))
                        return rc;
                verify_progress(v, "a list of users");
        }
        return *v->v_run ? 0 : -1;
}

static int verify_full(cdc_verify_t *v) {
        uint64_t lo = 0, hi = 0;
        int bounded = 0, empty = 0, rc;
        cdc_pos_t pos;
        cdc_err_t err;
        char where[64];

        for (;;) {
                if (!*v->v_run)
                        return -1;
                if ((err = cdc_vsource_next_range(v->v_src, lo, &hi, &bounded,
                                                  &empty)))
                        return verify_src_fail(v, err);
                if (empty)
                        break;
                if ((err = cdc_vsource_begin(v->v_src, &v->v_snap, &pos)) ||
                    (err = cdc_vsource_follow_range(
                             v->v_src, CDC_VSOURCE_BY_FOLLOWER, lo, hi, bounded,
                             verify_follow_row_cb, v)) ||
                    (err = cdc_vsource_follow_range(
                             v->v_src, CDC_VSOURCE_BY_FOLLOWEE, lo, hi, bounded,
                             verify_follow_row_cb, v)) ||
                    (err = cdc_vsource_end(v->v_src))) {
                        verify_clear_chunk(v);
                        return err == VERIFY_ECB ? -1 : verify_src_fail(v, err);
                }
                if ((rc = verify_chunk_users(v, NULL, 0)))
                        return rc;
                snprintf(where, sizeof(where), "user id %" PRIu64, lo);
                verify_progress(v, where);
                if (!bounded)
                        break;
                lo = hi;
        }
        /* idempotency records, in request id order */
        v->v_has_last_rid = 0;
        for (;;) {
                size_t rows = 0;
                if (!*v->v_run)
                        return -1;
                if ((err = cdc_vsource_begin(v->v_src, &v->v_snap, &pos)) ||
                    (err = cdc_vsource_idem_chunk(
                             v->v_src, v->v_has_last_rid ? v->v_last_rid : NULL,
                             v->v_last_rid_len, (size_t)v->v_vc->chunk_rows,
                             verify_idem_row_cb, v, &rows)) ||
                    (err = cdc_vsource_end(v->v_src))) {
                        verify_clear_chunk(v);
                        return err == VERIFY_ECB ? -1 : verify_src_fail(v, err);
                }
                rc = verify_idem_pass(v);
                verify_clear_chunk(v);
                if (rc)
                        return rc;
                verify_progress(v, "idempotency records");
                if (rows < (size_t)v->v_vc->chunk_rows)
                        break;
                if ((int64_t)(v->v_nsus + v->v_nisus) >=
                            v->v_vc->max_suspects &&
                    (rc = verify_settle_and_report(v)))
                        return rc;
        }
        return 0;
}

void cdc_verify_print_summary(FILE *fp, const cdc_verify_sum_t *s) {
        fprintf(fp,
                "VERIFY users=%" PRIu64 " checked_edges=%" PRIu64
                " divergent_users=%" PRIu64 " missing=%" PRIu64
                " extra=%" PRIu64 " wrong_score=%" PRIu64
                " idem_divergent=%" PRIu64 " wrong_count=%" PRIu64
                " skipped_newer=%" PRIu64 " rechecked=%" PRIu64 "\n",
                s->users, s->checked_edges, s->divergent_users, s->missing,
                s->extra, s->wrong_score, s->idem_divergent, s->wrong_count,
                s->skipped_newer, s->rechecked);
}

int cdc_verify_run(cdc_verify_t *v, volatile sig_atomic_t *run,
                   cdc_verify_sum_t *sum) {
        const cdc_vconf_t *vc = v->v_vc;
        int64_t t0            = verify_mono_ms();
        uint64_t *ids         = NULL;
        int rc, result;

        memset(sum, 0, sizeof(*sum));
        v->v_run         = run;
        v->v_sum         = sum;
        v->v_progress_at = t0 + vc->progress_ms;
        v->v_errstr[0]   = '\0';
        if (vc->full) {
                rc = verify_full(v);
        } else if (vc->vc_user_cnt) {
                rc = verify_list(v, vc->vc_users, vc->vc_user_cnt);
        } else {
                size_t n = 0;
                uint64_t seed =
                        vc->seed ? (uint64_t)vc->seed
                                 : (uint64_t)verify_wall_ms() * 2654435761u;
                cdc_err_t err;

                ids = calloc((size_t)vc->sample, sizeof(*ids));
                if (!ids) {
                        snprintf(v->v_errstr, sizeof(v->v_errstr),
                                 "out of memory");
                        rc = -1;
                } else if ((err = cdc_vsource_sample(v->v_src,
                                                     (size_t)vc->sample, seed,
                                                     ids, &n))) {
                        rc = verify_src_fail(v, err);
                } else {
                        rc = verify_list(v, ids, n);
                }
        }
        if (!rc)
                rc = verify_settle_and_report(v);
        verify_clear_suspects(v);
        verify_clear_chunk(v);
        free(ids);
        if (rc == -2) {
                cdc_log(LOG_ERR, "VERIFY", "%s", v->v_errstr);
                result = CDC_VERIFY_CONFIG;
        } else if (rc) {
                cdc_log(LOG_ERR, "VERIFY", "could not finish: %s",
                        v->v_errstr[0] ? v->v_errstr : "stopped");
                result = CDC_VERIFY_UNFINISH;
        } else {
                result = sum->missing || sum->extra || sum->wrong_score ||
                                         sum->wrong_count || sum->idem_divergent
                                 ? CDC_VERIFY_DIFFERS
                                 : CDC_VERIFY_EQUAL;
        }
        if (v->v_vc->json) {
                fprintf(v->v_out,
                        "{\"type\":\"summary\",\"result\":\"%s\",\"users\":"
                        "%" PRIu64 ",\"checked_edges\":%" PRIu64
                        ",\"divergent_users\":%" PRIu64 ",\"missing\":%" PRIu64
                        ",\"extra\":%" PRIu64 ",\"wrong_score\":%" PRIu64
                        ",\"wrong_count\":%" PRIu64
                        ",\"idem_divergent\":%" PRIu64
                        ",\"skipped_newer\":%" PRIu64 "}\n",
                        result == CDC_VERIFY_EQUAL     ? "equal"
                        : result == CDC_VERIFY_DIFFERS ? "different"
                                                       : "unfinished",
                        sum->users, sum->checked_edges, sum->divergent_users,
                        sum->missing, sum->extra, sum->wrong_score,
                        sum->wrong_count, sum->idem_divergent,
                        sum->skipped_newer);
        }
        cdc_verify_print_summary(v->v_out, sum);
        fflush(v->v_out);

        cdc_metric_set(v->m_users, (int64_t)sum->users);
        cdc_metric_set(v->m_edges, (int64_t)sum->checked_edges);
        cdc_metric_set(v->m_div, (int64_t)sum->divergent_users);
        cdc_metric_set(v->m_missing, (int64_t)sum->missing);
        cdc_metric_set(v->m_extra, (int64_t)sum->extra);
        cdc_metric_set(v->m_wrong_score, (int64_t)sum->wrong_score);
        cdc_metric_set(v->m_wrong_count, (int64_t)sum->wrong_count);
        cdc_metric_set(v->m_idem, (int64_t)sum->idem_divergent);
        cdc_metric_add(v->m_newer, (int64_t)sum->skipped_newer);
        cdc_metric_set(v->m_last_ts, verify_wall_ms() / 1000);
        cdc_metric_set(v->m_duration, verify_mono_ms() - t0);
        cdc_metric_add(v->m_runs[result == CDC_VERIFY_EQUAL     ? 0
                                 : result == CDC_VERIFY_DIFFERS ? 1
                                                                : 2],
                       1);
        return result;
}
