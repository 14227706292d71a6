/**
 * @file main.c
 * @brief followcdc-producer: MySQL/MariaDB binlog -> Kafka change events.
 *
 * One thread owns every connection (cf. bottledwater's main loop): read an
 * item from the binlog, produce it, serve delivery reports, and every
 * checkpoint.interval.ms save the position every earlier change of which
 * Kafka has acknowledged (cdc_inflight). States:
 *
 *   STANDBY  -> waiting for the source lock (another producer is active)
 *   SNAPSHOT -> consistent read of the tables (no position yet)
 *   STREAM   -> following the binlog
 *   BACKOFF  -> the source or Kafka went away: retry with cdc_backoff
 *
 * Exit codes: 0 stopped (SIGTERM/SIGINT), 1 fatal runtime error (a Kafka
 * delivery that failed for good, an undecodable event), 2 configuration
 * or server settings, 3 the binlog position is purged (re-snapshot).
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cdc_backoff.h"
#include "cdc_binlog.h"
#include "cdc_ckpt.h"
#include "cdc_conf.h"
#include "cdc_event.h"
#include "cdc_inflight.h"
#include "cdc_kprod.h"
#include "cdc_lock.h"
#include "cdc_log.h"
#include "cdc_metrics.h"
#include "cdc_pconf.h"
#include "cdc_pos.h"
#include "cdc_snapshot.h"

#define EXIT_FATAL  1
#define EXIT_CONFIG 2
#define EXIT_PURGED 3

static volatile sig_atomic_t run = 1;

static void app_sigterm(int sig) {
        (void)sig;
        run = 0;
}

/** What a session of the main loop ended with. */
typedef enum {
        APP_R_OK = 0,   /**< go on */
        APP_R_STOP,     /**< run dropped, or the bench end was reached */
        APP_R_RETRY,    /**< transient: back off and start a new session */
        APP_R_LOCKLOST, /**< lock lost: flush, back to standby */
        APP_R_FATAL,    /**< exit with app->exit_code */
} app_result_t;

typedef enum {
        APP_ST_STANDBY  = 0,
        APP_ST_SNAPSHOT = 1,
        APP_ST_STREAM   = 2,
        APP_ST_BACKOFF  = 3,
} app_state_t;

static const char *const app_ops[] = { "c", "u", "d", "r" };

typedef struct cdc_app_s {
        cdc_pconf_t pc;
        cdc_conf_t *conf;
        cdc_kprod_t *kp;
        cdc_ckpt_t *ck;
        cdc_inflight_t *fl;
        cdc_binlog_t *bl;
        cdc_lock_t *lk;
        cdc_backoff_t *bo;
        cdc_metrics_t *m;
        cdc_http_t *http;
        cdc_mysql_target_t mysql; /* the source server, for every connection */

        char topics[CDC_PCONF_TABLES_MAX][256];
        int have_pos;       /* read_pos is a valid resume point */
        cdc_pos_t read_pos; /* after the last COMMIT read */
        int in_txn;         /* rows of an uncommitted transaction seen */
        int snapshot_done;  /* a requested snapshot happened */
        /* A snapshot taken while a resume position existed (--snapshot,
         * snapshot.mode=always) sees only rows that still exist: rows
         * hard-deleted since that position have nothing to read. So the
         * stream restarts at the old position and publishes the gap too;
         * its older versions are no-ops for consumers, its deletes are
         * not. snap_pos is the fallback if the old position is purged. */
        int gap_replay;
        cdc_pos_t snap_pos;
        int lock_held;
        char saved_text[CDC_POS_GTID_MAX + 512];
        uint64_t saved_gen;
        int64_t last_save_us;
        int64_t last_lock_us;
        int64_t ckpt_moved_ms;
        uint64_t ckpt_gen_seen;
        cdc_pos_t end_pos; /* bench.stop.at.end */
        int have_end;
        int exit_code;
        volatile sig_atomic_t state;
        volatile sig_atomic_t ready;

        /* bench figures */
        uint64_t rows;
        int64_t first_row_us, last_row_us, last_commit_us, idle_us;

        struct {
                cdc_metric_t *rows[CDC_PCONF_TABLES_MAX][4];
                cdc_metric_t *produced, *acked, *tombstones, *dr_errors;
                cdc_metric_t *lag_s, *ckpt_age_s, *queue, *inflight;
                cdc_metric_t *state, *snapshot_rows, *reconnects;
                cdc_metric_t *ckpt_writes;
        } mt;
} cdc_app_t;

/* ---- helpers ---- */

/* Sleep \p ms in short steps, serving Kafka delivery reports. */
static void app_sleep(cdc_app_t *app, int ms) {
        int64_t end = cdc_now_us() + (int64_t)ms * 1000;
        while (run && cdc_now_us() < end) {
                if (app->kp)
                        cdc_kprod_poll(app->kp, 100);
                else
                        usleep(100 * 1000);
        }
}

static void app_set_state(cdc_app_t *app, app_state_t st) {
        app->state = st;
        app->ready = st == APP_ST_STREAM;
        cdc_metric_set(app->mt.state, st);
}

static int app_ready_cb(void *opaque, char *why, size_t why_size) {
        cdc_app_t *app                   = opaque;
        static const char *const names[] = { "standby", "snapshot", "streaming",
                                             "reconnecting" };
        if (app->ready)
                return 1;
        snprintf(why, why_size, "%s",
                 app->state >= 0 && app->state <= 3 ? names[app->state]
                                                    : "starting");
        return 0;
}

static int app_table_idx(const cdc_app_t *app, const char *table) {
        size_t i;
        for (i = 0; i < app->pc.table_cnt; i++)
                if (!strcmp(app->pc.tables[i].name, table))
                        return (int)i;
        return -1;
}

static int app_op_idx(cdc_op_t op) {
        switch (op) {
        case CDC_OP_CREATE:
                return 0;
        case CDC_OP_UPDATE:
                return 1;
        case CDC_OP_DELETE:
                return 2;
        default:
                return 3;
        }
}

/* Compare binlog file:pos (names of one server sort by number). */
static int app_pos_reached(const cdc_pos_t *p, const cdc_pos_t *end) {
        size_t lp = strlen(p->file), le = strlen(end->file);
        int c;
        if (lp != le)
                return lp > le;
        c = strcmp(p->file, end->file);
        if (c)
                return c > 0;
        return p->pos >= end->pos;
}

static int64_t app_peak_rss_kb(void) {
        char line[256];
        int64_t kb = -1;
        FILE *fp   = fopen("/proc/self/status", "r");
        if (!fp)
                return -1;
        while (fgets(line, sizeof(line), fp)) {
                if (!strncmp(line, "VmHWM:", 6)) {
                        kb = strtoll(line + 6, NULL, 10);
                        break;
                }
        }
        fclose(fp);
        return kb;
}

/* ---- delivery reports ---- */

static void app_dr_cb(void *opaque, uint64_t seq, cdc_err_t err,
                      const char *reason) {
        cdc_app_t *app = opaque;
        if (err) {
                /* log the first one: the rest are the same story */
                if (cdc_metric_get(app->mt.dr_errors) == 0)
                        cdc_log(LOG_ERR, "KPROD",
                                "delivery failed for good: %s",
                                reason ? reason : cdc_err2str(err));
                cdc_metric_add(app->mt.dr_errors, 1);
                return; /* cdc_kprod_fatal() is set: the loop stops */
        }
        if (seq == CDC_KPROD_SEQ_NONE)
                return; /* a checkpoint record */
        cdc_metric_add(app->mt.acked, 1);
        if (cdc_inflight_ack(app->fl, seq))
                cdc_dbg(KPROD, "KPROD", "ack for unknown group %" PRIu64, seq);
}

/* ---- checkpoint ---- */

/* Save the acknowledged position if it moved (and \p force or the
 * interval passed). */
static void app_checkpoint(cdc_app_t *app, int force) {
        char text[sizeof(app->saved_text)], why[512];
        int64_t now = cdc_now_us();
        cdc_pos_t pos;
        uint64_t gen;

        gen = cdc_inflight_acked(app->fl, &pos);
        if (gen != app->ckpt_gen_seen) {
                app->ckpt_gen_seen = gen;
                app->ckpt_moved_ms = cdc_wallclock_ms();
        }
        if (app->pc.bench_decode_only || !app->ck || gen == 0 ||
            gen == app->saved_gen)
                return;
        if (!force && now - app->last_save_us < app->pc.ckpt_interval_ms * 1000)
                return;
        app->saved_gen = gen;
        if (cdc_pos_format(&pos, text, sizeof(text)) < 0 ||
            !strcmp(text, app->saved_text))
                return;
        if (cdc_ckpt_save(app->ck, &pos, why, sizeof(why))) {
                cdc_log(LOG_WARNING, "CKPT", "checkpoint not saved: %s", why);
                return;
        }
        app->last_save_us = now;
        snprintf(app->saved_text, sizeof(app->saved_text), "%s", text);
        cdc_metric_add(app->mt.ckpt_writes, 1);
        cdc_dbg(CKPT, "CKPT", "saved %s", text);
}

/* Periodic work. @returns non-zero if the session must end. */
static app_result_t app_tick(cdc_app_t *app, int timeout_ms) {
        int64_t now;

        if (app->kp) {
                cdc_kprod_poll(app->kp, timeout_ms);
                if (cdc_kprod_fatal(app->kp)) {
                        cdc_log(LOG_CRIT, "KPROD", "%s: stopping",
                                cdc_kprod_errstr(app->kp));
                        app->exit_code = EXIT_FATAL;
                        return APP_R_FATAL;
                }
                cdc_metric_set(app->mt.queue, cdc_kprod_outq_len(app->kp));
        }
        now = cdc_now_us();
        app_checkpoint(app, 0);
        cdc_metric_set(app->mt.inflight, (int64_t)cdc_inflight_groups(app->fl));
        if (app->ckpt_moved_ms)
                cdc_metric_set(app->mt.ckpt_age_s,
                               (cdc_wallclock_ms() - app->ckpt_moved_ms) /
                                       1000);
        if (app->lk && app->lock_held &&
            now - app->last_lock_us >= app->pc.lock_check_ms * 1000) {
                app->last_lock_us = now;
                if (cdc_lock_check(app->lk)) {
                        /* Another instance may take over now: stop
                         * producing before it starts (split brain). */
                        cdc_log(LOG_WARNING, "LOCK",
                                "source lock lost (%s): stopping",
                                cdc_lock_errstr(app->lk));
                        app->lock_held = 0;
                        return APP_R_LOCKLOST;
                }
        }
        return APP_R_OK;
}

/* ---- produce ---- */

/* Produce one message of the current transaction (value owned; NULL:
 * tombstone), waiting for a free in-flight slot if needed. */
static app_result_t app_produce(cdc_app_t *app, const char *topic,
                                const char *key, size_t klen, char *value,
                                size_t len) {
        uint64_t seq;
        cdc_err_t err;
        app_result_t r;

        if (app->pc.bench_decode_only) {
                free(value);
                return APP_R_OK;
        }
        while (cdc_inflight_add(app->fl, cdc_now_us(), &seq) ==
               CDC_ERR__QUEUE_FULL) {
                /* back-pressure: every slot waits for Kafka */
                r = app_tick(app, 20);
                if (r != APP_R_OK || !run) {
                        free(value);
                        return r != APP_R_OK ? r : APP_R_STOP;
                }
        }
        err = cdc_kprod_produce(app->kp, topic, RD_KAFKA_PARTITION_UA, key,
                                klen, value, len, seq);
        if (err == CDC_ERR__STATE)
                return APP_R_STOP; /* interrupted while the queue was full */
        if (err) {
                cdc_log(LOG_CRIT, "KPROD", "%s: stopping",
                        cdc_kprod_errstr(app->kp));
                app->exit_code = EXIT_FATAL;
                return APP_R_FATAL;
        }
        cdc_metric_add(app->mt.produced, 1);
        if (!value)
                cdc_metric_add(app->mt.tombstones, 1);
        return APP_R_OK;
}

/* Encode and produce one change of table \p ti (and its tombstone). */
static app_result_t app_emit(cdc_app_t *app, int ti, cdc_op_t op,
                             json_t *before, json_t *after,
                             const cdc_source_t *src, const char *key,
                             size_t klen) {
        cdc_event_t ev;
        char *val;
        size_t len = 0;
        app_result_t r;

        memset(&ev, 0, sizeof(ev));
        ev.op     = op;
        ev.before = before;
        ev.after  = after;
        ev.source = *src;
        ev.ts_ms  = cdc_wallclock_ms();
        val       = cdc_event_encode(&ev, &len);
        if (!val) {
                /* json_string() refuses invalid UTF-8 too: name it */
                cdc_log(LOG_CRIT, "PRODUCER",
                        "can't encode the %c event of %s.%s (gtid %s, file "
                        "%s:%" PRIu64 ", row %u): out of memory or invalid "
                        "text",
                        (char)op, src->db, src->table, src->gtid, src->file,
                        src->pos, src->row);
                app->exit_code = EXIT_FATAL;
                return APP_R_FATAL;
        }
        r = app_produce(app, app->topics[ti], key, klen, val, len);
        if (r == APP_R_OK && op == CDC_OP_DELETE)
                r = app_produce(app, app->topics[ti], key, klen, NULL, 0);
        cdc_metric_add(app->mt.rows[ti][app_op_idx(op)], 1);
        return r;
}

static app_result_t app_key_fail(cdc_app_t *app, const char *table,
                                 const char *why) {
        cdc_log(LOG_CRIT, "PRODUCER",
                "table %s: can't build the message key: %s (check "
                "table.%s.key / source.keys)",
                table, why, table);
        app->exit_code = EXIT_CONFIG;
        return APP_R_FATAL;
}

/* One row change of the binlog. */
static app_result_t app_row(cdc_app_t *app, const cdc_binlog_item_t *it) {
        const cdc_ptable_t *t;
        cdc_source_t src = it->source;
        char *key = NULL, *key2 = NULL, why[256];
        size_t klen = 0, klen2 = 0;
        app_result_t r = APP_R_OK;
        int ti;
        json_t *img;

        ti = app_table_idx(app, it->table);
        if (ti < 0)
                return APP_R_OK; /* not ours (decoder filters anyway) */
        t = &app->pc.tables[ti];
        snprintf(src.name, sizeof(src.name), "%s", app->pc.source_name);
        src.epoch    = (uint32_t)app->pc.source_epoch;
        src.snapshot = 0;

        img = it->op == CDC_OP_DELETE ? it->before : it->after;
        key = cdc_key_from_row(img, t->cols, t->col_cnt, &klen, why,
                               sizeof(why));
        if (!key)
                return app_key_fail(app, t->name, why);
        if (it->op == CDC_OP_UPDATE && it->before) {
                key2 = cdc_key_from_row(it->before, t->cols, t->col_cnt, &klen2,
                                        why, sizeof(why));
                if (!key2) {
                        free(key);
                        return app_key_fail(app, t->name, why);
                }
        }
        if (key2 && (klen2 != klen || memcmp(key, key2, klen))) {
                /* The key itself changed: the old key's row is gone and a
                 * new one exists (delete + tombstone, then create), so
                 * each key's partition tells its whole story. */
                r = app_emit(app, ti, CDC_OP_DELETE, it->before, NULL, &src,
                             key2, klen2);
                if (r == APP_R_OK)
                        r = app_emit(app, ti, CDC_OP_CREATE, NULL, it->after,
                                     &src, key, klen);
        } else {
                r = app_emit(app, ti, it->op,
                             it->op == CDC_OP_CREATE ? NULL : it->before,
                             it->op == CDC_OP_DELETE ? NULL : it->after, &src,
                             key, klen);
        }
        free(key);
        free(key2);
        if (r == APP_R_OK) {
                app->rows++;
                if (!app->first_row_us)
                        app->first_row_us = cdc_now_us();
                if (it->source.ts_ms)
                        cdc_metric_set(app->mt.lag_s,
                                       (cdc_wallclock_ms() - it->source.ts_ms) /
                                               1000);
        }
        return r;
}

/* ---- snapshot ---- */

static cdc_err_t app_snap_row(void *opaque, const char *table, json_t *row,
                              const cdc_source_t *src_in) {
        cdc_app_t *app   = opaque;
        cdc_source_t src = *src_in;
        const cdc_ptable_t *t;
        char *key, why[256];
        size_t klen = 0;
        app_result_t r;
        int ti = app_table_idx(app, table);

        if (ti < 0)
                return CDC_ERR_NO_ERROR;
        t = &app->pc.tables[ti];
        snprintf(src.name, sizeof(src.name), "%s", app->pc.source_name);
        src.epoch = (uint32_t)app->pc.source_epoch;
        key       = cdc_key_from_row(row, t->cols, t->col_cnt, &klen, why,
                                     sizeof(why));
        if (!key) {
                app_key_fail(app, table, why);
                return CDC_ERR__CONFIG;
        }
        r = app_emit(app, ti, CDC_OP_READ, NULL, row, &src, key, klen);
        free(key);
        cdc_metric_add(app->mt.snapshot_rows, 1);
        if (r == APP_R_OK && (++app->rows & 1023) == 0)
                r = app_tick(app, 0);
        if (r == APP_R_FATAL)
                return CDC_ERR__FATAL;
        if (r != APP_R_OK)
                return CDC_ERR__STATE;
        if (!run)
                return CDC_ERR__STATE;
        return CDC_ERR_NO_ERROR;
}

static app_result_t app_snapshot(cdc_app_t *app) {
        cdc_snapshot_opts_t so;
        cdc_snapshot_t *sn = NULL;
        cdc_pos_t pos;
        char errstr[512], ptext[CDC_POS_GTID_MAX + 512];
        app_result_t r = APP_R_RETRY;
        cdc_pos_t prev = app->read_pos;
        int had_prev   = app->have_pos;
        cdc_err_t err;

        app_set_state(app, APP_ST_SNAPSHOT);
        /* Nothing of an earlier stream may still count: the checkpoint
         * must not claim the stream position until every snapshot row
         * is acknowledged. */
        if (app->kp)
                cdc_kprod_flush(app->kp, (int)app->pc.flush_timeout_ms);
        cdc_inflight_reset(app->fl);
        app->saved_gen     = 0;
        app->ckpt_gen_seen = 0;
        app->in_txn        = 0;

        memset(&so, 0, sizeof(so));
        so.target     = &app->mysql;
        so.db         = app->pc.mysql_db;
        so.tables     = app->pc.table_names;
        so.table_cnt  = app->pc.table_cnt;
        so.source_tz  = app->pc.source_tz;
        so.chunk_rows = app->pc.snapshot_chunk_rows;
        so.timeout_ms = (int)app->pc.mysql_connect_timeout_ms;
        sn            = cdc_snapshot_new(&so, errstr, sizeof(errstr));
        if (!sn) {
                cdc_log(LOG_CRIT, "SNAPSHOT", "%s", errstr);
                app->exit_code = EXIT_CONFIG;
                r              = APP_R_FATAL;
                goto out;
        }
        err = cdc_snapshot_begin(sn, &pos);
        if (err) {
                cdc_log(LOG_WARNING, "SNAPSHOT", "%s", cdc_snapshot_errstr(sn));
                if (err != CDC_ERR__TRANSPORT) {
                        app->exit_code = EXIT_CONFIG;
                        r              = APP_R_FATAL;
                }
                goto out;
        }
        cdc_pos_format(&pos, ptext, sizeof(ptext));
        cdc_log(LOG_NOTICE, "SNAPSHOT", "consistent snapshot at %s", ptext);
        app->rows = 0;
        err       = cdc_snapshot_run(sn, app_snap_row, app, &run);
        if (err) {
                if (app->exit_code) {
                        r = APP_R_FATAL;
                } else if (!run) {
                        r = APP_R_STOP;
                } else if (app->kp && cdc_kprod_fatal(app->kp)) {
                        app->exit_code = EXIT_FATAL;
                        r              = APP_R_FATAL;
                } else if (!app->lock_held && app->lk) {
                        r = APP_R_LOCKLOST;
                } else {
                        cdc_log(LOG_WARNING, "SNAPSHOT",
                                "%s: the snapshot starts over",
                                cdc_snapshot_errstr(sn));
                }
                goto out;
        }
        app->snap_pos = pos;
        /* Not "streaming from" yet: that line comes once the binlog is
         * open (the old position may be purged, see app_purged). */
        if (had_prev) {
                /* see gap_replay: resume where the stream was */
                pos             = prev;
                app->gap_replay = 1;
                cdc_pos_format(&pos, ptext, sizeof(ptext));
        }
        /* The stream position becomes the checkpoint once every row
         * above is acknowledged. */
        cdc_inflight_commit(app->fl, &pos);
        app->read_pos      = pos;
        app->have_pos      = 1;
        app->snapshot_done = 1;
        cdc_log(LOG_NOTICE, "SNAPSHOT",
                "%" PRIu64 " rows read; the stream starts at %s%s",
                cdc_snapshot_rows(sn), ptext,
                had_prev ? " (the position before the snapshot: changes "
                           "made since, deletes included, follow)"
                         : "");
        r = APP_R_OK;
out:
        cdc_snapshot_destroy(sn);
        return r;
}

/* ---- streaming ---- */

static app_result_t app_purged(cdc_app_t *app) {
        char ptext[CDC_POS_GTID_MAX + 512];
        cdc_pos_format(&app->read_pos, ptext, sizeof(ptext));
        if (app->gap_replay) {
                /* The snapshot is complete; only the gap's deletes are
                 * lost, and nothing can recover them from the server. */
                app->gap_replay = 0;
                app->read_pos   = app->snap_pos;
                cdc_inflight_commit(app->fl, &app->snap_pos);
                cdc_log(LOG_WARNING, "BINLOG",
                        "position %s before the snapshot is no longer on "
                        "the server: streaming from the snapshot position; "
                        "rows hard-deleted before the snapshot stay in "
                        "Redis until a rebuild",
                        ptext);
                return APP_R_OK;
        }
        if (app->pc.snap_mode == CDC_SNAPSHOT_WHEN_NEEDED) {
                cdc_log(LOG_WARNING, "BINLOG",
                        "position %s is no longer on the server (%s): "
                        "taking a new snapshot (snapshot.mode=when_needed)",
                        ptext, cdc_binlog_errstr(app->bl));
                app->have_pos = 0;
                return app_snapshot(app);
        }
        cdc_log(LOG_CRIT, "BINLOG",
                "position %s is no longer on the server (%s). Changes "
                "after it are lost to this producer: take a new snapshot "
                "(run once with --snapshot, or set "
                "snapshot.mode=when_needed)",
                ptext, cdc_binlog_errstr(app->bl));
        app->exit_code = EXIT_PURGED;
        return APP_R_FATAL;
}

static app_result_t app_stream(cdc_app_t *app) {
        const cdc_binlog_item_t *it;
        char ptext[CDC_POS_GTID_MAX + 512];
        app_result_t r;
        cdc_err_t err;
        unsigned n = 0;
        int tries  = 0;

        cdc_pos_format(&app->read_pos, ptext, sizeof(ptext));
        while (1) {
                err = cdc_binlog_open(app->bl, &app->read_pos);
                if (err != CDC_ERR__NOENT || tries++)
                        break;
                r = app_purged(app);
                if (r != APP_R_OK)
                        return r;
                cdc_pos_format(&app->read_pos, ptext, sizeof(ptext));
        }
        if (err) {
                cdc_log(LOG_WARNING, "BINLOG", "open at %s: %s", ptext,
                        cdc_binlog_errstr(app->bl));
                if (err == CDC_ERR__TRANSPORT || err == CDC_ERR__TIMED_OUT)
                        return APP_R_RETRY;
                app->exit_code = EXIT_CONFIG;
                return APP_R_FATAL;
        }
        cdc_log(LOG_NOTICE, "BINLOG", "streaming from %s", ptext);
        app->gap_replay = 0;
        app_set_state(app, APP_ST_STREAM);
        cdc_backoff_reset(app->bo);

        while (run) {
                err = cdc_binlog_next(app->bl, 100, &it);
                if (err == CDC_ERR__TIMED_OUT) {
                        r = app_tick(app, 0);
                        if (r != APP_R_OK)
                                return r;
                        continue;
                }
                if (err == CDC_ERR__NOENT) {
                        cdc_binlog_close(app->bl);
                        return app_purged(app) == APP_R_OK ? APP_R_RETRY
                                                           : APP_R_FATAL;
                }
                if (err == CDC_ERR__BAD_EVENT) {
                        cdc_log(LOG_CRIT, "BINLOG",
                                "undecodable event after %s: %s", ptext,
                                cdc_binlog_errstr(app->bl));
                        app->exit_code = EXIT_FATAL;
                        return APP_R_FATAL;
                }
                if (err) {
                        cdc_log(LOG_WARNING, "BINLOG", "%s: %s",
                                cdc_err2str(err), cdc_binlog_errstr(app->bl));
                        cdc_binlog_close(app->bl);
                        return err == CDC_ERR__SERVER ? APP_R_FATAL
                                                      : APP_R_RETRY;
                }
                switch (it->type) {
                case CDC_BINLOG_ROW:
                        app->in_txn = 1;
                        r           = app_row(app, it);
                        if (r != APP_R_OK)
                                return r;
                        break;
                case CDC_BINLOG_COMMIT:
                        app->in_txn         = 0;
                        app->read_pos       = it->next;
                        app->last_commit_us = cdc_now_us();
                        if (!app->pc.bench_decode_only)
                                cdc_inflight_commit(app->fl, &it->next);
                        if (app->have_end &&
                            app_pos_reached(&it->next, &app->end_pos)) {
                                app->last_row_us = cdc_now_us();
                                cdc_log(LOG_NOTICE, "PRODUCER",
                                        "end of the binlog reached");
                                return APP_R_STOP;
                        }
                        break;
                case CDC_BINLOG_HEARTBEAT:
                        /* between transactions: the position is valid */
                        if (!app->in_txn) {
                                app->read_pos = it->next;
                                if (!app->pc.bench_decode_only)
                                        cdc_inflight_commit(app->fl, &it->next);
                                cdc_metric_set(app->mt.lag_s, 0);
                                if (app->have_end &&
                                    app_pos_reached(&it->next, &app->end_pos)) {
                                        /* idle since the last commit:
                                         * not part of the figures */
                                        app->idle_us = cdc_now_us() -
                                                       app->last_commit_us;
                                        cdc_log(LOG_NOTICE, "PRODUCER",
                                                "end of the binlog reached");
                                        return APP_R_STOP;
                                }
                        }
                        break;
                case CDC_BINLOG_DDL:
                        cdc_log(LOG_NOTICE, "BINLOG", "DDL on %s: %.200s",
                                it->table ? it->table : "?",
                                it->statement ? it->statement : "");
                        break;
                }
                if ((++n & 255) == 0) {
                        r = app_tick(app, 0);
                        if (r != APP_R_OK)
                                return r;
                }
        }
        return APP_R_STOP;
}

/* ---- session ---- */

static app_result_t app_session(cdc_app_t *app) {
        char errstr[512], ptext[CDC_POS_GTID_MAX + 512];
        int need_snap = 0;
        app_result_t r;
        cdc_err_t err;

        err = cdc_binlog_check(app->bl);
        if (err) {
                cdc_log(err == CDC_ERR__TRANSPORT ? LOG_WARNING : LOG_CRIT,
                        "BINLOG", "%s", cdc_binlog_errstr(app->bl));
                if (err == CDC_ERR__TRANSPORT || err == CDC_ERR__TIMED_OUT)
                        return APP_R_RETRY;
                app->exit_code = EXIT_CONFIG;
                return APP_R_FATAL;
        }

        if (!app->have_pos) {
                err = app->ck ? cdc_ckpt_load(app->ck, &app->read_pos, 10000,
                                              errstr, sizeof(errstr))
                              : CDC_ERR__NOENT;
                if (err == CDC_ERR_NO_ERROR) {
                        app->have_pos = 1;
                        cdc_pos_format(&app->read_pos, ptext, sizeof(ptext));
                        snprintf(app->saved_text, sizeof(app->saved_text), "%s",
                                 ptext);
                        cdc_log(LOG_NOTICE, "CKPT", "resuming after %s", ptext);
                } else if (err == CDC_ERR__NOENT) {
                        cdc_log(LOG_NOTICE, "CKPT", "no checkpoint");
                        if (app->pc.snap_mode == CDC_SNAPSHOT_NEVER) {
                                err = cdc_binlog_current_pos(app->bl,
                                                             &app->read_pos);
                                if (err) {
                                        cdc_log(LOG_WARNING, "BINLOG", "%s",
                                                cdc_binlog_errstr(app->bl));
                                        return APP_R_RETRY;
                                }
                                app->have_pos = 1;
                                cdc_pos_format(&app->read_pos, ptext,
                                               sizeof(ptext));
                                cdc_log(LOG_NOTICE, "PRODUCER",
                                        "snapshot.mode=never: starting at "
                                        "the end of the binlog, %s",
                                        ptext);
                        } else {
                                need_snap = 1;
                        }
                } else if (err == CDC_ERR__TRANSPORT ||
                           err == CDC_ERR__TIMED_OUT) {
                        /* never mistake "can't read" for "none" */
                        cdc_log(LOG_WARNING, "CKPT", "%s", errstr);
                        return APP_R_RETRY;
                } else {
                        cdc_log(LOG_CRIT, "CKPT", "%s", errstr);
                        app->exit_code = EXIT_CONFIG;
                        return APP_R_FATAL;
                }
        }
        if (!app->snapshot_done &&
            (app->pc.snapshot_now || app->pc.snap_mode == CDC_SNAPSHOT_ALWAYS))
                need_snap = 1;
        if (need_snap) {
                r = app_snapshot(app);
                if (r != APP_R_OK)
                        return r;
        }
        if (app->pc.bench_stop_at_end && !app->have_end) {
                if (cdc_binlog_current_pos(app->bl, &app->end_pos) == 0) {
                        app->have_end = 1;
                        cdc_pos_format(&app->end_pos, ptext, sizeof(ptext));
                        cdc_log(LOG_NOTICE, "PRODUCER",
                                "will stop at the binlog end %s", ptext);
                }
        }
        return app_stream(app);
}

/* ---- setup ---- */

static int app_metrics(cdc_app_t *app) {
        cdc_metrics_t *m = app->m;
        char labels[256];
        size_t i;
        int k;

        for (i = 0; i < app->pc.table_cnt; i++)
                for (k = 0; k < 4; k++) {
                        snprintf(labels, sizeof(labels),
                                 "table=\"%s\",op=\"%s\"",
                                 app->pc.tables[i].name, app_ops[k]);
                        app->mt.rows[i][k] = cdc_metrics_counter(
                                m, "followcdc_producer_rows_total",
                                "Row changes read, by table and op", labels);
                }
        app->mt.produced = cdc_metrics_counter(
                m, "followcdc_producer_events_produced_total",
                "Messages handed to Kafka (events and tombstones)", NULL);
        app->mt.acked =
                cdc_metrics_counter(m, "followcdc_producer_events_acked_total",
                                    "Messages Kafka acknowledged", NULL);
        app->mt.tombstones =
                cdc_metrics_counter(m, "followcdc_producer_tombstones_total",
                                    "Tombstones produced after deletes", NULL);
        app->mt.dr_errors = cdc_metrics_counter(
                m, "followcdc_producer_delivery_errors_total",
                "Messages Kafka refused for good (the producer stops)", NULL);
        app->mt.lag_s = cdc_metrics_gauge(
                m, "followcdc_producer_lag_seconds",
                "Now minus the commit time of the last change read", NULL);
        app->mt.ckpt_age_s = cdc_metrics_gauge(
                m, "followcdc_producer_checkpoint_age_seconds",
                "Seconds since the acknowledged position last moved", NULL);
        app->mt.queue = cdc_metrics_gauge(
                m, "followcdc_producer_queue_depth",
                "Messages waiting for a Kafka acknowledgement", NULL);
        app->mt.inflight =
                cdc_metrics_gauge(m, "followcdc_producer_inflight_groups",
                                  "Transaction groups waiting for Kafka", NULL);
        app->mt.state = cdc_metrics_gauge(
                m, "followcdc_producer_state",
                "0 standby, 1 snapshot, 2 streaming, 3 reconnecting", NULL);
        app->mt.snapshot_rows =
                cdc_metrics_counter(m, "followcdc_producer_snapshot_rows_total",
                                    "Rows read by snapshots", NULL);
        app->mt.reconnects = cdc_metrics_counter(
                m, "followcdc_producer_reconnects_total",
                "Sessions restarted after a transient failure", NULL);
        app->mt.ckpt_writes = cdc_metrics_counter(
                m, "followcdc_producer_checkpoint_writes_total",
                "Checkpoint records written", NULL);
        return 0;
}

static int app_init(cdc_app_t *app) {
        cdc_binlog_opts_t bo;
        cdc_lock_opts_t lo;
        char errstr[512], lockname[200];
        size_t i;

        for (i = 0; i < app->pc.table_cnt; i++)
                if (cdc_topic_name(app->topics[i], sizeof(app->topics[i]),
                                   app->pc.source_name, app->pc.mysql_db,
                                   app->pc.tables[i].name)) {
                        cdc_log(LOG_CRIT, "PRODUCER",
                                "topic name for %s.%s is not legal",
                                app->pc.mysql_db, app->pc.tables[i].name);
                        return EXIT_CONFIG;
                }

        app->m  = cdc_metrics_new();
        app->fl = cdc_inflight_new((size_t)app->pc.max_inflight_txns, 10000,
                                   20000);
        app->bo = cdc_backoff_new(200, 10000);
        if (!app->m || !app->fl || !app->bo) {
                cdc_log(LOG_CRIT, "PRODUCER", "out of memory");
                return EXIT_FATAL;
        }
        app_metrics(app);

        if (cdc_mysql_target_set(&app->mysql, app->pc.mysql_host,
                                 (unsigned)app->pc.mysql_port,
                                 app->pc.mysql_socket, app->pc.mysql_user,
                                 app->pc.mysql_password, app->pc.mysql_db)) {
                cdc_log(LOG_CRIT, "PRODUCER", "out of memory");
                return EXIT_FATAL;
        }
        memset(&bo, 0, sizeof(bo));
        bo.target             = &app->mysql;
        bo.db                 = app->pc.mysql_db;
        bo.tables             = app->pc.table_names;
        bo.table_cnt          = app->pc.table_cnt;
        bo.server_id          = (uint32_t)app->pc.mysql_server_id;
        bo.source_tz          = app->pc.source_tz;
        bo.heartbeat_ms       = (int)app->pc.mysql_heartbeat_ms;
        bo.connect_timeout_ms = (int)app->pc.mysql_connect_timeout_ms;
        bo.read_timeout_ms    = (int)app->pc.mysql_read_timeout_ms;
        app->bl               = cdc_binlog_new(&bo, errstr, sizeof(errstr));
        if (!app->bl) {
                cdc_log(LOG_CRIT, "BINLOG", "%s", errstr);
                return EXIT_CONFIG;
        }

        if (!app->pc.bench_decode_only) {
                app->kp = cdc_kprod_new(app->conf, app_dr_cb, app, &run, errstr,
                                        sizeof(errstr));
                if (!app->kp) {
                        cdc_log(LOG_CRIT, "KPROD", "%s", errstr);
                        return EXIT_CONFIG;
                }
        }
        if (app->pc.store == CDC_CKPT_STORE_FILE)
                app->ck = cdc_ckpt_new_file(app->pc.ckpt_file,
                                            app->pc.source_name, errstr,
                                            sizeof(errstr));
        else if (app->kp)
                app->ck = cdc_ckpt_new_kafka(
                        app->conf, app->kp, app->pc.ckpt_topic_buf,
                        app->pc.source_name, errstr, sizeof(errstr));
        if (!app->ck && !app->pc.bench_decode_only) {
                cdc_log(LOG_CRIT, "CKPT", "%s", errstr);
                return EXIT_CONFIG;
        }

        if (app->pc.lock_enabled && !app->pc.bench_decode_only) {
                memset(&lo, 0, sizeof(lo));
                snprintf(lockname, sizeof(lockname), "followcdc:%s",
                         app->pc.source_name);
                lo.target     = &app->mysql;
                lo.name       = lockname;
                lo.timeout_ms = 3000;
                app->lk       = cdc_lock_new(&lo);
                if (!app->lk) {
                        cdc_log(LOG_CRIT, "LOCK", "out of memory");
                        return EXIT_FATAL;
                }
        }

        app->http = cdc_http_new(app->pc.http_listen, app->m, app_ready_cb, app,
                                 errstr, sizeof(errstr));
        if (!app->http && *errstr) {
                cdc_log(LOG_CRIT, "HTTP", "%s: %s", app->pc.http_listen,
                        errstr);
                return EXIT_CONFIG;
        }
        if (app->http)
                cdc_log(LOG_NOTICE, "HTTP",
                        "serving /metrics /healthz /readyz on port %d",
                        cdc_http_port(app->http));
        return 0;
}

/* Wait for the source lock. @returns 0 when held, -1 when stopping. */
static int app_standby(cdc_app_t *app) {
        uint64_t holder = 0;
        int logged      = 0;
        cdc_err_t err;

        if (!app->lk) {
                app->lock_held = 1;
                return 0;
        }
        app_set_state(app, APP_ST_STANDBY);
        while (run) {
                err = cdc_lock_acquire(app->lk, &holder);
                if (!err) {
                        app->lock_held    = 1;
                        app->last_lock_us = cdc_now_us();
                        cdc_log(LOG_NOTICE, "LOCK",
                                "source lock taken: active");
                        return 0;
                }
                if (err == CDC_ERR__SERVER) {
                        cdc_log(LOG_WARNING, "LOCK", "%s",
                                cdc_lock_errstr(app->lk));
                } else if (!logged) {
                        cdc_log(LOG_NOTICE, "LOCK", "standby: %s",
                                cdc_lock_errstr(app->lk));
                }
                logged = 1;
                app_sleep(app, (int)app->pc.lock_retry_ms);
        }
        return -1;
}

/* Stop producing: flush Kafka, save what it acknowledged. */
static void app_quiesce(cdc_app_t *app) {
        app->ready = 0;
        cdc_binlog_close(app->bl);
        if (!app->kp)
                return;
        if (cdc_kprod_flush(app->kp, (int)app->pc.flush_timeout_ms))
                cdc_log(LOG_WARNING, "KPROD",
                        "%d messages not acknowledged after %" PRId64
                        "ms: the checkpoint stays before them",
                        cdc_kprod_outq_len(app->kp), app->pc.flush_timeout_ms);
        cdc_kprod_poll(app->kp, 0);
        app_checkpoint(app, 1);
        if (app->pc.store == CDC_CKPT_STORE_KAFKA)
                cdc_kprod_flush(app->kp, (int)app->pc.flush_timeout_ms);
}

/* After a quiesce: the stream restarts from the stored checkpoint, so
 * nothing tracked so far counts any more. */
static void app_forget(cdc_app_t *app) {
        app->lock_held = 0;
        app->have_pos  = 0;
        app->in_txn    = 0;
        cdc_inflight_reset(app->fl);
        app->saved_gen     = 0;
        app->ckpt_gen_seen = 0;
        app->saved_text[0] = '\0';
}

static int app_run(cdc_app_t *app) {
        app_result_t r;
        int64_t t0;

        while (run) {
                if (app->lk && app->lock_held && cdc_lock_check(app->lk)) {
                        cdc_log(LOG_WARNING, "LOCK",
                                "source lock lost (%s): stopping",
                                cdc_lock_errstr(app->lk));
                        app_quiesce(app);
                        app_forget(app);
                }
                if (app_standby(app))
                        break;
                r = app_session(app);
                if (r == APP_R_STOP)
                        break;
                if (r == APP_R_FATAL)
                        break;
                if (r == APP_R_LOCKLOST) {
                        /* Flush and save, then stand by; the next active
                         * producer resumes from the stored checkpoint. */
                        app_quiesce(app);
                        if (app->lk)
                                cdc_lock_release(app->lk);
                        app_forget(app);
                        continue;
                }
                /* transient failure: keep what is in flight, resume from
                 * the last transaction read */
                app_set_state(app, APP_ST_BACKOFF);
                cdc_metric_add(app->mt.reconnects, 1);
                t0 = cdc_backoff_next_ms(app->bo, cdc_now_us());
                cdc_log(LOG_NOTICE, "PRODUCER", "retrying in %dms", (int)t0);
                app_sleep(app, (int)t0);
                if (app->kp && cdc_kprod_fatal(app->kp)) {
                        app->exit_code = EXIT_FATAL;
                        break;
                }
        }
        app_quiesce(app);
        if (app->pc.bench_stop_at_end) {
                int64_t end = cdc_now_us();
                double secs = app->first_row_us
                                      ? (double)(end - app->first_row_us -
                                                 app->idle_us) /
                                                1e6
                                      : 0;
                printf("BENCH rows=%" PRIu64 " seconds=%.3f rows_per_s=%.0f "
                       "peak_rss_kb=%" PRId64 "\n",
                       app->rows, secs,
                       secs > 0 ? (double)app->rows / secs : 0.0,
                       app_peak_rss_kb());
                fflush(stdout);
        }
        return app->exit_code;
}

static void app_destroy(cdc_app_t *app) {
        cdc_http_destroy(app->http);
        cdc_lock_destroy(app->lk);
        cdc_ckpt_destroy(app->ck);
        cdc_kprod_destroy(app->kp);
        cdc_binlog_destroy(app->bl);
        cdc_inflight_destroy(app->fl);
        cdc_backoff_destroy(app->bo);
        cdc_metrics_destroy(app->m);
        cdc_mysql_target_clear(&app->mysql);
        cdc_pconf_clear(&app->pc);
        cdc_conf_destroy(app->conf);
}

static const char usage_extra[] =
        "Streams every committed change of the captured tables of a MySQL 8 /\n"
        "MariaDB 10.5+ primary to Kafka as JSON change events.\n"
        "\n"
        "  --snapshot               take a new consistent snapshot, then "
        "stream\n"
        "  --bench.decode.only      read and encode only (no Kafka, no "
        "checkpoint)\n"
        "  --bench.stop.at.end      stop at the binlog end seen at start\n"
        "\n"
        "Debug contexts: kprod, ckpt (or all), e.g. -d kprod,ckpt\n"
        "\n"
        "Exit status: 0 stopped (SIGTERM/SIGINT), 1 fatal runtime error,\n"
        "2 bad configuration or server settings, 3 binlog purged past the\n"
        "checkpoint (re-snapshot: --snapshot or snapshot.mode=when_needed).\n"
        "Documentation: man followcdc-producer, docs/producer.md\n";

int main(int argc, char **argv, char **envp) {
        static cdc_app_t app;
        struct sigaction sa;
        char errstr[512];
        int code = 0;

        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = app_sigterm;
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        sa.sa_handler = SIG_IGN;
        sigaction(SIGPIPE, &sa, NULL);

        app.conf = cdc_conf_new("followcdc-producer", cdc_pconf_props(),
                                &app.pc, errstr, sizeof(errstr));
        if (!app.conf) {
                fprintf(stderr, "followcdc-producer: %s\n", errstr);
                return EXIT_CONFIG;
        }
        switch (cdc_conf_cli(app.conf, argc, argv, envp, usage_extra,
                             cdc_pconf_finalize)) {
        case CDC_CONF_CLI_RUN:
                break;
        case CDC_CONF_CLI_EXIT_OK:
                app_destroy(&app);
                return 0;
        case CDC_CONF_CLI_EXIT_BAD:
                app_destroy(&app);
                return EXIT_CONFIG;
        }

        cdc_log(LOG_NOTICE, "PRODUCER",
                "followcdc-producer %s: source %s, %s.%s%s, snapshot.mode=%s,"
                " checkpoint.store=%s",
                CDC_VERSION, app.pc.source_name, app.pc.mysql_db,
                app.pc.source_tables,
                app.pc.bench_decode_only ? " (decode only)" : "",
                cdc_pconf_snapshot_mode_str(app.pc.snap_mode),
                app.pc.store == CDC_CKPT_STORE_FILE ? "file" : "kafka");
        code = app_init(&app);
        if (!code)
                code = app_run(&app);
        cdc_log(LOG_NOTICE, "PRODUCER", "exiting with status %d", code);
        app_destroy(&app);
        return code;
}
