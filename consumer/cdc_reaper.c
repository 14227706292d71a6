/**
 * @file cdc_reaper.c
 * @brief TTL reaper of the idempotency log (see cdc_reaper.h).
 */
#include "cdc_reaper.h"

#include <inttypes.h>
#include <mysql.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cdc_backoff.h"
#include "cdc_lock.h"
#include "cdc_log.h"
#include "cdc_mysql.h"
#include "cdc_retry.h"

typedef enum {
        REAPER_STATE_DOWN,    /* no connection */
        REAPER_STATE_STANDBY, /* connected, another instance holds the lock */
        REAPER_STATE_LEADER,  /* connected, holding the lock: reaping */
} reaper_state_t;

/* One reaper: one MySQL server (a shard), one thread, two connections
 * (the DELETEs and the lock), its own lock. */
typedef struct reaper_shard_s {
        /* configuration (copies) */
        cdc_mysql_target_t rp_tgt; /* the server, for both connections */
        char *rp_table, *rp_col_status, *rp_col_created, *rp_tz;
        int rp_statuses[CDC_CCONF_MAX_STATUSES];
        int rp_status_cnt;
        int64_t rp_batch, rp_pause_ms, rp_interval_ms, rp_ttl_ms;

        MYSQL *rp_my;      /* the DELETEs */
        cdc_lock_t *rp_lk; /* leadership, on a connection of its own */
        reaper_state_t rp_state;
        cdc_backoff_t *rp_bo;
        cdc_retry_t rp_retry; /* reports the connect failures */
        char rp_where[160];   /* host:port or socket, for logs */
        char rp_lock[160];    /* lock name */
        char rp_tz_esc[160];

        pthread_t rp_thread;
        int rp_started;
        pthread_mutex_t rp_mtx;
        pthread_cond_t rp_cnd;
        int rp_stop; /* under rp_mtx */

        volatile uint64_t rp_deleted;
        volatile int rp_is_leader;
        cdc_metric_t *rp_m_deleted, *rp_m_leader, *rp_m_errors;
} reaper_shard_t;

/* The reapers of this instance: one, or one per shard
 * (reaper.mysql.shards). */
struct cdc_reaper_s {
        reaper_shard_t *rp_shards[CDC_CCONF_MAX_SOURCES];
        int rp_cnt;
};

/* ---- pure helpers (unit tested) ---- */

int cdc_reaper_cutoff(int64_t now_ms, int64_t ttl_ms, char *buf, size_t size) {
        int64_t ms = now_ms - ttl_ms;
        time_t t;
        struct tm tm;
        int n;

        if (ms < 0)
                ms = 0;
        t = (time_t)(ms / 1000);
        if (!gmtime_r(&t, &tm))
                return -1;
        n = snprintf(buf, size, "%04d-%02d-%02d %02d:%02d:%02d.%03d",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec, (int)(ms % 1000));
        return n < 0 || (size_t)n >= size ? -1 : n;
}

const char *cdc_reaper_tz(const char *tz) {
        if (!tz || !*tz || !strcmp(tz, "UTC") || !strcmp(tz, "Z") ||
            !strcmp(tz, "utc"))
                return "+00:00";
        return tz;
}

int cdc_reaper_sql(char *buf, size_t size, const char *table,
                   const char *col_status, const char *col_created, int status,
                   const char *cutoff, const char *tz_escaped, int64_t limit) {
        int n = snprintf(buf, size,
                         "DELETE FROM `%s` WHERE `%s` = %d AND `%s` < "
                         "CONVERT_TZ('%s', '+00:00', '%s') ORDER BY `%s` "
                         "LIMIT %" PRId64,
                         table, col_status, status, col_created, cutoff,
                         tz_escaped, col_created, limit);
        return n < 0 || (size_t)n >= size ? -1 : n;
}

/* ---- thread ---- */

/* Wait \p ms or until stopped. @returns 1 if stopped. */
static int reaper_wait(reaper_shard_t *rp, int64_t ms) {
        struct timespec ts;
        int stop;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += (time_t)(ms / 1000);
        ts.tv_nsec += (long)(ms % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&rp->rp_mtx);
        while (!rp->rp_stop &&
               pthread_cond_timedwait(&rp->rp_cnd, &rp->rp_mtx, &ts) == 0)
                ;
        stop = rp->rp_stop;
        pthread_mutex_unlock(&rp->rp_mtx);
        return stop;
}

static void reaper_set_leader(reaper_shard_t *rp, int leader) {
        rp->rp_is_leader = leader;
        cdc_metric_set(rp->rp_m_leader, leader);
}

/* Close both connections (releasing the lock). \p why: a failure, logged
 * as the first of a streak or at debug level (cdc_retry). */
static void reaper_disconnect(reaper_shard_t *rp, const char *why) {
        if (why) {
                cdc_metric_add(rp->rp_m_errors, 1);
                cdc_retry_fail(&rp->rp_retry, cdc_now_us(), -1, "%s", why);
        }
        if (rp->rp_my) {
                mysql_close(rp->rp_my);
                rp->rp_my = NULL;
        }
        cdc_lock_release(rp->rp_lk);
        if (rp->rp_state == REAPER_STATE_LEADER)
                cdc_log(LOG_NOTICE, "REAPER", "lock %s released", rp->rp_lock);
        rp->rp_state = REAPER_STATE_DOWN;
        reaper_set_leader(rp, 0);
}

/* Run a query returning one integer cell. @returns 0 and *vp (-1: NULL) */
static int reaper_query_int(reaper_shard_t *rp, const char *sql, int64_t *vp) {
        MYSQL_RES *res;
        MYSQL_ROW row;
        int ret = -1;

        if (mysql_real_query(rp->rp_my, sql, strlen(sql)))
                return -1;
        res = mysql_store_result(rp->rp_my);
        if (!res)
                return -1;
        row = mysql_fetch_row(res);
        if (row) {
                char *end = NULL;
                *vp       = row[0] ? strtoll(row[0], &end, 10) : -1;
                ret       = 0;
        }
        mysql_free_result(res);
        return ret;
}

static int reaper_connect(reaper_shard_t *rp) {
        /* No automatic reconnect (cdc_mysql_connect): a silent one would
         * run DELETEs outside what the lock protects. */
        cdc_mysql_opts_t o = { .connect_timeout_s = 5, .rw_timeout_s = 60 };
        char sql[512], why[512];
        int64_t v = 0;

        if (cdc_mysql_connect(&rp->rp_tgt, &o, "connect", &rp->rp_my, NULL, why,
                              sizeof(why))) {
                reaper_disconnect(rp, why);
                return -1;
        }
        mysql_real_escape_string(
                rp->rp_my, rp->rp_tz_esc, cdc_reaper_tz(rp->rp_tz),
                (unsigned long)strnlen(cdc_reaper_tz(rp->rp_tz), 64));
        /* An unknown zone makes CONVERT_TZ NULL and every DELETE a no-op:
         * refuse loudly instead. */
        snprintf(sql, sizeof(sql),
                 "SELECT CONVERT_TZ('2000-01-01 00:00:00', '+00:00', '%s') "
                 "IS NOT NULL",
                 rp->rp_tz_esc);
        if (reaper_query_int(rp, sql, &v)) {
                cdc_mysql_err(rp->rp_my, "time zone check", why, sizeof(why));
                reaper_disconnect(rp, why);
                return -1;
        }
        if (v != 1) {
                cdc_log(LOG_ERR, "REAPER",
                        "source.tz \"%s\" is unknown to the MySQL server "
                        "(load its time zone tables or use +HH:MM); not "
                        "reaping",
                        rp->rp_tz);
                cdc_metric_add(rp->rp_m_errors, 1);
                reaper_disconnect(rp, NULL);
                return -1;
        }
        if (!cdc_retry_ok(&rp->rp_retry, cdc_now_us()))
                cdc_log(LOG_NOTICE, "REAPER", "connected to MySQL %s db %s",
                        rp->rp_where, rp->rp_tgt.db);
        rp->rp_state = REAPER_STATE_STANDBY;
        return 0;
}

static void reaper_try_lock(reaper_shard_t *rp) {
        uint64_t holder = 0;
        cdc_err_t err   = cdc_lock_acquire(rp->rp_lk, &holder);

        if (err == CDC_ERR_NO_ERROR) {
                cdc_log(LOG_NOTICE, "REAPER",
                        "holding lock %s: this instance reaps", rp->rp_lock);
                rp->rp_state = REAPER_STATE_LEADER;
                reaper_set_leader(rp, 1);
        } else if (err == CDC_ERR__STATE) {
                cdc_dbg(REAPER, "REAPER", "%s: standby",
                        cdc_lock_errstr(rp->rp_lk));
        } else {
                reaper_disconnect(rp, cdc_lock_errstr(rp->rp_lk));
        }
}

/* The leader checks its lock before each round: if its lock connection
 * was lost another instance may reap already. */
static int reaper_still_leader(reaper_shard_t *rp) {
        cdc_err_t err = cdc_lock_check(rp->rp_lk);
        if (err == CDC_ERR_NO_ERROR)
                return 1;
        cdc_log(LOG_WARNING, "REAPER", "lock %s lost: %s", rp->rp_lock,
                cdc_lock_errstr(rp->rp_lk));
        rp->rp_state = REAPER_STATE_STANDBY;
        reaper_set_leader(rp, 0);
        return 0;
}

/* One round over every status. @returns 1 if stopped. */
static int reaper_round(reaper_shard_t *rp) {
        char cutoff[40], sql[1024];
        int i;

        if (cdc_reaper_cutoff(cdc_wallclock_ms(), rp->rp_ttl_ms, cutoff,
                              sizeof(cutoff)) < 0)
                return 0;
        for (i = 0; i < rp->rp_status_cnt; i++) {
                uint64_t total = 0;
                for (;;) {
                        my_ulonglong n;
                        if (cdc_reaper_sql(sql, sizeof(sql), rp->rp_table,
                                           rp->rp_col_status,
                                           rp->rp_col_created,
                                           rp->rp_statuses[i], cutoff,
                                           rp->rp_tz_esc, rp->rp_batch) < 0)
                                return 0;
                        if (mysql_real_query(rp->rp_my, sql, strlen(sql))) {
                                char why[512], what[64];
                                snprintf(what, sizeof(what), "delete status %d",
                                         rp->rp_statuses[i]);
                                cdc_mysql_err(rp->rp_my, what, why,
                                              sizeof(why));
                                reaper_disconnect(rp, why);
                                return 0;
                        }
                        n = mysql_affected_rows(rp->rp_my);
                        if (n == (my_ulonglong)-1)
                                n = 0;
                        total += n;
                        __atomic_add_fetch(&rp->rp_deleted, n,
                                           __ATOMIC_RELAXED);
                        cdc_metric_add(rp->rp_m_deleted, (int64_t)n);
                        if ((int64_t)n < rp->rp_batch)
                                break;
                        /* Small batches with pauses keep the primary's
                         * load and replication lag flat. */
                        if (reaper_wait(rp, rp->rp_pause_ms))
                                return 1;
                }
                if (total)
                        cdc_log(LOG_NOTICE, "REAPER",
                                "reaped %" PRIu64 " row(s) of %s with "
                                "status %d created before %s UTC",
                                total, rp->rp_table, rp->rp_statuses[i],
                                cutoff);
        }
        return 0;
}

static void *reaper_main(void *arg) {
        reaper_shard_t *rp = arg;
        int stop           = 0;

        mysql_thread_init();
        while (!stop) {
                int64_t wait_ms = rp->rp_interval_ms;
                switch (rp->rp_state) {
                case REAPER_STATE_DOWN:
                        if (reaper_connect(rp)) {
                                wait_ms = cdc_backoff_next_ms(rp->rp_bo,
                                                              cdc_now_us());
                                break;
                        }
                        cdc_backoff_reset(rp->rp_bo);
                        /* fall through: try the lock at once */
                        /* FALLTHRU */
                case REAPER_STATE_STANDBY:
                        reaper_try_lock(rp);
                        if (rp->rp_state == REAPER_STATE_DOWN)
                                wait_ms = cdc_backoff_next_ms(rp->rp_bo,
                                                              cdc_now_us());
                        if (rp->rp_state != REAPER_STATE_LEADER)
                                break;
                        /* FALLTHRU */
                case REAPER_STATE_LEADER:
                        if (!reaper_still_leader(rp))
                                break;
                        stop = reaper_round(rp);
                        if (rp->rp_state == REAPER_STATE_DOWN)
                                wait_ms = cdc_backoff_next_ms(rp->rp_bo,
                                                              cdc_now_us());
                        break;
                }
                if (!stop)
                        stop = reaper_wait(rp, wait_ms);
        }
        reaper_disconnect(rp, NULL);
        mysql_thread_end();
        return NULL;
}

/* ---- public ---- */

static char *reaper_dup(const char *s) {
        return s ? strdup(s) : NULL;
}

static void reaper_shard_destroy(reaper_shard_t *rp) {
        if (!rp)
                return;
        if (rp->rp_started) {
                pthread_mutex_lock(&rp->rp_mtx);
                rp->rp_stop = 1;
                pthread_cond_broadcast(&rp->rp_cnd);
                pthread_mutex_unlock(&rp->rp_mtx);
                pthread_join(rp->rp_thread, NULL);
        }
        if (rp->rp_my)
                mysql_close(rp->rp_my);
        cdc_lock_destroy(rp->rp_lk);
        cdc_backoff_destroy(rp->rp_bo);
        cdc_mysql_target_clear(&rp->rp_tgt);
        free(rp->rp_table);
        free(rp->rp_col_status);
        free(rp->rp_col_created);
        free(rp->rp_tz);
        pthread_cond_destroy(&rp->rp_cnd);
        pthread_mutex_destroy(&rp->rp_mtx);
        free(rp);
}

/* One reaper for \p shard ("host:port" or "/socket"; NULL: the
 * reaper.mysql.host/port/socket settings). \p label: the metrics' labels
 * (NULL for none). */
static reaper_shard_t *reaper_shard_new(const cdc_cconf_t *cc,
                                        const char *shard, cdc_metrics_t *m,
                                        const char *label) {
        reaper_shard_t *rp = calloc(1, sizeof(*rp));
        const char *db, *host, *socket;
        unsigned int port;
        pthread_condattr_t ca;
        cdc_lock_opts_t lo;
        char what[200], shost[256];
        int sport = 0;

        if (!rp)
                return NULL;
        pthread_mutex_init(&rp->rp_mtx, NULL);
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&rp->rp_cnd, &ca);
        pthread_condattr_destroy(&ca);

        /* where to connect: filled once, used by both connections */
        if (shard) {
                /* checked by cdc_cconf_finalize() */
                if (cdc_cconf_parse_shard(shard, shost, sizeof(shost), &sport))
                        goto fail;
                host   = sport ? shost : "localhost";
                socket = sport ? NULL : shost;
                port   = (unsigned int)sport;
        } else {
                host   = cc->reaper_host;
                socket = cc->reaper_socket;
                port   = (unsigned int)cc->reaper_port;
        }
        db = cc->reaper_db && *cc->reaper_db ? cc->reaper_db : cc->source_db;
        if (!db ||
            cdc_mysql_target_set(&rp->rp_tgt, host, port, socket,
                                 cc->reaper_user, cc->reaper_password, db) ||
            cdc_mysql_target_set_ssl(&rp->rp_tgt, cc->reaper_ssl_mode,
                                     cc->reaper_ssl_ca, cc->reaper_ssl_cert,
                                     cc->reaper_ssl_key))
                goto fail;
        cdc_mysql_target_where(&rp->rp_tgt, rp->rp_where, sizeof(rp->rp_where));
        snprintf(rp->rp_lock, sizeof(rp->rp_lock), "followcdc:reaper:%s", db);
        memset(&lo, 0, sizeof(lo));
        lo.target     = &rp->rp_tgt;
        lo.name       = rp->rp_lock;
        lo.timeout_ms = 5000;
        rp->rp_lk     = cdc_lock_new(&lo);
        snprintf(what, sizeof(what), "MySQL %s", rp->rp_where);
        cdc_retry_init(&rp->rp_retry, "REAPER", CDC_DBG_REAPER, what,
                       10 * 60 * 1000);

        rp->rp_table       = reaper_dup(cc->idem_table);
        rp->rp_col_status  = reaper_dup(cc->idem_col_status);
        rp->rp_col_created = reaper_dup(cc->idem_col_created);
        rp->rp_tz          = reaper_dup(cc->source_tz ? cc->source_tz : "UTC");
        rp->rp_bo          = cdc_backoff_new(500, 30000);
        if (!rp->rp_lk || !rp->rp_tgt.user || !rp->rp_table ||
            !rp->rp_col_status || !rp->rp_col_created || !rp->rp_tz ||
            !rp->rp_bo)
                goto fail;
        memcpy(rp->rp_statuses, cc->cc_statuses, sizeof(rp->rp_statuses));
        rp->rp_status_cnt  = cc->cc_status_cnt;
        rp->rp_batch       = cc->reaper_batch;
        rp->rp_pause_ms    = cc->reaper_pause_ms;
        rp->rp_interval_ms = cc->reaper_interval_ms;
        rp->rp_ttl_ms      = cc->idem_ttl_ms;

        rp->rp_m_deleted = cdc_metrics_counter(
                m, "followcdc_reaper_deleted_rows_total",
                "Expired idempotency rows deleted by this instance", label);
        rp->rp_m_leader = cdc_metrics_gauge(
                m, "followcdc_reaper_leader",
                "1 while this instance holds the reaper lock", label);
        rp->rp_m_errors =
                cdc_metrics_counter(m, "followcdc_reaper_errors_total",
                                    "Reaper MySQL errors", label);
        return rp;
fail:
        reaper_shard_destroy(rp);
        return NULL;
}

cdc_reaper_t *cdc_reaper_new(const cdc_cconf_t *cc, cdc_metrics_t *m,
                             char *errstr, size_t errstr_size) {
        cdc_reaper_t *rps = calloc(1, sizeof(*rps));
        int i;

        if (!rps)
                goto nomem;
        if (cc->cc_reaper_shard_cnt == 0) {
                rps->rp_shards[0] = reaper_shard_new(cc, NULL, m, NULL);
                if (!rps->rp_shards[0])
                        goto nomem;
                rps->rp_cnt = 1;
        }
        /* Sharded sources: each shard's idempotency rows live (and
         * expire) on that shard only, so each gets its own reaper, with
         * the lock taken on that shard's server: one leader per shard
         * across all instances. */
        for (i = 0; i < cc->cc_reaper_shard_cnt; i++) {
                char label[300];

                snprintf(label, sizeof(label), "shard=\"%s\"",
                         cc->cc_reaper_shards[i]);
                rps->rp_shards[i] =
                        reaper_shard_new(cc, cc->cc_reaper_shards[i], m, label);
                if (!rps->rp_shards[i])
                        goto nomem;
                rps->rp_cnt = i + 1;
        }
        /* Not thread-safe: run it here, on the main thread. */
        mysql_library_init(0, NULL, NULL);
        return rps;
nomem:
        snprintf(errstr, errstr_size, "out of memory");
        cdc_reaper_destroy(rps);
        return NULL;
}

cdc_err_t cdc_reaper_start(cdc_reaper_t *rps) {
        int i;

        for (i = 0; i < rps->rp_cnt; i++) {
                reaper_shard_t *rp = rps->rp_shards[i];

                if (pthread_create(&rp->rp_thread, NULL, reaper_main, rp))
                        return CDC_ERR__NOMEM;
                rp->rp_started = 1;
        }
        return CDC_ERR_NO_ERROR;
}

void cdc_reaper_destroy(cdc_reaper_t *rps) {
        int i;

        if (!rps)
                return;
        for (i = 0; i < rps->rp_cnt; i++)
                reaper_shard_destroy(rps->rp_shards[i]);
        free(rps);
}

uint64_t cdc_reaper_deleted(const cdc_reaper_t *rps) {
        uint64_t n = 0;
        int i;

        for (i = 0; i < rps->rp_cnt; i++)
                n += __atomic_load_n(&rps->rp_shards[i]->rp_deleted,
                                     __ATOMIC_RELAXED);
        return n;
}

int cdc_reaper_leader(const cdc_reaper_t *rps) {
        int i, n = 0;

        for (i = 0; i < rps->rp_cnt; i++)
                n += rps->rp_shards[i]->rp_is_leader;
        return n;
}
