/**
 * @file cdc_pengine_rows.c
 * @brief The producer's states that publish rows: SNAPSHOT (a consistent
 *        read of the captured tables) and STREAM (the binlog, TRUNCATE,
 *        repair signals). The rest of the state machine (see
 *        cdc_pengine.h) is in cdc_pengine.c.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cdc_ddl.h"
#include "cdc_log.h"
#include "cdc_pengine_int.h"
#include "cdc_snapshot.h"

/* ---- SNAPSHOT ---- */

static cdc_err_t pengine_snap_row(void *opaque, const char *table, json_t *row,
                                  const cdc_source_t *src) {
        cdc_pengine_t *pe = opaque;
        cdc_err_t err;

        while ((err = cdc_emit_snapshot_row(pe->pe_em, table, row, src)) ==
               CDC_ERR__QUEUE_FULL) {
                /* back-pressure: every in-flight slot waits for Kafka */
                err = pengine_tick(pe, 20);
                if (err || !*pe->pe_run)
                        return err ? err : CDC_ERR__STATE;
        }
        if (err)
                return pengine_fail(pe, err, PE_WHY_OTHER, "%s",
                                    cdc_emit_errstr(pe->pe_em));
        cdc_metric_add(pe->pe_mt.snapshot_rows, 1);
        if (pe->pe_txn && (pe->pe_snap_rows & 255) == 255) {
                /* commit the rows read so far now and then: a
                 * transaction must end within transaction.timeout.ms */
                err = pengine_tick(pe, 0);
                if (err)
                        return err;
        }
        cdc_pbench_row(pe->pe_pb);
        if ((++pe->pe_snap_rows & 1023) == 0) {
                cdc_dbg(SNAPSHOT, "SNAPSHOT",
                        "%" PRIu64 " rows emitted (%s), %zu transaction "
                        "groups in flight",
                        pe->pe_snap_rows, table,
                        cdc_inflight_groups(pe->pe_fl));
                err = pengine_tick(pe, 0);
                if (err)
                        return err;
        }
        return *pe->pe_run ? CDC_ERR_NO_ERROR : CDC_ERR__STATE;
}

cdc_err_t pengine_snapshot(cdc_pengine_t *pe) {
        const cdc_pconf_t *pc = pe->pe_pc;
        cdc_snapshot_opts_t so;
        cdc_snapshot_t *sn = NULL;
        cdc_pos_t pos, prev = pe->pe_read_pos;
        int had_prev = pe->pe_have_pos;
        char errstr[512], ptext[PE_POS_TEXT];
        cdc_err_t err;

        pengine_publish(pe, PE_ST_SNAPSHOT);
        pe->pe_txn_snap = 1; /* no checkpoint until it is complete */
        /* Nothing of an earlier stream may still count: the checkpoint
         * must not claim the stream position until every snapshot row
         * is acknowledged. */
        if (pe->pe_kp)
                cdc_kprod_flush(pe->pe_kp, (int)pc->flush_timeout_ms);
        cdc_inflight_reset(pe->pe_fl);
        pe->pe_ckpt_gen_done = 0;
        pe->pe_ckpt_gen_seen = 0;
        pe->pe_in_txn        = 0;
        pe->pe_snap_rows     = 0;

        memset(&so, 0, sizeof(so));
        so.target     = &pe->pe_mysql;
        so.db         = pc->mysql_db;
        so.tables     = pc->table_names;
        so.table_cnt  = pc->table_cnt;
        so.source_tz  = pc->source_tz;
        so.chunk_rows = pc->snapshot_chunk_rows;
        so.timeout_ms = (int)pc->mysql_connect_timeout_ms;
        sn            = cdc_snapshot_new(&so, errstr, sizeof(errstr));
        if (!sn) {
                pe->pe_exit = CDC_PENGINE_EXIT_CONFIG;
                return pengine_fail(pe, CDC_ERR__CONFIG, PE_WHY_OTHER,
                                    "snapshot: %s", errstr);
        }
        err = cdc_snapshot_begin(sn, &pos);
        if (err) {
                if (err == CDC_ERR__SERVER)
                        pe->pe_exit = CDC_PENGINE_EXIT_CONFIG;
                err = pengine_fail(pe, err, PE_WHY_SOURCE, "snapshot: %s",
                                   cdc_snapshot_errstr(sn));
                goto out;
        }
        cdc_pos_format(&pos, ptext, sizeof(ptext));
        cdc_log(LOG_NOTICE, "SNAPSHOT", "consistent snapshot at %s", ptext);
        if (!had_prev && pe->pe_ck && !pc->bench_decode_only) {
                /* Without a position to come back to, a crash before the
                 * first checkpoint would leave rows of this snapshot in
                 * the topics and no way to publish what changes before
                 * the next one (a delete of such a row): store the
                 * snapshot's start first (cdc_ckpt.h). */
                err = cdc_ckpt_save_pending(pe->pe_ck, &pos,
                                            (int)pc->flush_timeout_ms, errstr,
                                            sizeof(errstr));
                if (err) {
                        err = pengine_fail(
                                pe,
                                cdc_err_is_retriable(err) ? err
                                                          : CDC_ERR__TRANSPORT,
                                PE_WHY_OTHER,
                                "snapshot: can't store its start: %s; it "
                                "starts over",
                                errstr);
                        goto out;
                }
        }
        cdc_dbg(SNAPSHOT, "SNAPSHOT",
                "reading %zu tables of %s in chunks "
                "of %" PRId64 " rows",
                pc->table_cnt, pc->mysql_db, pc->snapshot_chunk_rows);
        err = cdc_snapshot_run(sn, pengine_snap_row, pe, pe->pe_run);
        if (err && !pe->pe_why[0] && *pe->pe_run) {
                /* The read itself failed part way (connection lost, query
                 * killed, lock wait timeout...): the snapshot starts over,
                 * so the failure counts as a transient one. A failure of
                 * a row's callback is recorded already. */
                err = pengine_fail(
                        pe,
                        cdc_err_is_retriable(err) ? err : CDC_ERR__TRANSPORT,
                        PE_WHY_SOURCE, "snapshot: %s; it starts over",
                        cdc_snapshot_errstr(sn));
        }
        if (err)
                goto out;
        pe->pe_snap_pos = pos;
        if (had_prev) {
                /* see pe_gap_replay: resume where the stream was */
                pos               = prev;
                pe->pe_gap_replay = 1;
                cdc_pos_format(&pos, ptext, sizeof(ptext));
        }
        /* The stream position becomes the checkpoint once every row
         * above is acknowledged. */
        cdc_inflight_commit(pe->pe_fl, &pos);
        pe->pe_read_pos      = pos;
        pe->pe_have_pos      = 1;
        pe->pe_snapshot_done = 1;
        pe->pe_txn_snap      = 0;
        cdc_metric_add(pe->pe_mt.snapshots, 1);
        /* Not "streaming from" yet: that line comes once the binlog is
         * open (the old position may be purged, see pengine_purged). */
        cdc_log(LOG_NOTICE, "SNAPSHOT",
                "%" PRIu64 " rows read; the stream starts at %s%s",
                cdc_snapshot_rows(sn), ptext,
                had_prev ? " (the position before the snapshot: changes "
                           "made since, deletes included, follow)"
                         : "");
        pe->pe_next = PE_ST_STREAM;
        if (cdc_pbench_snapshot_done(pe->pe_pb)) {
                cdc_log(LOG_NOTICE, "PRODUCER",
                        "bench.stop.at.end: stopping after the snapshot");
                pe->pe_next = PE_ST_DONE;
        }
out:
        cdc_snapshot_destroy(sn);
        return err;
}

/* ---- STREAM ---- */

/* A TRUNCATE of a captured table: every partition of its topic gets an
 * op t event at the TRUNCATE's version, in its transaction's group (the
 * checkpoint passes it only once they are acknowledged). */
static cdc_err_t pengine_truncate(cdc_pengine_t *pe,
                                  const cdc_binlog_item_t *it) {
        int parts = 0;
        cdc_err_t err;

        pe->pe_in_txn = 1;
        while ((err = cdc_emit_truncate(pe->pe_em, it->table, &it->source,
                                        &parts)) == CDC_ERR__QUEUE_FULL) {
                err = pengine_tick(pe, 20);
                if (err)
                        return err;
                if (!*pe->pe_run)
                        return CDC_ERR__STATE;
        }
        if (err)
                return pengine_fail(pe, err, PE_WHY_OTHER, "%s",
                                    cdc_emit_errstr(pe->pe_em));
        if (parts) {
                cdc_metric_add(pe->pe_mt.truncates, 1);
                cdc_log(LOG_NOTICE, "PRODUCER",
                        "TRUNCATE of %s (gtid %s, seq %" PRIu64
                        "): truncate event sent to %d partition(s); "
                        "consumers remove what is older",
                        it->table, it->source.gtid[0] ? it->source.gtid : "-",
                        it->source.seq, parts);
        }
        return CDC_ERR_NO_ERROR;
}

/* A position between transactions (a commit, a heartbeat outside one):
 * reading resumes there, and the checkpoint may move to it once Kafka
 * acknowledged what came before. */
static void pengine_between_txns(cdc_pengine_t *pe, const cdc_pos_t *next,
                                 const char *what) {
        char ptext[PE_POS_TEXT];

        pe->pe_read_pos = *next;
        if (pe->pe_kp)
                cdc_inflight_commit(pe->pe_fl, next);
        if (cdc_dbg_on(CDC_DBG_BINLOG)) {
                cdc_pos_format(next, ptext, sizeof(ptext));
                cdc_log(LOG_DEBUG, "BINLOG", "%s %s", what, ptext);
        }
}

static cdc_err_t pengine_item(cdc_pengine_t *pe, const cdc_binlog_item_t *it) {
        cdc_err_t err;

        switch (it->type) {
        case CDC_BINLOG_ROW:
                pe->pe_in_txn = 1;
                /* a request, a watermark, or a change that drops out of
                 * the repair chunk between the watermarks */
                while (pe->pe_rp && (err = cdc_repair_row(pe->pe_rp, it)) ==
                                            CDC_ERR__QUEUE_FULL) {
                        err = pengine_tick(pe, 20);
                        if (err)
                                return err;
                        if (!*pe->pe_run)
                                return CDC_ERR__STATE;
                }
                if (pe->pe_rp && err)
                        return pengine_fail(pe, err, PE_WHY_OTHER, "repair: %s",
                                            cdc_emit_errstr(pe->pe_em));
                while ((err = cdc_emit_row(pe->pe_em, it)) ==
                       CDC_ERR__QUEUE_FULL) {
                        /* back-pressure: every slot waits for Kafka */
                        err = pengine_tick(pe, 20);
                        if (err)
                                return err;
                        if (!*pe->pe_run)
                                return CDC_ERR__STATE;
                }
                if (err)
                        return pengine_fail(pe, err, PE_WHY_OTHER, "%s",
                                            cdc_emit_errstr(pe->pe_em));
                cdc_pbench_row(pe->pe_pb);
                break;
        case CDC_BINLOG_COMMIT:
                pe->pe_in_txn = 0;
                pengine_between_txns(pe, &it->next, "commit, next");
                if (cdc_pbench_commit(pe->pe_pb, &it->next))
                        goto end;
                break;
        case CDC_BINLOG_HEARTBEAT:
                /* between transactions: the position is valid */
                if (pe->pe_in_txn)
                        break;
                pengine_between_txns(pe, &it->next, "heartbeat at");
                if (cdc_pbench_heartbeat(pe->pe_pb, &it->next))
                        goto end;
                break;
        case CDC_BINLOG_DDL:
                cdc_log(LOG_NOTICE, "BINLOG", "DDL on %s: %.200s",
                        it->table ? it->table : "?",
                        it->statement ? it->statement : "");
                if (it->table && it->statement &&
                    cdc_ddl_is_truncate(it->statement, strlen(it->statement)))
                        return pengine_truncate(pe, it);
                break;
        }
        return CDC_ERR_NO_ERROR;
end:
        cdc_log(LOG_NOTICE, "PRODUCER", "end of the binlog reached");
        pe->pe_end = 1;
        return CDC_ERR_NO_ERROR;
}

/* Repairs: the next chunk, the progress of acknowledged ones. A failure
 * restarts the stream (and the chunk) after a backoff. */
static cdc_err_t pengine_repair_tick(cdc_pengine_t *pe) {
        cdc_err_t err;

        if (!pe->pe_rp)
                return CDC_ERR_NO_ERROR;
        err = cdc_repair_tick(pe->pe_rp);
        if (err)
                return pengine_fail(pe, err, PE_WHY_SOURCE, "repair: %s",
                                    cdc_repair_errstr(pe->pe_rp));
        return CDC_ERR_NO_ERROR;
}

cdc_err_t pengine_stream(cdc_pengine_t *pe) {
        const cdc_binlog_item_t *it;
        char ptext[PE_POS_TEXT];
        unsigned n = 0;
        cdc_err_t err;

        cdc_pos_format(&pe->pe_read_pos, ptext, sizeof(ptext));
        err = cdc_binlog_open(pe->pe_bl, &pe->pe_read_pos);
        if (err == CDC_ERR__NOENT)
                return pengine_fail(pe, err, PE_WHY_NONE, "%s",
                                    cdc_binlog_errstr(pe->pe_bl));
        if (err) {
                if (!cdc_err_is_retriable(err))
                        pe->pe_exit = CDC_PENGINE_EXIT_CONFIG;
                return pengine_fail(pe, err, PE_WHY_SOURCE, "open at %s: %s",
                                    ptext, cdc_binlog_errstr(pe->pe_bl));
        }
        if (pe->pe_rp && (err = cdc_repair_start(pe->pe_rp)))
                return pengine_fail(pe, err, PE_WHY_SOURCE, "repair: %s",
                                    cdc_repair_errstr(pe->pe_rp));
        cdc_log(LOG_NOTICE, "BINLOG", "streaming from %s", ptext);
        /* the stream opened there: a valid resume point (after a purged
         * gap replay too), which transactions commit as the checkpoint */
        pe->pe_txn_snap = 0;
        pe->pe_have_pos = 1;
        cdc_retry_ok(&pe->pe_rt, cdc_now_us());
        cdc_backoff_reset(pe->pe_bo);
        cdc_metric_add(pe->pe_mt.stream_starts, 1);
        pe->pe_gap_replay  = 0;
        pe->pe_source_down = 0;
        pengine_publish(pe, PE_ST_STREAM);

        while (*pe->pe_run) {
                int busy = pe->pe_rp && cdc_repair_busy(pe->pe_rp);
                err      = cdc_binlog_next(pe->pe_bl, busy ? 5 : 100, &it);
                if (err == CDC_ERR__TIMED_OUT) {
                        err = pengine_tick(pe, 0);
                        if (!err)
                                err = pengine_repair_tick(pe);
                        if (err)
                                return err;
                        continue;
                }
                if (err == CDC_ERR__NOENT)
                        return pengine_fail(pe, err, PE_WHY_NONE, "%s",
                                            cdc_binlog_errstr(pe->pe_bl));
                if (err == CDC_ERR__BAD_EVENT)
                        return pengine_fail(pe, err, PE_WHY_OTHER,
                                            "undecodable event after %s: %s",
                                            ptext,
                                            cdc_binlog_errstr(pe->pe_bl));
                if (err) {
                        if (err == CDC_ERR__SERVER)
                                pe->pe_exit = CDC_PENGINE_EXIT_CONFIG;
                        return pengine_fail(pe, err, PE_WHY_SOURCE, "%s: %s",
                                            cdc_err2str(err),
                                            cdc_binlog_errstr(pe->pe_bl));
                }
                err = pengine_item(pe, it);
                if (err)
                        return err;
                if (pe->pe_end) {
                        pe->pe_next = PE_ST_DONE;
                        return CDC_ERR_NO_ERROR;
                }
                if ((++n & 255) == 0) {
                        err = pengine_tick(pe, 0);
                        if (err)
                                return err;
                }
                /* a repair moves on as soon as its chunk is acknowledged
                 * (serve delivery reports first) */
                if (busy || (n & 255) == 0) {
                        if (busy && pe->pe_kp)
                                cdc_kprod_poll(pe->pe_kp, 0);
                        err = pengine_repair_tick(pe);
                        if (err)
                                return err;
                }
        }
        return CDC_ERR__STATE;
}
