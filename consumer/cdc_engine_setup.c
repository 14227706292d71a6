/**
 * @file cdc_engine_setup.c
 * @brief followcdc-consumer's engine: metrics, readiness and setup (see
 *        cdc_engine.h). The steps and the loop: cdc_engine.c.
 */
#include "cdc_engine_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdc_log.h"

/* Summary of an ongoing failure, once per period. */
#define ENGINE_RETRY_SUMMARY_MS 30000
/* Partition lag gauges: refreshed this often, at most this many series
 * (partitions ever assigned to this instance; more are not exported). */
#define ENGINE_LAG_EVERY_US     1000000
#define ENGINE_LAG_MAX          4096

/* ---- metrics and readiness ---- */

static void engine_metrics_init(cdc_engine_t *eng) {
        /* clang-format off */
        static const struct {
                size_t off;
                int gauge;
                const char *name, *help;
        } defs[] = {
#define _M(f) offsetof(struct cdc_engine_s, f)
 {_M(m_batches), 0, "followcdc_consumer_batches_total", "Batches acknowledged and stored"},
 {_M(m_redis_err), 0, "followcdc_consumer_redis_failures_total", "Failed Redis connects or flushes (retried)"},
 {_M(m_rebal), 0, "followcdc_consumer_rebalances_total", "Group rebalances served"},
 {_M(m_dropped), 0, "followcdc_consumer_dropped_batches_total", "Unacknowledged batches dropped on revoke (re-read later)"},
 {_M(m_replayed), 0, "followcdc_consumer_replay_partitions_total", "Partitions a replay (--replay, --replay-from) started at its position"},
 {_M(m_wakes), 0, "followcdc_consumer_fetch_wakeups_total", "Times the Kafka fetcher was woken: its queue ran short while the brokers held more (docs/consumer.md)"},
 {_M(m_dlq_err), 0, "followcdc_consumer_dead_letter_failures_total", "Failed dead-letter deliveries (retried)"},
 {_M(m_assigned), 1, "followcdc_consumer_assigned_partitions", "Partitions assigned to this instance"},
 {_M(m_redis_up), 1, "followcdc_consumer_redis_up", "1 while Redis is reachable"},
 {_M(m_stalled), 1, "followcdc_consumer_stalled_partitions", "Assigned partitions held (paused) while a batch waits for Redis or the dead-letter topic"},
 {_M(m_unmapped_topics), 1, "followcdc_consumer_unmapped_topics", "Subscribed topics whose table is not mapped"},
 {_M(m_scripts), 0, "followcdc_apply_scripts_total", "Scripts acknowledged by Redis"},
 {_M(m_applied), 0, "followcdc_apply_applied_total", "Scripts that changed Redis"},
 {_M(m_stale), 0, "followcdc_apply_stale_total", "Scripts skipped as not newer than Redis"},
 {_M(m_rtt), 0, "followcdc_apply_round_trips_total", "Pipelines sent"},
 {_M(m_ignored), 0, "followcdc_apply_ignored_total", "Events of tables that are not mapped, ignored by the applier (the consumer dead-letters them first)"},
 {_M(m_expired), 0, "followcdc_apply_expired_total", "Idempotency rows already past their TTL"},
 {_M(m_loss), 0, "followcdc_consumer_redis_data_loss_total", "Redis masters found without their marker: lost data (restart without persistence, FLUSHALL, empty replica) or a new, empty Redis"},
 {_M(m_loss_replays), 0, "followcdc_consumer_redis_loss_replays_total", "Partitions replayed from their beginning to rebuild Redis after a data loss"},
 {_M(m_loss_checks), 0, "followcdc_consumer_redis_loss_checks_total", "Marker checks completed (every master answered)"},
 {_M(m_loss_errors), 0, "followcdc_consumer_redis_loss_check_errors_total", "Marker checks that failed (retried with backoff; batches go on meanwhile)"},
#undef _M
        };
        /* clang-format on */
        size_t i;

        for (i = 0; i < sizeof(defs) / sizeof(*defs); i++)
                *(cdc_metric_t **)((char *)eng + defs[i].off) =
                        defs[i].gauge
                                ? cdc_metrics_gauge(eng->e_m, defs[i].name,
                                                    defs[i].help, NULL)
                                : cdc_metrics_counter(eng->e_m, defs[i].name,
                                                      defs[i].help, NULL);
}

/* The group's gauges, right after a rebalance (tests and operators wait
 * on them; the loop may be backing off for a long time). */
void engine_metrics_group(cdc_engine_t *eng) {
        cdc_metric_add(
                eng->m_replayed,
                (int64_t)(cdc_kcons_replayed(eng->e_kc) - eng->e_replayed));
        eng->e_replayed = cdc_kcons_replayed(eng->e_kc);
        cdc_metric_add(eng->m_wakes,
                       (int64_t)(cdc_kcons_wakes(eng->e_kc) - eng->e_wakes));
        eng->e_wakes = cdc_kcons_wakes(eng->e_kc);
        cdc_metric_set(eng->m_assigned, cdc_kcons_assigned(eng->e_kc));
}

/* Topic names in a label: Kafka allows [a-zA-Z0-9._-] only; anything
 * else (never seen) is not exported rather than escaped. */
static int engine_topic_ok(const char *t) {
        size_t n = strlen(t);
        return n && n <= 249 &&
               strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                         "0123456789._-") == n;
}

static void engine_lag_cb(void *opaque, const char *topic, int32_t partition,
                          int64_t lag) {
        cdc_engine_t *eng = opaque;
        engine_lag_t *l   = NULL;
        char labels[320];
        size_t i;

        for (i = 0; i < eng->e_nlag && !l; i++)
                if (eng->e_lag[i].partition == partition &&
                    !strcmp(eng->e_lag[i].topic, topic))
                        l = &eng->e_lag[i];
        if (!l) {
                if (eng->e_nlag == ENGINE_LAG_MAX || !engine_topic_ok(topic))
                        return;
                if (eng->e_nlag == eng->e_lagcap) {
                        size_t cap = eng->e_lagcap ? eng->e_lagcap * 2 : 16;
                        engine_lag_t *nl =
                                realloc(eng->e_lag, cap * sizeof(*nl));
                        if (!nl)
                                return;
                        eng->e_lag    = nl;
                        eng->e_lagcap = cap;
                }
                l = &eng->e_lag[eng->e_nlag];
                memset(l, 0, sizeof(*l));
                l->topic = strdup(topic);
                snprintf(labels, sizeof(labels),
                         "topic=\"%s\",partition=\"%" PRId32 "\"", topic,
                         partition);
                if (!l->topic)
                        return;
                l->mt = cdc_metrics_gauge(
                        eng->e_m, "followcdc_consumer_lag_messages",
                        "Messages of an assigned partition Redis has not "
                        "acknowledged: its high watermark minus the next "
                        "offset not applied",
                        labels);
                if (!l->mt) {
                        free(l->topic);
                        return;
                }
                l->partition = partition;
                eng->e_nlag++;
        }
        l->seen = 1;
        cdc_metric_set(l->mt, lag);
        cdc_metric_hide(l->mt, 0);
}

/* The lag gauges of the assigned partitions, once a second; revoked
 * partitions' series disappear. Cached client state only: no broker
 * round trip in the loop. */
void engine_metrics_lag(cdc_engine_t *eng) {
        int64_t now = cdc_now_us();
        size_t i;

        if (now - eng->e_lag_us < ENGINE_LAG_EVERY_US)
                return;
        eng->e_lag_us = now;
        for (i = 0; i < eng->e_nlag; i++)
                eng->e_lag[i].seen = 0;
        if (cdc_kcons_lag(eng->e_kc, engine_lag_cb, eng) < 0)
                return; /* keep the last values */
        for (i = 0; i < eng->e_nlag; i++)
                if (!eng->e_lag[i].seen)
                        cdc_metric_hide(eng->e_lag[i].mt, 1);
}

void engine_metrics_sync(cdc_engine_t *eng) {
        cdc_apply_stats_t st;
        cdc_apply_stats(eng->e_ap, &st);
        cdc_metric_add(eng->m_scripts,
                       (int64_t)(st.scripts - eng->e_last.scripts));
        cdc_metric_add(eng->m_applied,
                       (int64_t)(st.applied - eng->e_last.applied));
        cdc_metric_add(eng->m_stale, (int64_t)(st.stale - eng->e_last.stale));
        cdc_metric_add(eng->m_rtt,
                       (int64_t)(st.round_trips - eng->e_last.round_trips));
        cdc_metric_add(eng->m_ignored,
                       (int64_t)(st.ignored - eng->e_last.ignored));
        cdc_metric_add(eng->m_expired,
                       (int64_t)(st.expired - eng->e_last.expired));
        eng->e_last = st;
        engine_metrics_group(eng);
        cdc_metric_set(eng->m_redis_up, eng->e_redis_up);
        engine_metrics_lag(eng);
}

/* @locality HTTP thread: atomics and sig_atomic_t only */
static int engine_ready_cb(void *opaque, char *why, size_t why_size) {
        cdc_engine_t *eng = opaque;
        if (!eng->e_redis_up) {
                snprintf(why, why_size, "redis unreachable");
                return 0;
        }
        if (eng->e_dlq_failing) {
                snprintf(why, why_size,
                         "dead-letter topic %s: deliveries failing, %" PRId64
                         " partition(s) stalled",
                         eng->e_cc->cc_dlq, cdc_metric_get(eng->m_stalled));
                return 0;
        }
        return 1;
}

/* ---- setup ---- */

/* Topics are <prefix>.<db>.<table>: warn about each subscribed topic
 * whose table is not mapped (its events will be dead-lettered), refuse a
 * configuration where no topic can match. */
static cdc_err_t engine_check_topics(cdc_engine_t *eng, char *errstr,
                                     size_t errstr_size) {
        const cdc_cconf_t *cc = eng->e_cc;
        cdc_batch_conf_t bc;
        int i, unmapped = 0;

        memset(&bc, 0, sizeof(bc));
        bc.follow_table = cc->follow_table;
        bc.idem_table   = cc->idem_table;
        for (i = 0; i < cc->cc_topic_cnt; i++) {
                const char *t   = cc->cc_topics[i];
                const char *tab = strrchr(t, '.') ? strrchr(t, '.') + 1 : t;
                if (cdc_batch_table_mapped(&bc, tab))
                        continue;
                unmapped++;
                cdc_log(LOG_WARNING, "CONSUMER",
                        "topic %s: table \"%s\" is neither follow.table "
                        "(\"%s\") nor idem.table (\"%s\"): its events will "
                        "be dead-lettered",
                        t, tab, cc->follow_table, cc->idem_table);
        }
        cdc_metric_set(eng->m_unmapped_topics, unmapped);
        if (unmapped == cc->cc_topic_cnt) {
                snprintf(errstr, errstr_size,
                         "topics: none of the %d subscribed topic(s) carries "
                         "follow.table \"%s\" or idem.table \"%s\" (topic "
                         "names end in .<table>): every event would be "
                         "dead-lettered",
                         cc->cc_topic_cnt, cc->follow_table, cc->idem_table);
                return CDC_ERR__CONFIG;
        }
        return CDC_ERR_NO_ERROR;
}

cdc_err_t cdc_engine_new(const cdc_cconf_t *cc, volatile sig_atomic_t *run,
                         cdc_engine_t **engp, char *errstr,
                         size_t errstr_size) {
        cdc_engine_t *eng = calloc(1, sizeof(*eng));
        cdc_apply_conf_t ac;
        cdc_batch_conf_t bc;
        char es[512];
        cdc_err_t err = CDC_ERR__CONFIG;

        *engp = NULL;
        if (!eng || !(eng->e_m = cdc_metrics_new()) ||
            !(eng->e_bo = cdc_backoff_new(ENGINE_BACKOFF_BASE_MS,
                                          ENGINE_BACKOFF_MAX_MS)) ||
            !(eng->e_loss_bo = cdc_backoff_new(ENGINE_BACKOFF_BASE_MS,
                                               ENGINE_BACKOFF_MAX_MS))) {
                snprintf(errstr, errstr_size, "out of memory");
                err = CDC_ERR__NOMEM;
                goto fail;
        }
        eng->e_cc    = cc;
        eng->e_run   = run;
        eng->e_state = ENGINE_S_GATHER;
        cdc_retry_init(&eng->e_rl_redis, "CONSUMER", CDC_DBG_RSINK, "redis",
                       ENGINE_RETRY_SUMMARY_MS);
        cdc_retry_init(&eng->e_rl_dlq, "CONSUMER", CDC_DBG_KCONS,
                       "dead-letter delivery", ENGINE_RETRY_SUMMARY_MS);
        cdc_retry_init(&eng->e_rl_loss, "RLOSS", CDC_DBG_RSINK,
                       "Redis data-loss marker check", ENGINE_RETRY_SUMMARY_MS);
        engine_metrics_init(eng);
        if (engine_check_topics(eng, errstr, errstr_size))
                goto fail;

        cdc_cconf_apply_conf(cc, &ac);
        ac.metrics = eng->e_m;
        eng->e_ap  = cdc_apply_new(&ac, es, sizeof(es));
        if (!eng->e_ap) {
                snprintf(errstr, errstr_size, "apply: %s", es);
                goto fail;
        }
        if (cc->redis_loss_check_ms > 0) {
                eng->e_rl = cdc_rloss_new(cc->redis_key_prefix, cc->cc_group_id,
                                          errstr, errstr_size);
                if (!eng->e_rl) {
                        err = CDC_ERR__NOMEM;
                        goto fail;
                }
                eng->e_loss_due = 1;
        }
        eng->e_dq = cdc_dlq_new(cc->cc_conf, cc->cc_dlq, engine_dlq_dr_cb, eng,
                                errstr, errstr_size);
        if (!eng->e_dq)
                goto fail;
        eng->e_kc =
                cdc_kcons_new(cc, engine_revoke_cb, eng, errstr, errstr_size);
        if (!eng->e_kc)
                goto fail;
        cdc_kcons_set_assign_cb(eng->e_kc, engine_assign_cb);
        memset(&bc, 0, sizeof(bc));
        bc.max_msgs          = (size_t)cc->batch_size;
        bc.max_bytes         = (size_t)cc->batch_bytes;
        bc.event_max_bytes   = (size_t)cc->event_max_bytes;
        bc.event_max_columns = (int)cc->event_max_columns;
        bc.follow_table      = cc->follow_table;
        bc.idem_table        = cc->idem_table;
        err                  = CDC_ERR__NOMEM;
        eng->e_b = cdc_batch_new(&bc, eng->e_ap, eng->e_dq, eng->e_kc, eng->e_m,
                                 errstr, errstr_size);
        if (!eng->e_b)
                goto fail;

        if (cc->http_listen && *cc->http_listen) {
                eng->e_http =
                        cdc_http_new(cc->http_listen, cc->cc_conf, eng->e_m,
                                     engine_ready_cb, eng, es, sizeof(es));
                if (!eng->e_http) {
                        snprintf(errstr, errstr_size, "http.listen %s: %s",
                                 cc->http_listen, es);
                        err = CDC_ERR__CONFIG;
                        goto fail;
                }
                cdc_log(LOG_NOTICE, "CONSUMER", "serving /metrics on port %d",
                        cdc_http_port(eng->e_http));
        }
        if (cc->reaper_enable) {
                eng->e_rp = cdc_reaper_new(cc, eng->e_m, es, sizeof(es));
                if (!eng->e_rp || cdc_reaper_start(eng->e_rp)) {
                        snprintf(errstr, errstr_size, "reaper: %s",
                                 eng->e_rp ? "cannot start thread" : es);
                        err = CDC_ERR__FATAL;
                        goto fail;
                }
        }
        /* Connect early so /readyz turns green; failures retry in the
         * loop */
        if (engine_redis_once(eng, es, sizeof(es)) && !eng->e_redis_fatal)
                cdc_retry_fail(&eng->e_rl_redis, cdc_now_us(), -1, "%s", es);
        *engp = eng;
        return CDC_ERR_NO_ERROR;
fail:
        cdc_engine_destroy(eng);
        return err;
}

void cdc_engine_destroy(cdc_engine_t *eng) {
        if (!eng)
                return;
        eng->e_state = ENGINE_S_STOP;
        cdc_reaper_destroy(eng->e_rp);
        cdc_http_destroy(eng->e_http);
        /* Free the batch while the consumer lives (its messages belong to
         * it); letters still in flight report to nobody after this. */
        cdc_batch_destroy(eng->e_b);
        eng->e_b = NULL;
        if (eng->e_kc) {
                cdc_kcons_close(eng->e_kc);
                cdc_kcons_destroy(eng->e_kc);
        }
        cdc_dlq_destroy(eng->e_dq, 5000);
        cdc_apply_destroy(eng->e_ap);
        cdc_rloss_destroy(eng->e_rl);
        cdc_backoff_destroy(eng->e_bo);
        cdc_backoff_destroy(eng->e_loss_bo);
        cdc_metrics_destroy(eng->e_m);
        while (eng->e_nlag > 0)
                free(eng->e_lag[--eng->e_nlag].topic);
        free(eng->e_lag);
        free(eng);
}
