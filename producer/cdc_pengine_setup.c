/**
 * @file cdc_pengine_setup.c
 * @brief The producer engine's setup (every module, the metrics table,
 *        the delivery report callback) and its readiness text; the state
 *        machine itself is cdc_pengine.c.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdc_log.h"
#include "cdc_pengine_int.h"
#include "cdc_topics.h"

/* ---- readiness ---- */

static const char *const pe_state_names[] = { "standby",    "snapshot",
                                              "streaming",  "reconnecting",
                                              "connecting", "stopping" };

int pengine_ready(const cdc_pengine_t *pe, char *why, size_t size) {
        int st = pe->pe_state;

        if (pe->pe_kp && cdc_kprod_brokers_down(pe->pe_kp)) {
                snprintf(why, size,
                         "not ready: kafka unusable (all brokers "
                         "down)");
                return 0;
        }
        if (pe->pe_source_down) {
                snprintf(why, size, "not ready: source unreachable (%s)",
                         st == PE_ST_STANDBY ? "standby" : "reconnecting");
                return 0;
        }
        switch (st) {
        case PE_ST_STREAM:
                snprintf(why, size, "ready: active, streaming");
                return 1;
        case PE_ST_SNAPSHOT:
                snprintf(why, size, "ready: active, snapshot");
                return 1;
        case PE_ST_STANDBY:
                snprintf(why, size,
                         "ready: standby (the source lock is "
                         "held by another instance)");
                return 1;
        case PE_ST_BACKOFF:
                snprintf(why, size, "not ready: reconnecting");
                return 0;
        case PE_ST_CONNECT:
                snprintf(why, size, "not ready: connecting");
                return 0;
        default:
                snprintf(why, size, "not ready: %s",
                         st >= 0 && st <= PE_ST_DONE ? pe_state_names[st]
                                                     : "starting");
                return 0;
        }
}

static int pengine_ready_cb(void *opaque, char *why, size_t why_size) {
        return pengine_ready(opaque, why, why_size);
}

/* ---- setup ---- */

/* The topics exist and are compacted (cdc_topics.h); topics.create makes
 * the missing ones. @returns -1 with the reason in errstr when that is a
 * configuration error (exit 2). */
static int pengine_topics(cdc_pengine_t *pe, char *errstr, size_t errstr_size) {
        const cdc_pconf_t *pc = pe->pe_pc;
        char names[CDC_PCONF_TABLES_MAX][256];
        const char *topics[CDC_PCONF_TABLES_MAX];
        cdc_topics_opts_t o;
        cdc_topics_result_t res;
        size_t i;

        for (i = 0; i < pc->table_cnt; i++) {
                if (cdc_topic_name(names[i], sizeof(names[i]), pc->source_name,
                                   pc->mysql_db, pc->tables[i].name))
                        return 0; /* cdc_emit_new() refused it already */
                topics[i] = names[i];
        }
        memset(&o, 0, sizeof(o));
        o.topics    = topics;
        o.topic_cnt = pc->table_cnt;
        o.ckpt_topic =
                pc->store == CDC_CKPT_STORE_KAFKA ? pc->ckpt_topic_buf : NULL;
        o.create             = pc->topics_create;
        o.partitions         = (int)pc->topics_partitions;
        o.replication_factor = (int)pc->topics_rf;
        o.require_compact    = pc->topics_require_compact;
        o.timeout_ms         = 5000;
        if (!o.create && !o.require_compact) {
                /* only warnings to give: don't delay the start */
                pe->pe_topics = cdc_topics_start(cdc_kprod_rk(pe->pe_kp), &o,
                                                 cdc_now_us() / 1000);
                return 0;
        }
        if (cdc_topics_check(cdc_kprod_rk(pe->pe_kp), &o, &res, errstr,
                             errstr_size))
                return -1;
        cdc_metric_set(pe->pe_mt.topics_not_compacted, res.not_compacted);
        return 0;
}

static const struct {
        size_t off;
        int gauge; /* 1 gauge, 0 counter, 2 counter of ms */
        const char *name, *help;
} pengine_metrics[] = {
#define _M(f) offsetof(cdc_pengine_t, pe_mt.f)
        { _M(state), 1, "followcdc_producer_state",
          "0 standby, 1 snapshot, 2 streaming, 3 reconnecting, 4 connecting, "
          "5 stopping" },
        { _M(role), 1, "followcdc_producer_role",
          "1 active (holds the source lock), 0 standby" },
        { _M(ready), 1, "followcdc_producer_ready",
          "1 when /readyz answers 200 (active or healthy standby)" },
        { _M(source_up), 1, "followcdc_producer_source_up",
          "0 while the MySQL source can't be reached" },
        { _M(kafka_up), 1, "followcdc_producer_kafka_up",
          "0 while every Kafka broker is down" },
        { _M(acked), 0, "followcdc_producer_events_acked_total",
          "Messages Kafka acknowledged" },
        { _M(dr_errors), 0, "followcdc_producer_delivery_errors_total",
          "Messages Kafka refused for good (the producer stops)" },
        { _M(ckpt_age_s), 1, "followcdc_producer_checkpoint_age_seconds",
          "Seconds since the acknowledged position last moved" },
        { _M(queue), 1, "followcdc_producer_queue_depth",
          "Messages waiting for a Kafka acknowledgement" },
        { _M(inflight), 1, "followcdc_producer_inflight_groups",
          "Transaction groups waiting for Kafka" },
        { _M(snapshot_rows), 0, "followcdc_producer_snapshot_rows_total",
          "Rows read by snapshots" },
        { _M(snapshots), 0, "followcdc_producer_snapshots_total",
          "Snapshots completed" },
        { _M(stream_starts), 0, "followcdc_producer_stream_starts_total",
          "Times the binlog stream was opened" },
        { _M(ckpt_loads), 0, "followcdc_producer_checkpoint_loads_total",
          "Resume positions read from the checkpoint store" },
        { _M(reconnects), 0, "followcdc_producer_reconnects_total",
          "Sessions restarted after a transient failure" },
        { _M(ckpt_writes), 0, "followcdc_producer_checkpoint_writes_total",
          "Checkpoint records written" },
        { _M(ckpt_errors), 0, "followcdc_producer_checkpoint_errors_total",
          "Checkpoint saves that failed (retried)" },
        { _M(lock_lost), 0, "followcdc_producer_lock_lost_total",
          "Times the source lock was lost while active (back to standby)" },
        { _M(purged), 0, "followcdc_producer_positions_purged_total",
          "Times the resume position was no longer on the server" },
        { _M(topics_not_compacted), 1,
          "followcdc_producer_topics_not_compacted",
          "Topics found at start without cleanup.policy=compact" },
        { _M(truncates), 0, "followcdc_producer_truncates_total",
          "TRUNCATEs of a captured table sent as truncate events" },
        { _M(ring_wait_ms), 2,
          "followcdc_producer_publisher_wait_seconds_total",
          "Seconds the main thread waited for room in the publisher's ring "
          "(the publisher behind)" },
        { _M(queue_wait_ms), 2,
          "followcdc_producer_kafka_queue_wait_seconds_total",
          "Seconds messages waited for room in librdkafka's queue (Kafka "
          "acknowledging slower than the binlog comes)" },
#undef _M
};

static void pengine_dr_cb(void *opaque, uint64_t seq, cdc_err_t err,
                          const char *reason) {
        cdc_pengine_t *pe = opaque;
        if (err) {
                /* log the first one: the rest are the same story */
                if (cdc_metric_get(pe->pe_mt.dr_errors) == 0)
                        cdc_log(LOG_ERR, "KPROD",
                                "delivery failed for good: %s",
                                reason ? reason : cdc_err2str(err));
                cdc_metric_add(pe->pe_mt.dr_errors, 1);
                return; /* cdc_kprod_fatal() is set: the loop stops */
        }
        if (seq == CDC_KPROD_SEQ_NONE)
                return; /* a checkpoint record */
        cdc_metric_add(pe->pe_mt.acked, 1);
        if (cdc_inflight_ack(pe->pe_fl, seq))
                cdc_dbg(KPROD, "KPROD", "ack for unknown group %" PRIu64, seq);
}

cdc_err_t cdc_pengine_new(const cdc_pconf_t *pc, const cdc_conf_t *conf,
                          volatile sig_atomic_t *run, cdc_pengine_t **pep,
                          char *errstr, size_t errstr_size) {
        cdc_pengine_t *pe = calloc(1, sizeof(*pe));
        cdc_binlog_opts_t bo;
        cdc_lock_opts_t lo;
        char lockname[200], what[220];
        cdc_err_t err = CDC_ERR__NOMEM;
        size_t i;

        *pep = NULL;
        snprintf(errstr, errstr_size, "out of memory");
        if (!pe)
                return CDC_ERR__NOMEM;
        pe->pe_pc    = pc;
        pe->pe_conf  = conf;
        pe->pe_run   = run;
        pe->pe_state = -1; /* starting */
        pe->pe_m     = cdc_metrics_new();
        pe->pe_fl =
                cdc_inflight_new((size_t)pc->max_inflight_txns, 10000, 20000);
        pe->pe_bo = cdc_backoff_new(200, 10000);
        if (!pe->pe_m || !pe->pe_fl || !pe->pe_bo ||
            cdc_pbench_new(pc, &pe->pe_pb) ||
            cdc_mysql_target_set(&pe->pe_mysql, pc->mysql_host,
                                 (unsigned)pc->mysql_port, pc->mysql_socket,
                                 pc->mysql_user, pc->mysql_password,
                                 pc->mysql_db) ||
            cdc_mysql_target_set_ssl(&pe->pe_mysql, pc->mysql_ssl_mode,
                                     pc->mysql_ssl_ca, pc->mysql_ssl_cert,
                                     pc->mysql_ssl_key))
                goto fail;
        for (i = 0; i < sizeof(pengine_metrics) / sizeof(*pengine_metrics);
             i++) {
                cdc_metric_t **mp =
                        (cdc_metric_t **)((char *)pe + pengine_metrics[i].off);
                const char *name = pengine_metrics[i].name;
                const char *help = pengine_metrics[i].help;
                switch (pengine_metrics[i].gauge) {
                case 1:
                        *mp = cdc_metrics_gauge(pe->pe_m, name, help, NULL);
                        break;
                case 2:
                        *mp = cdc_metrics_counter_ms(pe->pe_m, name, help,
                                                     NULL);
                        break;
                default:
                        *mp = cdc_metrics_counter(pe->pe_m, name, help, NULL);
                }
        }
        /* "source db1:3306" (the failures' texts say which connection) */
        cdc_mysql_target_where(&pe->pe_mysql, lockname, sizeof(lockname));
        snprintf(what, sizeof(what), "source %s", lockname);
        cdc_retry_init(&pe->pe_rt, "PRODUCER", CDC_DBG_BINLOG, what, 60000);
        cdc_retry_init(&pe->pe_rt_ckpt, "CKPT", CDC_DBG_CKPT, "checkpoint",
                       60000);

        err = CDC_ERR__CONFIG;
        memset(&bo, 0, sizeof(bo));
        bo.target = &pe->pe_mysql;
        bo.db     = pc->mysql_db;
        for (i = 0; i < pc->table_cnt; i++)
                pe->pe_bl_tables[i] = pc->table_names[i];
        bo.tables    = pe->pe_bl_tables;
        bo.table_cnt = pc->table_cnt;
        if (pc->repair_signal_table && *pc->repair_signal_table)
                pe->pe_bl_tables[bo.table_cnt++] = pc->repair_signal_table;
        bo.server_id          = (uint32_t)pc->mysql_server_id;
        bo.source_tz          = pc->source_tz;
        bo.heartbeat_ms       = (int)pc->mysql_heartbeat_ms;
        bo.connect_timeout_ms = (int)pc->mysql_connect_timeout_ms;
        bo.read_timeout_ms    = (int)pc->mysql_read_timeout_ms;
        pe->pe_bl             = cdc_binlog_new(&bo, errstr, errstr_size);
        if (!pe->pe_bl)
                goto fail;
        if (!cdc_pbench_decode_only(pe->pe_pb)) {
                /* producer.transactions: one transactional.id per
                 * source, so a new active instance fences the old one */
                const char *tid = NULL;
                if (pc->transactions) {
                        tid = cdc_conf_kafka_get(conf, "transactional.id");
                        if (!tid || !*tid)
                                tid = pc->source_name;
                }
                pe->pe_kp = cdc_kprod_new_txn(conf, tid, (int)pc->threads_nice,
                                              pengine_dr_cb, pe, run, errstr,
                                              errstr_size);
                if (!pe->pe_kp)
                        goto fail;
                pe->pe_txn = cdc_kprod_transactional(pe->pe_kp);
                if (pc->publish_thread &&
                    cdc_kprod_publisher_start(pe->pe_kp, errstr, errstr_size)) {
                        /* slower, not wrong */
                        cdc_log(LOG_WARNING, "PRODUCER",
                                "no publisher thread (%s): publishing from "
                                "the main thread",
                                errstr);
                        errstr[0] = '\0';
                }
        }
        /* bench.decode.only saves nothing, but a file store still gives
         * the position to start from */
        if (pc->store == CDC_CKPT_STORE_FILE)
                pe->pe_ck = cdc_ckpt_new_file(pc->ckpt_file, pc->source_name,
                                              errstr, errstr_size);
        else if (pe->pe_kp)
                pe->pe_ck = cdc_ckpt_new_kafka(
                        conf, pe->pe_kp, pc->ckpt_topic_buf, pc->source_name,
                        errstr, errstr_size);
        if (!pe->pe_ck && !cdc_pbench_decode_only(pe->pe_pb))
                goto fail;
        pe->pe_em = cdc_emit_new(pc, pe->pe_kp, pe->pe_fl, pe->pe_m, errstr,
                                 errstr_size);
        if (!pe->pe_em)
                goto fail;
        if (pe->pe_kp && pengine_topics(pe, errstr, errstr_size)) {
                err = CDC_ERR__CONFIG;
                goto fail;
        }
        if (pc->repair_signal_table && *pc->repair_signal_table && pe->pe_kp) {
                pe->pe_rp =
                        cdc_repair_new(pc, &pe->pe_mysql, pe->pe_em, pe->pe_fl,
                                       pe->pe_m, errstr, errstr_size);
                if (!pe->pe_rp)
                        goto fail;
        }
        if (pc->lock_enabled && !cdc_pbench_decode_only(pe->pe_pb)) {
                memset(&lo, 0, sizeof(lo));
                snprintf(lockname, sizeof(lockname), "followcdc:%s",
                         pc->source_name);
                lo.target     = &pe->pe_mysql;
                lo.name       = lockname;
                lo.timeout_ms = 3000;
                pe->pe_lk     = cdc_lock_new(&lo);
                if (!pe->pe_lk) {
                        err = CDC_ERR__NOMEM;
                        snprintf(errstr, errstr_size, "out of memory");
                        goto fail;
                }
        }
        pe->pe_http = cdc_http_new(pc->http_listen, pe->pe_conf, pe->pe_m,
                                   pengine_ready_cb, pe, errstr, errstr_size);
        if (!pe->pe_http && *errstr)
                goto fail;
        if (pe->pe_http)
                cdc_log(LOG_NOTICE, "HTTP",
                        "serving /metrics /healthz /readyz on port %d",
                        cdc_http_port(pe->pe_http));
        *pep = pe;
        return CDC_ERR_NO_ERROR;
fail:
        cdc_pengine_destroy(pe);
        return err;
}

void cdc_pengine_destroy(cdc_pengine_t *pe) {
        if (!pe)
                return;
        cdc_topics_destroy(pe->pe_topics);
        cdc_http_destroy(pe->pe_http);
        cdc_lock_destroy(pe->pe_lk);
        cdc_repair_destroy(pe->pe_rp);
        cdc_emit_destroy(pe->pe_em);
        cdc_ckpt_destroy(pe->pe_ck);
        cdc_kprod_destroy(pe->pe_kp);
        cdc_binlog_destroy(pe->pe_bl);
        cdc_inflight_destroy(pe->pe_fl);
        cdc_backoff_destroy(pe->pe_bo);
        cdc_pbench_destroy(pe->pe_pb);
        cdc_metrics_destroy(pe->pe_m);
        cdc_mysql_target_clear(&pe->pe_mysql);
        free(pe);
}
