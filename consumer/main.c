/**
 * @file main.c
 * @brief followcdc-consumer: a Kafka consumer group member that applies
 *        change events to Redis (cdc_apply), dead-letters poison
 *        messages (cdc_dlq), and optionally reaps expired idempotency
 *        rows from MySQL (cdc_reaper).
 *
 * Loop (one thread owns Kafka and Redis):
 *   gather  up to batch.size messages or batch.ms
 *   add     each event to cdc_apply (tombstones skipped, poison to DLQ)
 *   settle  cdc_apply_flush + DLQ acknowledgements, retried with backoff
 *           while the partitions are paused and the group is kept alive
 *   store   the offsets of the whole batch (auto-commit commits them)
 */
#include <inttypes.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cdc_apply.h"
#include "cdc_backoff.h"
#include "cdc_cconf.h"
#include "cdc_conf.h"
#include "cdc_dlq.h"
#include "cdc_event.h"
#include "cdc_kcons.h"
#include "cdc_log.h"
#include "cdc_metrics.h"
#include "cdc_reaper.h"

extern char **environ;

static volatile sig_atomic_t run = 1;

static void app_sig_term(int sig) {
        (void)sig;
        run = 0;
}

typedef struct app_s {
        cdc_cconf_t cc;
        cdc_kcons_t *kc;
        cdc_dlq_t *dq;
        cdc_apply_t *ap;
        cdc_reaper_t *rp;
        cdc_metrics_t *m;
        cdc_http_t *http;
        cdc_backoff_t *bo;

        rd_kafka_message_t **batch; /* gathered, not yet stored */
        size_t n, cap;
        rd_kafka_message_t **carry; /* polled while settling */
        size_t ncarry;
        size_t *letters; /* batch indexes sent to the DLQ */
        char **reasons;
        size_t nletters;

        cdc_event_t **evs; /* parsed events of the batch */
        cdc_err_t *perr;   /* parse result per message */
        char **pwhy;       /* parse failure reasons (owned) */
        /* helper thread parsing the second half of each batch: JSON
         * parsing is half the consumer's CPU and Redis is idle meanwhile */
        pthread_t pt;
        pthread_mutex_t plk;
        pthread_cond_t pcnd;
        int pt_started, pjob, pstop;
        size_t pfrom, pto;

        int in_batch;   /* between add and store */
        int paused;     /* partitions paused by app_idle */
        int batch_void; /* a revoke dropped the batch */
        volatile sig_atomic_t redis_up;
        int redis_fatal;     /* Redis settings contradict the server: stop */
        int64_t deadline_us; /* shutdown: give up settling then */

        cdc_apply_stats_t last; /* for metric deltas */
        cdc_metric_t *m_msgs, *m_events, *m_tomb, *m_dlq, *m_batches,
                *m_redis_err, *m_rebal, *m_assigned, *m_redis_up, *m_scripts,
                *m_applied, *m_stale, *m_rtt, *m_ignored, *m_expired,
                *m_redelivered;
} app_t;

/* ---- metrics ---- */

static void app_metrics_init(app_t *app) {
        cdc_metrics_t *m = app->m;
        app->m_msgs =
                cdc_metrics_counter(m, "followcdc_consumer_messages_total",
                                    "Kafka messages consumed", NULL);
        app->m_events = cdc_metrics_counter(
                m, "followcdc_consumer_events_total",
                "Change events handed to the applier", NULL);
        app->m_tomb = cdc_metrics_counter(
                m, "followcdc_consumer_tombstones_total",
                "Tombstones skipped (they exist for compaction)", NULL);
        app->m_dlq = cdc_metrics_counter(
                m, "followcdc_consumer_dead_letters_total",
                "Messages sent to the dead-letter topic", NULL);
        app->m_batches =
                cdc_metrics_counter(m, "followcdc_consumer_batches_total",
                                    "Batches acknowledged and stored", NULL);
        app->m_redis_err = cdc_metrics_counter(
                m, "followcdc_consumer_redis_failures_total",
                "Failed Redis connects or flushes (retried)", NULL);
        app->m_rebal =
                cdc_metrics_counter(m, "followcdc_consumer_rebalances_total",
                                    "Group rebalances served", NULL);
        app->m_redelivered = cdc_metrics_counter(
                m, "followcdc_consumer_dropped_batches_total",
                "Unacknowledged batches dropped on revoke (re-read later)",
                NULL);
        app->m_assigned =
                cdc_metrics_gauge(m, "followcdc_consumer_assigned_partitions",
                                  "Partitions assigned to this instance", NULL);
        app->m_redis_up = cdc_metrics_gauge(m, "followcdc_consumer_redis_up",
                                            "1 while Redis is reachable", NULL);
        app->m_scripts =
                cdc_metrics_counter(m, "followcdc_apply_scripts_total",
                                    "Scripts acknowledged by Redis", NULL);
        app->m_applied =
                cdc_metrics_counter(m, "followcdc_apply_applied_total",
                                    "Scripts that changed Redis", NULL);
        app->m_stale = cdc_metrics_counter(
                m, "followcdc_apply_stale_total",
                "Scripts skipped as not newer than Redis", NULL);
        app->m_rtt = cdc_metrics_counter(m, "followcdc_apply_round_trips_total",
                                         "Pipelines sent", NULL);
        app->m_ignored = cdc_metrics_counter(
                m, "followcdc_apply_ignored_total",
                "Events of tables that are not mapped", NULL);
        app->m_expired = cdc_metrics_counter(
                m, "followcdc_apply_expired_total",
                "Idempotency rows already past their TTL", NULL);
}

static void app_metrics_sync(app_t *app) {
        cdc_apply_stats_t st;
        cdc_apply_stats(app->ap, &st);
        cdc_metric_add(app->m_scripts,
                       (int64_t)(st.scripts - app->last.scripts));
        cdc_metric_add(app->m_applied,
                       (int64_t)(st.applied - app->last.applied));
        cdc_metric_add(app->m_stale, (int64_t)(st.stale - app->last.stale));
        cdc_metric_add(app->m_rtt,
                       (int64_t)(st.round_trips - app->last.round_trips));
        cdc_metric_add(app->m_ignored,
                       (int64_t)(st.ignored - app->last.ignored));
        cdc_metric_add(app->m_expired,
                       (int64_t)(st.expired - app->last.expired));
        app->last = st;
        cdc_metric_set(app->m_assigned, cdc_kcons_assigned(app->kc));
        cdc_metric_set(app->m_redis_up, app->redis_up);
}

static int app_ready_cb(void *opaque, char *why, size_t why_size) {
        app_t *app = opaque;
        if (!app->redis_up) {
                snprintf(why, why_size, "redis unreachable");
                return 0;
        }
        return 1;
}

/* ---- batch ---- */

static void app_batch_free(app_t *app) {
        size_t i;
        for (i = 0; i < app->n; i++)
                rd_kafka_message_destroy(app->batch[i]);
        for (i = 0; i < app->nletters; i++)
                free(app->reasons[i]);
        app->n        = 0;
        app->nletters = 0;
}

/* Drop the batch without storing: its messages will be read again. */
static void app_batch_drop(app_t *app) {
        if (!app->n)
                return;
        cdc_log(LOG_NOTICE, "CONSUMER",
                "dropping %zu unacknowledged message(s); they will be "
                "delivered again",
                app->n);
        cdc_metric_add(app->m_redelivered, 1);
        cdc_apply_discard(app->ap);
        cdc_kcons_rewind(app->kc, app->batch, app->n);
        app_batch_free(app);
}

static void app_letter(app_t *app, size_t idx, const char *reason) {
        rd_kafka_message_t *rkm = app->batch[idx];
        char *r                 = strdup(reason);
        if (!r) {
                /* keep the stream moving with a fixed reason */
                r = strdup("unparsable");
        }
        cdc_log(LOG_WARNING, "CONSUMER",
                "dead-lettering %s [%" PRId32 "] offset %" PRId64 ": %s",
                rd_kafka_topic_name(rkm->rkt), rkm->partition, rkm->offset,
                reason);
        app->letters[app->nletters] = idx;
        app->reasons[app->nletters] = r;
        app->nletters++;
        cdc_metric_add(app->m_dlq, 1);
}

/* Shutting down and the time to finish is over? */
static int app_deadline_passed(app_t *app) {
        if (run)
                return 0;
        if (!app->deadline_us)
                app->deadline_us =
                        cdc_now_us() + app->cc.shutdown_timeout_ms * 1000;
        return cdc_now_us() >= app->deadline_us;
}

/* Poll while paused so the group membership stays alive; whatever is
 * returned (a partition assigned since the pause) is carried over. */
static void app_idle(app_t *app, int ms) {
        int64_t end    = cdc_now_us() + (int64_t)ms * 1000;
        uint64_t rebal = cdc_kcons_rebalances(app->kc);

        cdc_kcons_pause(app->kc, 1);
        app->paused = 1;
        while (!app_deadline_passed(app)) {
                int64_t left = (end - cdc_now_us()) / 1000;
                rd_kafka_message_t *rkm;
                if (left <= 0 || app->batch_void)
                        break;
                cdc_http_alive(app->http); /* liveness: waiting is progress */
                rkm = cdc_kcons_poll(app->kc, left > 100 ? 100 : (int)left);
                if (cdc_kcons_rebalances(app->kc) != rebal) {
                        rebal = cdc_kcons_rebalances(app->kc);
                        cdc_kcons_pause(app->kc, 1);
                }
                if (!rkm)
                        continue;
                if (app->ncarry < app->cap) {
                        app->carry[app->ncarry++] = rkm;
                } else {
                        cdc_kcons_rewind(app->kc, &rkm, 1);
                        rd_kafka_message_destroy(rkm);
                }
        }
}

/* Wait before a retry. @returns 0 to retry, -1 to give up (void batch
 * or shutdown deadline passed). */
static int app_backoff(app_t *app) {
        int ms = cdc_backoff_next_ms(app->bo, cdc_now_us());
        if (app->batch_void)
                return -1;
        if (app_deadline_passed(app))
                return -1;
        cdc_dbg(KCONS, "CONSUMER", "retry in %dms", ms);
        app_idle(app, ms);
        return app->batch_void || app_deadline_passed(app) ? -1 : 0;
}

/* A Redis setting that contradicts the server (a Redis Cluster node as
 * redis.host, or the reverse) is not retried: stop with exit 2. */
static int app_redis_fatal(app_t *app, cdc_err_t err) {
        if (err != CDC_ERR__CONFIG)
                return 0;
        cdc_log(LOG_CRIT, "CONSUMER", "%s", cdc_apply_errstr(app->ap));
        app->redis_fatal = 1;
        run              = 0;
        return 1;
}

/* Redis: connect if needed and flush. @returns 0 when acknowledged. */
static int app_redis_once(app_t *app) {
        cdc_err_t err;
        if (!app->redis_up) {
                err = cdc_apply_connect(app->ap);
                if (app_redis_fatal(app, err))
                        return -1;
                if (err) {
                        cdc_metric_add(app->m_redis_err, 1);
                        cdc_log(LOG_WARNING, "CONSUMER",
                                "redis %s:%" PRId64 ": %s", app->cc.redis_host,
                                app->cc.redis_port, cdc_apply_errstr(app->ap));
                        return -1;
                }
                cdc_log(LOG_NOTICE, "CONSUMER",
                        "connected to redis %s:%" PRId64, app->cc.redis_host,
                        app->cc.redis_port);
                app->redis_up = 1;
                cdc_metric_set(app->m_redis_up, 1);
        }
        if (!cdc_apply_pending(app->ap))
                return 0;
        err = cdc_apply_flush(app->ap);
        if (app_redis_fatal(app, err))
                return -1;
        if (err) {
                cdc_metric_add(app->m_redis_err, 1);
                cdc_log(LOG_WARNING, "CONSUMER",
                        "redis flush of %zu script(s) failed: %s; retrying "
                        "with backoff, offsets held",
                        cdc_apply_pending(app->ap), cdc_apply_errstr(app->ap));
                app->redis_up = 0;
                cdc_metric_set(app->m_redis_up, 0);
                return -1;
        }
        return 0;
}

/* Everything queued acknowledged by Redis, with retries unless \p once. */
static int app_redis_settle(app_t *app, int once) {
        for (;;) {
                if (!app_redis_once(app)) {
                        cdc_backoff_reset(app->bo);
                        return 0;
                }
                if (once || app->redis_fatal || app_backoff(app))
                        return -1;
        }
}

/* Every dead letter of the batch acknowledged. */
static int app_dlq_settle(app_t *app, int once) {
        char es[256];
        size_t i;
        cdc_err_t err;

        if (!app->nletters)
                return 0;
        for (;;) {
                err = cdc_dlq_wait(app->dq, 500);
                if (!err)
                        return 0;
                if (err == CDC_ERR__TRANSPORT) {
                        cdc_log(LOG_WARNING, "CONSUMER", "%s; re-sending",
                                cdc_dlq_errstr(app->dq));
                        for (i = 0; i < app->nletters; i++)
                                if (cdc_dlq_send(app->dq,
                                                 app->batch[app->letters[i]],
                                                 app->reasons[i], es,
                                                 sizeof(es)))
                                        cdc_log(LOG_WARNING, "CONSUMER", "%s",
                                                es);
                }
                if (once || app_backoff(app))
                        return -1;
        }
}

/* ---- parse ---- */

/* Parse messages [from, to) of the batch. @locality any thread */
static void app_parse_range(app_t *app, size_t from, size_t to) {
        char es[512];
        size_t i;

        for (i = from; i < to; i++) {
                rd_kafka_message_t *rkm = app->batch[i];
                app->evs[i]             = NULL;
                app->pwhy[i]            = NULL;
                app->perr[i]            = CDC_ERR_NO_ERROR;
                if (!rkm->payload)
                        continue; /* tombstone */
                es[0]        = '\0';
                app->perr[i] = cdc_event_parse(rkm->payload, rkm->len,
                                               &app->evs[i], es, sizeof(es));
                if (app->perr[i] && app->perr[i] != CDC_ERR__NOMEM)
                        app->pwhy[i] =
                                strdup(es[0] ? es : cdc_err2str(app->perr[i]));
        }
}

static void *app_parse_main(void *arg) {
        app_t *app = arg;
        pthread_mutex_lock(&app->plk);
        for (;;) {
                while (!app->pjob && !app->pstop)
                        pthread_cond_wait(&app->pcnd, &app->plk);
                if (app->pstop)
                        break;
                pthread_mutex_unlock(&app->plk);
                app_parse_range(app, app->pfrom, app->pto);
                pthread_mutex_lock(&app->plk);
                app->pjob = 0;
                pthread_cond_broadcast(&app->pcnd);
        }
        pthread_mutex_unlock(&app->plk);
        return NULL;
}

/* Parse messages [from, to), the second half on the helper thread. */
static void app_parse(app_t *app, size_t from, size_t to) {
        size_t half = from + (to - from) / 2;

        if (!app->pt_started || to - from < 64) {
                app_parse_range(app, from, to);
                return;
        }
        pthread_mutex_lock(&app->plk);
        app->pfrom = half;
        app->pto   = to;
        app->pjob  = 1;
        pthread_cond_broadcast(&app->pcnd);
        pthread_mutex_unlock(&app->plk);
        app_parse_range(app, from, half);
        pthread_mutex_lock(&app->plk);
        while (app->pjob)
                pthread_cond_wait(&app->pcnd, &app->plk);
        pthread_mutex_unlock(&app->plk);
}

/* Parsed events alive at once: bounds memory whatever batch.size is. */
#define APP_PARSE_WINDOW 256

/* Free parse results [from, to) (early exit of app_batch_add). */
static void app_parsed_free(app_t *app, size_t from, size_t to) {
        size_t i;
        for (i = from; i < to; i++) {
                cdc_event_destroy(app->evs[i]);
                app->evs[i] = NULL;
                free(app->pwhy[i]);
                app->pwhy[i] = NULL;
        }
}

/* Add every gathered message. @returns 0, or -1 if the batch was voided
 * or could not be flushed (once). */
static int app_batch_add(app_t *app, int once) {
        char es[512];
        size_t i, wend = 0;

        for (i = 0; i < app->n; i++) {
                rd_kafka_message_t *rkm = app->batch[i];
                cdc_event_t *ev;
                cdc_err_t err;

                if (i == wend) {
                        wend = i + APP_PARSE_WINDOW < app->n
                                       ? i + APP_PARSE_WINDOW
                                       : app->n;
                        app_parse(app, i, wend);
                }
                ev  = app->evs[i];
                err = app->perr[i];

                cdc_metric_add(app->m_msgs, 1);
                if (!rkm->payload) {
                        /* tombstone: only there for log compaction */
                        cdc_metric_add(app->m_tomb, 1);
                        continue;
                }
                if (err == CDC_ERR__NOMEM) {
                        /* not the message's fault: retry the batch later */
                        app_parsed_free(app, i, wend);
                        return -1;
                }
                if (err) {
                        app_letter(app, i,
                                   app->pwhy[i] ? app->pwhy[i] : "unparsable");
                        free(app->pwhy[i]);
                        app->pwhy[i] = NULL;
                        continue;
                }
                app->evs[i] = NULL;
                for (;;) {
                        es[0] = '\0';
                        err   = cdc_apply_add(app->ap, ev, es, sizeof(es));
                        if (err != CDC_ERR__QUEUE_FULL)
                                break;
                        /* the pipeline is full: acknowledge it first */
                        if (app_redis_settle(app, once)) {
                                cdc_event_destroy(ev);
                                app_parsed_free(app, i + 1, wend);
                                return -1;
                        }
                }
                cdc_event_destroy(ev);
                if (err == CDC_ERR__BAD_EVENT) {
                        app_letter(app, i, es[0] ? es : "unmappable event");
                        continue;
                }
                if (err) {
                        cdc_log(LOG_ERR, "CONSUMER", "apply: %s",
                                cdc_err2str(err));
                        app_parsed_free(app, i + 1, wend);
                        return -1;
                }
                cdc_metric_add(app->m_events, 1);
        }
        /* queue the dead letters now so their delivery overlaps Redis */
        for (i = 0; i < app->nletters; i++)
                if (cdc_dlq_send(app->dq, app->batch[app->letters[i]],
                                 app->reasons[i], es, sizeof(es)))
                        cdc_log(LOG_WARNING, "CONSUMER", "%s", es);
        return 0;
}

/* Add, settle, store. \p once: a single attempt (inside a revoke), the
 * batch is dropped if it fails. */
static void app_batch_run(app_t *app, int once) {
        int ok;

        if (!app->n)
                return;
        app->in_batch   = 1;
        app->batch_void = 0;
        ok = !app_batch_add(app, once) && !app_redis_settle(app, once) &&
             !app_dlq_settle(app, once);
        app->in_batch = 0;
        if (app->paused) {
                /* settled (or given up): fetch again */
                cdc_kcons_pause(app->kc, 0);
                app->paused = 0;
        }
        if (!ok || app->batch_void) {
                app_batch_drop(app);
                app->batch_void = 0;
                return;
        }
        cdc_kcons_store(app->kc, app->batch, app->n);
        cdc_metric_add(app->m_batches, 1);
        app_batch_free(app);
        app_metrics_sync(app);
}

/* @locality main thread, inside cdc_kcons_poll() */
static void app_revoke_cb(void *opaque,
                          const rd_kafka_topic_partition_list_t *parts) {
        app_t *app = opaque;
        size_t i;
        (void)parts;

        cdc_metric_add(app->m_rebal, 1);
        if (app->in_batch) {
                /* Revoked while waiting for Redis: this batch is void, its
                 * offsets are not stored and the next owner re-reads it. */
                app->batch_void = 1;
                cdc_apply_discard(app->ap);
                return;
        }
        /* Gathered but not applied yet: one attempt to finish it. */
        app_batch_run(app, 1);
        /* Carried messages were read after the batch: re-read them too. */
        if (app->ncarry) {
                cdc_kcons_rewind(app->kc, app->carry, app->ncarry);
                for (i = 0; i < app->ncarry; i++)
                        rd_kafka_message_destroy(app->carry[i]);
                app->ncarry = 0;
        }
}

/* Gather up to batch.size messages within batch.ms. */
static void app_gather(app_t *app) {
        int64_t start = 0;
        size_t i;

        /* carried messages go first: they were read first */
        for (i = 0; i < app->ncarry && app->n < app->cap; i++)
                app->batch[app->n++] = app->carry[i];
        if (i < app->ncarry)
                memmove(app->carry, app->carry + i,
                        (app->ncarry - i) * sizeof(*app->carry));
        app->ncarry -= i;

        while (run && app->n < app->cap) {
                int tmo;
                rd_kafka_message_t *rkm;
                if (app->n == 0) {
                        tmo = 200;
                } else {
                        int64_t left;
                        if (!start)
                                start = cdc_now_us();
                        left = app->cc.batch_ms - (cdc_now_us() - start) / 1000;
                        if (left <= 0)
                                break;
                        tmo = (int)left;
                }
                rkm = cdc_kcons_poll(app->kc, tmo);
                if (!rkm) {
                        if (app->n == 0 || cdc_kcons_fatal(app->kc))
                                break;
                        continue;
                }
                app->batch[app->n++] = rkm;
        }
}

/* ---- main ---- */

static const char usage_extra[] =
        "Replay / backfill (rebuilds Redis; applying twice is harmless):\n"
        "  --replay=earliest         start every assigned partition at its "
        "beginning\n"
        "  --replay-from=TIME        start at TIME (2026-11-22T05:00:00Z or "
        "ms)\n"
        "\n"
        "Debug contexts: kcons, rsink, reaper (or all), e.g. -d kcons,rsink\n"
        "\n"
        "Exit status: 0 stopped (SIGTERM/SIGINT), 1 fatal runtime error,\n"
        "2 bad configuration or a server that can't be used.\n"
        "Documentation: man followcdc-consumer, docs/consumer.md\n";

/* Defaults of followcdc-consumer that differ from librdkafka's; each one
 * applies only if the user did not set it. A new group starts at the
 * earliest offset: it rebuilds Redis from what the topics hold. */
static const char *const app_kafka_defaults[][2] = {
        { "bootstrap.servers", "127.0.0.1:9092" },
        { "auto.offset.reset", "earliest" },
        { "queued.max.messages.kbytes", "12288" },
        { "fetch.error.backoff.ms", "50" },
};

static rd_kafka_conf_t *app_kafka_conf(app_t *app, char *errstr,
                                       size_t errstr_size) {
        rd_kafka_conf_t *kconf      = cdc_conf_kafka_dup(app->cc.cc_conf);
        const char *const(*defs)[2] = app_kafka_defaults;
        char es[256];
        size_t i;
        if (!kconf) {
                snprintf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        /* Bound the pre-fetch queue (librdkafka's default is 64 MiB): a
         * few batches ahead is all the apply loop can use. librdkafka 2.0
         * waits fetch.error.backoff.ms (500) whenever that queue is full,
         * which starves the loop: wait 50 ms instead. */
        for (i = 0; i < sizeof(app_kafka_defaults) / sizeof(*defs); i++) {
                if (cdc_conf_kafka_get(app->cc.cc_conf, defs[i][0]))
                        continue;
                if (rd_kafka_conf_set(kconf, defs[i][0], defs[i][1], es,
                                      sizeof(es))) {
                        snprintf(errstr, errstr_size, "%s", es);
                        rd_kafka_conf_destroy(kconf);
                        return NULL;
                }
        }
        return kconf;
}

int main(int argc, char **argv) {
        app_t app;
        char es[512];
        char **av = NULL;
        cdc_apply_conf_t ac;
        rd_kafka_conf_t *kconf = NULL;
        struct sigaction sa;
        int ret = 1;

        /* librdkafka's threads (two clients) and the parse thread would
         * each get a glibc malloc arena; their fragmentation cost ~9 MB
         * of peak RSS in bench/consumer.sh for no measurable speed. */
        mallopt(M_ARENA_MAX, 2);
        memset(&app, 0, sizeof(app));
        if (cdc_cconf_init(&app.cc, es, sizeof(es))) {
                fprintf(stderr, "followcdc-consumer: %s\n", es);
                return 2;
        }
        av = cdc_cconf_argv_dup(argc, argv);
        if (!av) {
                fprintf(stderr, "followcdc-consumer: out of memory\n");
                goto out;
        }
        switch (cdc_conf_cli(app.cc.cc_conf, argc, av, environ, usage_extra,
                             cdc_cconf_finalize)) {
        case CDC_CONF_CLI_RUN:
                break;
        case CDC_CONF_CLI_EXIT_OK:
                ret = 0;
                goto out;
        default:
                ret = 2;
                goto out;
        }

        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = app_sig_term;
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        signal(SIGPIPE, SIG_IGN);

        app.cap     = (size_t)app.cc.batch_size;
        app.batch   = calloc(app.cap, sizeof(*app.batch));
        app.carry   = calloc(app.cap, sizeof(*app.carry));
        app.letters = calloc(app.cap, sizeof(*app.letters));
        app.reasons = calloc(app.cap, sizeof(*app.reasons));
        app.evs     = calloc(app.cap, sizeof(*app.evs));
        app.perr    = calloc(app.cap, sizeof(*app.perr));
        app.pwhy    = calloc(app.cap, sizeof(*app.pwhy));
        app.m       = cdc_metrics_new();
        app.bo      = cdc_backoff_new(100, 5000);
        if (!app.batch || !app.carry || !app.letters || !app.reasons ||
            !app.evs || !app.perr || !app.pwhy || !app.m || !app.bo) {
                cdc_log(LOG_CRIT, "CONSUMER", "out of memory");
                goto out;
        }
        app_metrics_init(&app);
        pthread_mutex_init(&app.plk, NULL);
        pthread_cond_init(&app.pcnd, NULL);
        if (!pthread_create(&app.pt, NULL, app_parse_main, &app))
                app.pt_started = 1;

        cdc_cconf_apply_conf(&app.cc, &ac);
        ac.metrics = app.m;
        app.ap     = cdc_apply_new(&ac, es, sizeof(es));
        if (!app.ap) {
                cdc_log(LOG_ERR, "CONSUMER", "apply: %s", es);
                ret = 2;
                goto out;
        }

        kconf = app_kafka_conf(&app, es, sizeof(es));
        if (!kconf) {
                cdc_log(LOG_ERR, "CONSUMER", "%s", es);
                ret = 2;
                goto out;
        }
        app.dq = cdc_dlq_new(kconf, app.cc.cc_dlq, es, sizeof(es));
        if (!app.dq) {
                cdc_log(LOG_ERR, "CONSUMER", "%s", es);
                ret = 2;
                goto out;
        }
        kconf = app_kafka_conf(&app, es, sizeof(es));
        if (!kconf) {
                cdc_log(LOG_ERR, "CONSUMER", "%s", es);
                goto out;
        }
        app.kc = cdc_kcons_new(kconf, &app.cc, app_revoke_cb, &app, es,
                               sizeof(es));
        kconf  = NULL;
        if (!app.kc) {
                cdc_log(LOG_ERR, "CONSUMER", "%s", es);
                ret = 2;
                goto out;
        }

        if (app.cc.http_listen && *app.cc.http_listen) {
                app.http =
                        cdc_http_new(app.cc.http_listen, app.cc.cc_conf, app.m,
                                     app_ready_cb, &app, es, sizeof(es));
                if (!app.http) {
                        cdc_log(LOG_ERR, "CONSUMER", "http.listen %s: %s",
                                app.cc.http_listen, es);
                        ret = 2;
                        goto out;
                }
                cdc_log(LOG_NOTICE, "CONSUMER", "serving /metrics on port %d",
                        cdc_http_port(app.http));
        }

        if (app.cc.reaper_enable) {
                app.rp = cdc_reaper_new(&app.cc, app.m, es, sizeof(es));
                if (!app.rp || cdc_reaper_start(app.rp)) {
                        cdc_log(LOG_ERR, "CONSUMER", "reaper: %s",
                                app.rp ? "cannot start thread" : es);
                        goto out;
                }
        }

        cdc_log(LOG_NOTICE, "CONSUMER",
                "followcdc-consumer %s started: group %s, dlq %s, batch "
                "%" PRId64 "/%" PRId64 "ms",
                CDC_VERSION, app.cc.cc_group_id, app.cc.cc_dlq,
                app.cc.batch_size, app.cc.batch_ms);
        /* Connect early so /readyz turns green; failures retry in the loop */
        app_redis_once(&app);

        while (run && !cdc_kcons_fatal(app.kc)) {
                cdc_http_alive(app.http); /* liveness (/healthz) */
                app_gather(&app);
                app_batch_run(&app, 0);
                if (!app.n && !app.ncarry)
                        app_metrics_sync(&app);
        }

        /* SIGTERM: finish the batch (bounded by shutdown.timeout.ms),
         * commit what is acknowledged, leave the group. */
        cdc_log(LOG_NOTICE, "CONSUMER", "shutting down");
        app_batch_run(&app, 0);
        app_batch_drop(&app);
        if (app.ncarry) {
                size_t i;
                for (i = 0; i < app.ncarry; i++)
                        rd_kafka_message_destroy(app.carry[i]);
                app.ncarry = 0;
        }
        cdc_kcons_close(app.kc);
        ret = app.redis_fatal ? 2 : cdc_kcons_fatal(app.kc) ? 1 : 0;
        cdc_log(LOG_NOTICE, "CONSUMER", "stopped (exit %d)", ret);
out:
        if (app.pt_started) {
                pthread_mutex_lock(&app.plk);
                app.pstop = 1;
                pthread_cond_broadcast(&app.pcnd);
                pthread_mutex_unlock(&app.plk);
                pthread_join(app.pt, NULL);
        }
        cdc_reaper_destroy(app.rp);
        cdc_http_destroy(app.http);
        if (app.kc) {
                cdc_kcons_close(app.kc);
                cdc_kcons_destroy(app.kc);
        }
        cdc_dlq_destroy(app.dq, 5000);
        cdc_apply_destroy(app.ap);
        if (kconf)
                rd_kafka_conf_destroy(kconf);
        app_batch_free(&app);
        cdc_backoff_destroy(app.bo);
        cdc_metrics_destroy(app.m);
        free(app.batch);
        free(app.carry);
        free(app.letters);
        free(app.reasons);
        free(app.evs);
        free(app.perr);
        free(app.pwhy);
        cdc_cconf_argv_free(av);
        cdc_cconf_destroy(&app.cc);
        return ret;
}
