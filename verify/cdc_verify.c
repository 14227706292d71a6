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
#include "cdc_verify_priv.h"

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

/* ---- small helpers ---- */

int64_t verify_wall_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t verify_mono_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

char *verify_memdup(const char *s, size_t n) {
        char *d = malloc(n + 1);
        if (d) {
                memcpy(d, s, n);
                d[n] = '\0';
        }
        return d;
}

/* "<prefix>:{u:<uid>}:<suffix>" as the consumer names it
 * (schemas/redis.md); cross-checked against cdc_apply's keys. */
char *verify_user_key(const cdc_verify_t *v, const char *uid,
                      const char *suffix, size_t *lenp) {
        size_t n = v->v_prefix_len + strlen(uid) + strlen(suffix) + 8;
        char *k  = malloc(n);
        if (!k)
                return NULL;
        *lenp = (size_t)snprintf(k, n, "%s:{u:%s}:%s", v->v_prefix, uid,
                                 suffix);
        return k;
}

void vuser_free_redis(vuser_t *u) {
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

void vuser_destroy(vuser_t *u) {
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

void videm_destroy(videm_t *r) {
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
        ac.max_batch  = 4;
        ac.push_every = 0; /* never writes */
        v->v_ap       = cdc_apply_new(&ac, errstr, errstr_size);
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
        free(v->v_rep);
        cdc_rcluster_destroy(v->v_rc);
        cdc_apply_destroy(v->v_ap);
        free(v->v_prefix);
        free(v);
}

static int verify_idem_cmp(cdc_verify_t *v, videm_t *r, int64_t now, vcb_t *c,
                           cdc_vdiff_stats_t *st);

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

                verify_idem_cmp(v, r, verify_wall_ms(), &c, &st);
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

/* Compare record \p r (Redis read) with what its row asks for; a
 * record without a row (expire_ms -1, no status) asks for none. */
static int verify_idem_cmp(cdc_verify_t *v, videm_t *r, int64_t now, vcb_t *c,
                           cdc_vdiff_stats_t *st) {
        cdc_videm_t exp;

        memset(st, 0, sizeof(*st));
        memset(&exp, 0, sizeof(exp));
        exp.rid       = r->rid;
        exp.rid_len   = r->rid_len;
        exp.present   = r->expire_ms > now;
        exp.status    = r->status;
        exp.biz       = r->biz;
        exp.biz_len   = r->biz_len;
        exp.expire_ms = r->expire_ms;
        exp.row       = r->row;
        return cdc_vdiff_idem(&exp, &r->red, &r->snap, now,
                              v->v_vc->expiry_slack_ms, verify_report_cb, c,
                              st);
}

/* Read \p recs from Redis and compare; the differing ones become
 * suspects (recs[i] set to NULL). Also for the records MySQL has no row
 * for (cdc_verify_orphans.c). */
int verify_idem_list(cdc_verify_t *v, videm_t **recs, size_t n) {
        size_t i;
        int rc;
        int64_t now;

        if ((rc = verify_read_idem(v, recs, n)))
                return rc;
        now = verify_wall_ms();
        for (i = 0; i < n; i++) {
                videm_t *r = recs[i];
                cdc_vdiff_stats_t st;
                vcb_t c = { v, NULL, r, 0 };

                verify_idem_cmp(v, r, now, &c, &st);
                v->v_sum->checked_edges += st.edges;
                v->v_sum->skipped_newer += st.newer;
                if (c.found) {
                        if (verify_push((void ***)&v->v_isus, &v->v_nisus,
                                        &v->v_isus_cap, r))
                                return -1;
                        recs[i] = NULL;
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

int verify_list(cdc_verify_t *v, const uint64_t *ids, size_t n) {
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
                rc = verify_idem_list(v, v->v_idem, v->v_nidem);
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
        /* users only Redis knows: the walk above never met them */
        return verify_orphans(v);
}

void cdc_verify_print_summary(FILE *fp, const cdc_verify_sum_t *s) {
        fprintf(fp,
                "VERIFY users=%" PRIu64 " checked_edges=%" PRIu64
                " divergent_users=%" PRIu64 " missing=%" PRIu64
                " extra=%" PRIu64 " wrong_score=%" PRIu64
                " idem_divergent=%" PRIu64 " wrong_count=%" PRIu64
                " skipped_newer=%" PRIu64 " rechecked=%" PRIu64
                " redis_only_users=%" PRIu64 " redis_only_records=%" PRIu64
                "\n",
                s->users, s->checked_edges, s->divergent_users, s->missing,
                s->extra, s->wrong_score, s->idem_divergent, s->wrong_count,
                s->skipped_newer, s->rechecked, s->redis_only_users,
                s->redis_only_records);
}

static int verify_cmp_id(const void *a, const void *b) {
        const char *x = a, *y = b;
        size_t lx = strlen(x), ly = strlen(y);
        return lx != ly ? (lx < ly ? -1 : 1) : strcmp(x, y);
}

/* --repair: the divergent users as `users` requests of at most 1,000 ids,
 * and a `table` request for the idempotency table, rows of the producer's
 * signal table (docs/repair.md). Prints "REPAIR requested users=N
 * tables=M"; a failure is logged and does not change the exit status. */
static void verify_repair_file(cdc_verify_t *v) {
        const cdc_vconf_t *vc = v->v_vc;
        const char *tbl       = vc->repair_signal_table;
        size_t i, n = 0, users = 0, tables = 0, cap = 1000 * VERIFY_IDLEN;
        char *payload = malloc(cap);
        cdc_err_t err = CDC_ERR_NO_ERROR;

        if (!payload)
                return;
        qsort(v->v_rep, v->v_nrep, sizeof(*v->v_rep), verify_cmp_id);
        for (i = 0; i <= v->v_nrep && !err; i++) {
                int last = i == v->v_nrep;
                if (!last && i && !strcmp(v->v_rep[i], v->v_rep[i - 1]))
                        continue;
                if (!last) {
                        size_t l = strlen(v->v_rep[i]);
                        if (n)
                                payload[n++] = ',';
                        memcpy(payload + n, v->v_rep[i], l);
                        n += l;
                        payload[n] = '\0';
                        users++;
                }
                if (n && (last || users % 1000 == 0)) {
                        err = cdc_vsource_signal(v->v_src, tbl, "users",
                                                 payload);
                        n   = 0;
                }
        }
        if (!err && v->v_rep_idem) {
                err = cdc_vsource_signal(v->v_src, tbl, "table",
                                         vc->vc_cc.idem_table
                                                 ? vc->vc_cc.idem_table
                                                 : "idempotent_log");
                tables += !err;
        }
        free(payload);
        if (err) {
                cdc_log(LOG_ERR, "VERIFY", "repair request into %s: %s", tbl,
                        cdc_vsource_errstr(v->v_src));
                return;
        }
        cdc_log(LOG_NOTICE, "VERIFY",
                "repair requested in %s: %zu user(s), %zu table(s)", tbl, users,
                tables);
        fprintf(v->v_out, "REPAIR requested users=%zu tables=%zu\n", users,
                tables);
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
                        ",\"skipped_newer\":%" PRIu64
                        ",\"redis_only_users\":%" PRIu64
                        ",\"redis_only_records\":%" PRIu64 "}\n",
                        result == CDC_VERIFY_EQUAL     ? "equal"
                        : result == CDC_VERIFY_DIFFERS ? "different"
                                                       : "unfinished",
                        sum->users, sum->checked_edges, sum->divergent_users,
                        sum->missing, sum->extra, sum->wrong_score,
                        sum->wrong_count, sum->idem_divergent,
                        sum->skipped_newer, sum->redis_only_users,
                        sum->redis_only_records);
        }
        cdc_verify_print_summary(v->v_out, sum);
        if (result == CDC_VERIFY_DIFFERS && vc->repair)
                verify_repair_file(v);
        v->v_nrep     = 0;
        v->v_rep_idem = 0;
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
