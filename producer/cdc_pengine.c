/**
 * @file cdc_pengine.c
 * @brief The producer's run loop as a state machine (see cdc_pengine.h).
 *
 * Layout: state and readiness, periodic work (tick, checkpoint), one
 * function per state, the transition that maps every result, the loop.
 * The SNAPSHOT and STREAM states: cdc_pengine_rows.c. Setup, metrics and
 * the readiness text: cdc_pengine_setup.c.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cdc_backoff.h"
#include "cdc_binlog.h"
#include "cdc_ckpt.h"
#include "cdc_emit.h"
#include "cdc_inflight.h"
#include "cdc_kprod.h"
#include "cdc_lock.h"
#include "cdc_log.h"
#include "cdc_metrics.h"
#include "cdc_mysql.h"
#include "cdc_pbench.h"
#include "cdc_pengine.h"
#include "cdc_pengine_int.h"
#include "cdc_retry.h"

/* ---- state and readiness ---- */

/* Publish the state (and what follows from it) to /readyz and metrics. */
void pengine_publish(cdc_pengine_t *pe, pe_state_t st) {
        char why[128];
        int kafka_up;

        pe->pe_state = st;
        kafka_up     = !pe->pe_kp || !cdc_kprod_brokers_down(pe->pe_kp);
        cdc_metric_set(pe->pe_mt.state, st);
        cdc_metric_set(pe->pe_mt.role, pe->pe_lock_held);
        cdc_metric_set(pe->pe_mt.source_up, !pe->pe_source_down);
        cdc_metric_set(pe->pe_mt.kafka_up, kafka_up);
        cdc_metric_set(pe->pe_mt.ready, pengine_ready(pe, why, sizeof(why)));
}

static void pengine_source(cdc_pengine_t *pe, int up) {
        if (pe->pe_source_down == !up)
                return;
        pe->pe_source_down = !up;
        pengine_publish(pe, (pe_state_t)pe->pe_state);
}

/* Record the failure the transition will act on. */
cdc_err_t pengine_fail(cdc_pengine_t *pe, cdc_err_t err, pe_why_t kind,
                       const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(pe->pe_why, sizeof(pe->pe_why), fmt, ap);
        va_end(ap);
        if (kind == PE_WHY_SOURCE)
                pengine_source(pe, 0);
        return err;
}

/* ---- periodic work ---- */

/* Save the acknowledged position if it moved (at most every
 * checkpoint.interval.ms unless \p force). A failed save is tried again
 * at the next tick after the interval, not only after the next ack. */
static void pengine_checkpoint(cdc_pengine_t *pe, int force) {
        char why[512];
        cdc_pos_t pos;
        uint64_t gen;
        int wrote = 0;
        cdc_err_t err;

        gen = cdc_inflight_acked(pe->pe_fl, &pos);
        if (gen != pe->pe_ckpt_gen_seen) {
                pe->pe_ckpt_gen_seen = gen;
                pe->pe_ckpt_moved_ms = cdc_wallclock_ms();
        }
        if (!pe->pe_ck || gen == 0 || gen == pe->pe_ckpt_gen_done)
                return;
        err = cdc_ckpt_update(pe->pe_ck, &pos, cdc_now_us(),
                              pe->pe_pc->ckpt_interval_ms * 1000, force, &wrote,
                              why, sizeof(why));
        if (err == CDC_ERR__QUEUE_FULL)
                return; /* not yet: the interval has not passed */
        if (err) {
                cdc_metric_add(pe->pe_mt.ckpt_errors, 1);
                cdc_retry_fail(&pe->pe_rt_ckpt, cdc_now_us(),
                               (int)pe->pe_pc->ckpt_interval_ms,
                               "checkpoint not saved: %s", why);
                return;
        }
        cdc_retry_ok(&pe->pe_rt_ckpt, cdc_now_us());
        pe->pe_ckpt_gen_done = gen;
        if (wrote) {
                cdc_metric_add(pe->pe_mt.ckpt_writes, 1);
                cdc_dbg(CKPT, "CKPT", "saved %s", cdc_ckpt_saved(pe->pe_ck));
        }
}

/* ---- transactions (producer.transactions=true) ----
 *
 * Events go into an open Kafka transaction; at a source transaction
 * boundary, at most every producer.transaction.ms, the checkpoint record
 * of the position read so far joins it and it commits: read_committed
 * readers see the events and the checkpoint together or not at all. So
 * after any crash the producer resumes exactly after the last committed
 * events (the new instance's init_transactions aborts what the old one
 * left open), and no change event is written twice. */

/* Commit the open transaction with the checkpoint of the position read
 * (streaming only: a snapshot's rows commit without one, its position
 * is saved once the stream runs). \p force: now, else when it is old
 * enough. */
static cdc_err_t pengine_txn_commit(cdc_pengine_t *pe, int force) {
        int64_t now = cdc_now_us(), begun = cdc_kprod_txn_begun_us(pe->pe_kp);
        int stream = pe->pe_have_pos && !pe->pe_txn_snap;
        char why[512];
        int wrote = 0;
        cdc_err_t err;

        if (pe->pe_in_txn)
                return CDC_ERR_NO_ERROR; /* only at a boundary */
        if (!begun) {
                /* nothing produced: a position moved by heartbeats alone
                 * is saved at most every checkpoint.interval.ms */
                if (!stream ||
                    (!force && now - pe->pe_txn_ckpt_us <
                                       pe->pe_pc->ckpt_interval_ms * 1000))
                        return CDC_ERR_NO_ERROR;
        } else if (!force && now - begun < pe->pe_pc->txn_commit_ms * 1000) {
                return CDC_ERR_NO_ERROR;
        }
        if (stream) {
                pe->pe_txn_ckpt_us = now;
                err = cdc_ckpt_update(pe->pe_ck, &pe->pe_read_pos, now, 0, 1,
                                      &wrote, why, sizeof(why));
                if (err)
                        return pengine_fail(
                                pe,
                                err == CDC_ERR__FATAL ? err
                                                      : CDC_ERR__TRANSPORT,
                                PE_WHY_OTHER, "checkpoint: %s", why);
        }
        err = cdc_kprod_txn_commit(pe->pe_kp, (int)pe->pe_pc->flush_timeout_ms);
        if (err) {
                cdc_metric_add(pe->pe_mt.ckpt_errors, wrote);
                return pengine_fail(pe, err, PE_WHY_OTHER, "%s",
                                    cdc_kprod_errstr(pe->pe_kp));
        }
        if (wrote) {
                cdc_metric_add(pe->pe_mt.ckpt_writes, 1);
                pe->pe_ckpt_moved_ms = cdc_wallclock_ms();
                cdc_dbg(CKPT, "CKPT", "committed with %s",
                        cdc_ckpt_saved(pe->pe_ck));
        }
        return CDC_ERR_NO_ERROR;
}

/* A failure, or the end of being active: abort what is open and forget
 * the position, so the next start reads the committed checkpoint (the
 * stream of the aborted transaction is read again). */
static void pengine_txn_drop(cdc_pengine_t *pe) {
        if (cdc_kprod_txn_begun_us(pe->pe_kp) &&
            cdc_kprod_txn_abort(pe->pe_kp, (int)pe->pe_pc->flush_timeout_ms))
                cdc_log(LOG_WARNING, "KPROD",
                        "open transaction not aborted (%s): the next start "
                        "aborts it",
                        cdc_kprod_errstr(pe->pe_kp));
        pe->pe_have_pos = 0;
        pe->pe_in_txn   = 0;
        cdc_inflight_reset(pe->pe_fl);
        pe->pe_ckpt_gen_done = 0;
        pe->pe_ckpt_gen_seen = 0;
}

/* Kafka's health, published as soon as librdkafka reports it. While the
 * brokers are down an idle producer gets no acks to tell it they are
 * back, so ask one every 2 s. */
static void pengine_kafka_health(cdc_pengine_t *pe) {
        int64_t now = cdc_now_us();
        int down    = pe->pe_kp && cdc_kprod_brokers_down(pe->pe_kp);

        if (down != pe->pe_kafka_down) {
                pe->pe_kafka_down = down;
                pe->pe_probe_us   = now;
                pengine_publish(pe, (pe_state_t)pe->pe_state);
        }
        if (down && now - pe->pe_probe_us >= 2000000) {
                pe->pe_probe_us = now;
                if (cdc_kprod_probe(pe->pe_kp, 500)) {
                        pe->pe_kafka_down = 0;
                        pengine_publish(pe, (pe_state_t)pe->pe_state);
                }
        }
}

/* The back-pressure counters, from the producer's (which lives as long
 * as the engine: they only grow). */
static void pengine_waits(cdc_pengine_t *pe) {
        int64_t ring_us, queue_us;

        cdc_kprod_waits(pe->pe_kp, &ring_us, &queue_us);
        cdc_metric_set(pe->pe_mt.ring_wait_ms, ring_us / 1000);
        cdc_metric_set(pe->pe_mt.queue_wait_ms, queue_us / 1000);
}

/* Periodic work of every state that holds the lock: delivery reports,
 * the checkpoint, metrics, the lock. @returns CDC_ERR_NO_ERROR, or why
 * the state must end (CDC_ERR__FATAL: Kafka refused a message for good;
 * CDC_ERR__FENCED: the lock is lost). */
cdc_err_t pengine_tick(cdc_pengine_t *pe, int timeout_ms) {
        int64_t now;

        cdc_http_alive(pe->pe_http); /* liveness (/healthz) */
        if (pe->pe_kp) {
                cdc_kprod_poll(pe->pe_kp, timeout_ms);
                if (cdc_kprod_fatal(pe->pe_kp))
                        return pengine_fail(pe, CDC_ERR__FATAL, PE_WHY_OTHER,
                                            "%s", cdc_kprod_errstr(pe->pe_kp));
                cdc_metric_set(pe->pe_mt.queue, cdc_kprod_outq_len(pe->pe_kp));
                pengine_waits(pe);
                pengine_kafka_health(pe);
        }
        if (pe->pe_topics) {
                cdc_topics_result_t tr;
                if (cdc_topics_poll(pe->pe_topics, cdc_now_us() / 1000, &tr)) {
                        cdc_metric_set(pe->pe_mt.topics_not_compacted,
                                       tr.not_compacted);
                        cdc_topics_destroy(pe->pe_topics);
                        pe->pe_topics = NULL;
                }
        }
        if (pe->pe_txn) {
                cdc_err_t err = pengine_txn_commit(pe, 0);
                if (err)
                        return err;
        } else {
                pengine_checkpoint(pe, 0);
        }
        cdc_metric_set(pe->pe_mt.inflight,
                       (int64_t)cdc_inflight_groups(pe->pe_fl));
        if (pe->pe_ckpt_moved_ms)
                cdc_metric_set(pe->pe_mt.ckpt_age_s,
                               (cdc_wallclock_ms() - pe->pe_ckpt_moved_ms) /
                                       1000);
        now = cdc_now_us();
        if (pe->pe_lk && pe->pe_lock_held &&
            now - pe->pe_last_lock_us >= pe->pe_pc->lock_check_ms * 1000) {
                pe->pe_last_lock_us = now;
                /* Another instance may take over now: stop producing
                 * before it starts (split brain). */
                if (cdc_lock_check(pe->pe_lk))
                        return pengine_fail(pe, CDC_ERR__FENCED, PE_WHY_NONE,
                                            "source lock lost (%s)",
                                            cdc_lock_errstr(pe->pe_lk));
        }
        return CDC_ERR_NO_ERROR;
}

/* Wait \p ms serving delivery reports (no checkpoint, no lock check). */
static void pengine_sleep(cdc_pengine_t *pe, int ms) {
        int64_t end = cdc_now_us() + (int64_t)ms * 1000;
        while (*pe->pe_run && cdc_now_us() < end) {
                cdc_http_alive(pe->pe_http); /* waiting is progress */
                if (pe->pe_kp) {
                        cdc_kprod_poll(pe->pe_kp, 100);
                        pengine_kafka_health(pe);
                } else {
                        usleep(100 * 1000);
                }
        }
}

/* Stop producing: close the stream, flush Kafka, save what it
 * acknowledged. */
static void pengine_quiesce(cdc_pengine_t *pe) {
        cdc_binlog_close(pe->pe_bl);
        if (!pe->pe_kp)
                return;
        if (pe->pe_txn) {
                /* commit what ends at a source transaction boundary,
                 * abort the rest */
                if (!pe->pe_in_txn && cdc_kprod_txn_begun_us(pe->pe_kp) &&
                    pengine_txn_commit(pe, 1))
                        cdc_log(LOG_WARNING, "KPROD",
                                "last transaction not committed: %s",
                                pe->pe_why);
                pengine_txn_drop(pe);
                return;
        }
        if (cdc_kprod_flush(pe->pe_kp, (int)pe->pe_pc->flush_timeout_ms))
                cdc_log(LOG_WARNING, "KPROD",
                        "%d messages not acknowledged after %" PRId64
                        "ms: the checkpoint stays before them",
                        cdc_kprod_outq_len(pe->pe_kp),
                        pe->pe_pc->flush_timeout_ms);
        cdc_kprod_poll(pe->pe_kp, 0);
        pengine_checkpoint(pe, 1);
        if (pe->pe_pc->store == CDC_CKPT_STORE_KAFKA)
                cdc_kprod_flush(pe->pe_kp, (int)pe->pe_pc->flush_timeout_ms);
}

/* After a quiesce: the next active instance resumes from the stored
 * checkpoint, so nothing tracked so far counts any more. */
static void pengine_forget(cdc_pengine_t *pe) {
        char why[256];
        /* Another instance takes over with our transactional.id and
         * fences this producer: start the standby with a fresh one. */
        if (pe->pe_txn && cdc_kprod_reset(pe->pe_kp, why, sizeof(why)))
                cdc_log(LOG_ERR, "KPROD", "producer not reset: %s", why);
        pe->pe_lock_held = 0;
        pe->pe_have_pos  = 0;
        pe->pe_in_txn    = 0;
        cdc_inflight_reset(pe->pe_fl);
        pe->pe_ckpt_gen_done = 0;
        pe->pe_ckpt_gen_seen = 0;
}

/* ---- STANDBY ---- */

static cdc_err_t pengine_standby(cdc_pengine_t *pe) {
        uint64_t holder = 0;
        cdc_err_t err;

        pe->pe_next = PE_ST_CONNECT;
        if (!pe->pe_lk) {
                pe->pe_lock_held = 1;
                return CDC_ERR_NO_ERROR;
        }
        if (pe->pe_lock_held) {
                /* back from a failure: is the lock still ours? */
                if (cdc_lock_check(pe->pe_lk) == CDC_ERR_NO_ERROR)
                        return CDC_ERR_NO_ERROR;
                cdc_log(LOG_WARNING, "LOCK", "source lock lost (%s): stopping",
                        cdc_lock_errstr(pe->pe_lk));
                cdc_metric_add(pe->pe_mt.lock_lost, 1);
                pengine_quiesce(pe);
                pengine_forget(pe);
        }
        err = cdc_lock_acquire(pe->pe_lk, &holder);
        if (!err) {
                pe->pe_lock_held      = 1;
                pe->pe_last_lock_us   = cdc_now_us();
                pe->pe_standby_logged = 0;
                pengine_source(pe, 1);
                cdc_log(LOG_NOTICE, "LOCK", "source lock taken: active");
                return CDC_ERR_NO_ERROR;
        }
        pe->pe_next = PE_ST_STANDBY;
        if (err == CDC_ERR__STATE) {
                /* connected, another instance is active: a healthy
                 * standby, logged once */
                cdc_retry_ok(&pe->pe_rt, cdc_now_us());
                pengine_source(pe, 1);
                if (!pe->pe_standby_logged++)
                        cdc_log(LOG_NOTICE, "LOCK", "standby: %s",
                                cdc_lock_errstr(pe->pe_lk));
                else
                        cdc_dbg(BINLOG, "LOCK", "still standby: %s",
                                cdc_lock_errstr(pe->pe_lk));
        } else {
                pengine_source(pe, 0);
                cdc_retry_fail(&pe->pe_rt, cdc_now_us(),
                               (int)pe->pe_pc->lock_retry_ms, "source lock: %s",
                               cdc_lock_errstr(pe->pe_lk));
        }
        pengine_publish(pe, PE_ST_STANDBY);
        pengine_sleep(pe, (int)pe->pe_pc->lock_retry_ms);
        /* a standby whose Kafka refuses it for good (credentials, TLS)
         * could never take over: say so now, not at the takeover */
        if (pe->pe_kp && cdc_kprod_fatal(pe->pe_kp))
                return pengine_fail(pe, CDC_ERR__FATAL, PE_WHY_OTHER, "%s",
                                    cdc_kprod_errstr(pe->pe_kp));
        return CDC_ERR_NO_ERROR;
}

/* ---- CONNECT ---- */

static cdc_err_t pengine_connect(cdc_pengine_t *pe) {
        const cdc_pconf_t *pc = pe->pe_pc;
        char errstr[512], ptext[PE_POS_TEXT];
        cdc_pos_t end;
        cdc_err_t err;

        pengine_publish(pe, PE_ST_CONNECT);
        pe->pe_need_snapshot = 0;
        err                  = cdc_binlog_check(pe->pe_bl);
        if (err) {
                if (err != CDC_ERR__TRANSPORT && err != CDC_ERR__TIMED_OUT)
                        pe->pe_exit = CDC_PENGINE_EXIT_CONFIG;
                return pengine_fail(pe, err, PE_WHY_SOURCE, "%s",
                                    cdc_binlog_errstr(pe->pe_bl));
        }
        pengine_source(pe, 1);

        if (pe->pe_txn) {
                /* Active now: fence older instances and abort what they
                 * (or we, before a failure) left open, before reading the
                 * checkpoint, so the reader sees the committed state. */
                err = cdc_kprod_txn_init(pe->pe_kp, 30000);
                if (!err)
                        err = cdc_kprod_txn_abort(pe->pe_kp,
                                                  (int)pc->flush_timeout_ms);
                if (err)
                        return pengine_fail(pe,
                                            err == CDC_ERR__FATAL
                                                    ? err
                                                    : CDC_ERR__TRANSPORT,
                                            PE_WHY_OTHER, "%s",
                                            cdc_kprod_errstr(pe->pe_kp));
        }
        if (!pe->pe_have_pos) {
                err = pe->pe_ck ? cdc_ckpt_load(pe->pe_ck, &pe->pe_read_pos,
                                                10000, errstr, sizeof(errstr))
                                : CDC_ERR__NOENT;
                if (err == CDC_ERR_NO_ERROR) {
                        pe->pe_have_pos = 1;
                        cdc_metric_add(pe->pe_mt.ckpt_loads, 1);
                        cdc_pos_format(&pe->pe_read_pos, ptext, sizeof(ptext));
                        if (cdc_ckpt_loaded_flags(pe->pe_ck) &
                            CDC_CKPT_SNAPSHOT_PENDING) {
                                /* A snapshot started there and may be
                                 * partly published: take it again, then
                                 * stream from its start, so what changed
                                 * in between (deletes too) follows. */
                                cdc_log(LOG_NOTICE, "CKPT",
                                        "the snapshot started at %s did "
                                        "not finish: taking it again",
                                        ptext);
                                pe->pe_need_snapshot = 1;
                        } else {
                                cdc_log(LOG_NOTICE, "CKPT", "resuming after %s",
                                        ptext);
                        }
                } else if (err == CDC_ERR__NOENT) {
                        cdc_log(LOG_NOTICE, "CKPT", "no checkpoint");
                        if (pc->snap_mode != CDC_SNAPSHOT_NEVER) {
                                pe->pe_need_snapshot = 1;
                        } else {
                                err = cdc_binlog_current_pos(pe->pe_bl,
                                                             &pe->pe_read_pos);
                                if (err)
                                        return pengine_fail(
                                                pe, err, PE_WHY_SOURCE, "%s",
                                                cdc_binlog_errstr(pe->pe_bl));
                                pe->pe_have_pos = 1;
                                cdc_pos_format(&pe->pe_read_pos, ptext,
                                               sizeof(ptext));
                                cdc_log(LOG_NOTICE, "PRODUCER",
                                        "snapshot.mode=never: starting at "
                                        "the end of the binlog, %s",
                                        ptext);
                        }
                } else if (cdc_err_is_retriable(err)) {
                        /* never mistake "can't read" for "none" */
                        return pengine_fail(pe, err, PE_WHY_OTHER, "%s",
                                            errstr);
                } else {
                        pe->pe_exit = CDC_PENGINE_EXIT_CONFIG;
                        return pengine_fail(pe, err, PE_WHY_OTHER, "%s",
                                            errstr);
                }
        }
        if (!pe->pe_snapshot_done &&
            (pc->snapshot_now || pc->snap_mode == CDC_SNAPSHOT_ALWAYS))
                pe->pe_need_snapshot = 1;
        if (cdc_pbench_wants_end(pe->pe_pb) &&
            cdc_binlog_current_pos(pe->pe_bl, &end) == CDC_ERR_NO_ERROR) {
                cdc_pbench_set_end(pe->pe_pb, &end);
                cdc_pos_format(&end, ptext, sizeof(ptext));
                cdc_log(LOG_NOTICE, "PRODUCER",
                        "will stop at the binlog end %s", ptext);
        }
        pe->pe_next = pe->pe_need_snapshot ? PE_ST_SNAPSHOT : PE_ST_STREAM;
        return CDC_ERR_NO_ERROR;
}

/* ---- BACKOFF ---- */

static cdc_err_t pengine_backoff(cdc_pengine_t *pe) {
        pengine_publish(pe, PE_ST_BACKOFF);
        pengine_sleep(pe, pe->pe_backoff_ms);
        if (pe->pe_kp && cdc_kprod_fatal(pe->pe_kp))
                return pengine_fail(pe, CDC_ERR__FATAL, PE_WHY_OTHER, "%s",
                                    cdc_kprod_errstr(pe->pe_kp));
        pe->pe_next = PE_ST_STANDBY; /* passes through when the lock holds */
        return CDC_ERR_NO_ERROR;
}

/* ---- transitions ---- */

/* The stream's position is no longer on the server. */
static pe_state_t pengine_purged(cdc_pengine_t *pe) {
        char ptext[PE_POS_TEXT];

        cdc_pos_format(&pe->pe_read_pos, ptext, sizeof(ptext));
        cdc_metric_add(pe->pe_mt.purged, 1);
        if (pe->pe_gap_replay) {
                /* The snapshot is complete; only the gap's deletes are
                 * lost, and nothing can recover them from the server. */
                pe->pe_gap_replay = 0;
                pe->pe_read_pos   = pe->pe_snap_pos;
                cdc_inflight_commit(pe->pe_fl, &pe->pe_snap_pos);
                cdc_log(LOG_WARNING, "BINLOG",
                        "position %s before the snapshot is no longer on "
                        "the server: streaming from the snapshot position; "
                        "rows hard-deleted before the snapshot stay in "
                        "Redis until a rebuild",
                        ptext);
                return PE_ST_STREAM;
        }
        if (pe->pe_pc->snap_mode == CDC_SNAPSHOT_WHEN_NEEDED) {
                cdc_log(LOG_WARNING, "BINLOG",
                        "position %s is no longer on the server (%s): "
                        "taking a new snapshot (snapshot.mode=when_needed)",
                        ptext, pe->pe_why);
                pe->pe_have_pos = 0;
                return PE_ST_SNAPSHOT;
        }
        cdc_log(LOG_CRIT, "BINLOG",
                "position %s is no longer on the server (%s). Changes "
                "after it are lost to this producer: take a new snapshot "
                "(run once with --snapshot, or set "
                "snapshot.mode=when_needed)",
                ptext, pe->pe_why);
        pe->pe_exit = CDC_PENGINE_EXIT_PURGED;
        return PE_ST_DONE;
}

static int pengine_exit_code(cdc_err_t err) {
        switch (err) {
        case CDC_ERR__CONFIG:
        case CDC_ERR__SERVER:
                return CDC_PENGINE_EXIT_CONFIG;
        default:
                return CDC_PENGINE_EXIT_FATAL;
        }
}

/* The one place that decides what a state's result means. */
static pe_state_t pengine_transition(cdc_pengine_t *pe, pe_state_t from,
                                     cdc_err_t err) {
        int retriable = cdc_err_is_retriable(err);

        if (!*pe->pe_run && (!err || err == CDC_ERR__STATE || retriable ||
                             err == CDC_ERR__FENCED))
                return PE_ST_DONE; /* SIGTERM: stop, exit 0 */
        if (!err)
                return pe->pe_next;
        cdc_binlog_close(pe->pe_bl);
        if (pe->pe_txn && pe->pe_kp && err != CDC_ERR__FENCED)
                pengine_txn_drop(pe); /* resume from the committed
                                       * checkpoint */
        if (retriable || err == CDC_ERR__FENCED)
                pe->pe_exit = 0; /* a step's exit status counts only when
                                  * its failure ends the loop */
        if (err == CDC_ERR__FENCED) {
                /* Flush and save, then stand by; the next active
                 * producer resumes from the stored checkpoint. */
                cdc_log(LOG_WARNING, "LOCK", "%s: stopping", pe->pe_why);
                cdc_metric_add(pe->pe_mt.lock_lost, 1);
                pengine_quiesce(pe);
                if (pe->pe_lk)
                        cdc_lock_release(pe->pe_lk);
                pengine_forget(pe);
                pe->pe_standby_logged = 0;
                return PE_ST_STANDBY;
        }
        if (err == CDC_ERR__NOENT && from == PE_ST_STREAM)
                return pengine_purged(pe);
        if (retriable) {
                /* transient: keep what is in flight, resume from the last
                 * transaction read */
                pe->pe_backoff_ms =
                        cdc_backoff_next_ms(pe->pe_bo, cdc_now_us());
                cdc_metric_add(pe->pe_mt.reconnects, 1);
                cdc_retry_fail(&pe->pe_rt, cdc_now_us(), pe->pe_backoff_ms,
                               "%s", pe->pe_why);
                return PE_ST_BACKOFF;
        }
        if (!pe->pe_exit)
                pe->pe_exit = pengine_exit_code(err);
        cdc_log(LOG_CRIT, "PRODUCER", "%s (%s): stopping", pe->pe_why,
                cdc_err2str(err));
        return PE_ST_DONE;
}

int cdc_pengine_run(cdc_pengine_t *pe) {
        pe_state_t st = PE_ST_STANDBY;

        while (st != PE_ST_DONE) {
                cdc_err_t err = CDC_ERR_NO_ERROR;
                pe->pe_why[0] = '\0';
                switch (st) {
                case PE_ST_STANDBY:
                        err = pengine_standby(pe);
                        break;
                case PE_ST_CONNECT:
                        err = pengine_connect(pe);
                        break;
                case PE_ST_SNAPSHOT:
                        err = pengine_snapshot(pe);
                        break;
                case PE_ST_STREAM:
                        err = pengine_stream(pe);
                        break;
                case PE_ST_BACKOFF:
                        err = pengine_backoff(pe);
                        break;
                case PE_ST_DONE:
                        break;
                }
                st = pengine_transition(pe, st, err);
        }
        pengine_publish(pe, PE_ST_DONE);
        pengine_quiesce(pe);
        if (pe->pe_kp) {
                int64_t ring_us, queue_us;
                cdc_kprod_waits(pe->pe_kp, &ring_us, &queue_us);
                cdc_pbench_waits(pe->pe_pb, ring_us, queue_us);
        }
        cdc_pbench_report(pe->pe_pb, stdout);
        return pe->pe_exit;
}
