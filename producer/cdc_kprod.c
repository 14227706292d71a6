/**
 * @file cdc_kprod.c
 * @brief Idempotent Kafka producer with never-drop back-pressure.
 *
 * Back-pressure follows librdkafka's examples/producer.c: on
 * RD_KAFKA_RESP_ERR__QUEUE_FULL serve delivery reports and retry. Per-row
 * order survives retries because the idempotent producer keeps at most
 * 5 requests in flight per partition and sequences them (KIP-98).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cdc_kprod.h"
#include "cdc_backoff.h"
#include "cdc_log.h"

#define KPROD_TOPICS_MAX 64

struct cdc_kprod_s {
        rd_kafka_t *kp_rk;
        struct {
                char *name;
                rd_kafka_topic_t *rkt;
        } kp_topics[KPROD_TOPICS_MAX];
        int kp_topic_cnt;
        cdc_kprod_dr_cb_t *kp_dr_cb;
        void *kp_opaque;
        volatile sig_atomic_t *kp_run;
        volatile int kp_fatal; /* set from librdkafka's threads (error_cb) */
        volatile sig_atomic_t kp_down; /* all brokers down, not seen up
                                        * since (read by any thread) */
        size_t kp_max_bytes;           /* message.max.bytes in effect */

        /* transactions (producer.transactions=true) */
        int kp_txn;              /* transactional.id set */
        int kp_txn_inited;       /* init_transactions done on this kp_rk */
        int kp_txn_open;         /* begin_transaction done, not ended */
        int kp_txn_abort;        /* must be aborted before the next one */
        int64_t kp_txn_begun_us; /* when the open one began */
        rd_kafka_conf_t *kp_rkc; /* template to make kp_rk again */
        char kp_errstr[512];
        char kp_down_why[256];
};

/* ---- librdkafka callbacks ---- */

static void kprod_log_cb(const rd_kafka_t *rk, int level, const char *fac,
                         const char *buf) {
        (void)rk;
        cdc_log(level, "RDKAFKA", "%s: %s", fac, buf);
}

/* @locality librdkafka thread (no background queue forwarding is set up:
 * error events are served by rd_kafka_poll on the main thread). */
static void kprod_error_cb(rd_kafka_t *rk, int err, const char *reason,
                           void *opaque) {
        cdc_kprod_t *kp = opaque;
        char fatal[256];

        if (err == RD_KAFKA_RESP_ERR__FATAL) {
                rd_kafka_fatal_error(rk, fatal, sizeof(fatal));
                if (!kp->kp_fatal)
                        snprintf(kp->kp_errstr, sizeof(kp->kp_errstr),
                                 "fatal Kafka error: %s", fatal);
                kp->kp_fatal = 1;
                cdc_log(LOG_ERR, "KPROD", "%s", kp->kp_errstr);
                return;
        }
        /* Refused credentials (SASL) or a broker certificate we do not
         * trust (TLS handshake): librdkafka would retry forever and the
         * producer would wait for acks that never come, a stall with
         * nothing but retries in the log. Like the Java client's
         * AuthenticationException, treat it as fatal: stop with the cause
         * (exit 1), the checkpoint still at the last acknowledged change. */
        if (err == RD_KAFKA_RESP_ERR__AUTHENTICATION ||
            err == RD_KAFKA_RESP_ERR__SSL) {
                if (!kp->kp_fatal)
                        snprintf(kp->kp_errstr, sizeof(kp->kp_errstr),
                                 "Kafka %s failed: %s",
                                 err == RD_KAFKA_RESP_ERR__SSL
                                         ? "TLS handshake"
                                         : "authentication",
                                 reason);
                kp->kp_fatal = 1;
                cdc_log(LOG_ERR, "KPROD", "%s", kp->kp_errstr);
                return;
        }
        /* transient: librdkafka reconnects and retries by itself */
        if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
                if (!kp->kp_down)
                        cdc_log(LOG_WARNING, "KPROD", "all brokers down: %s",
                                reason);
                kp->kp_down = 1;
                snprintf(kp->kp_down_why, sizeof(kp->kp_down_why),
                         "all brokers down: %s", reason);
        } else
                cdc_dbg(KPROD, "KPROD", "%s: %s",
                        rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

static void kprod_up(cdc_kprod_t *kp) {
        if (!kp->kp_down)
                return;
        kp->kp_down = 0;
        cdc_log(LOG_NOTICE, "KPROD", "brokers reachable again");
}

static void kprod_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *rkm,
                        void *opaque) {
        cdc_kprod_t *kp = opaque;
        uint64_t seq    = (uint64_t)(uintptr_t)rkm->_private;
        (void)rk;

        if (rkm->err && kp->kp_txn) {
                /* Transactional: the open transaction can't commit any
                 * more; the engine aborts it and resumes from the
                 * checkpoint committed with the last one. */
                snprintf(kp->kp_errstr, sizeof(kp->kp_errstr),
                         "delivery to %s [%d] failed: %s",
                         rd_kafka_topic_name(rkm->rkt), (int)rkm->partition,
                         rd_kafka_err2str(rkm->err));
                kp->kp_txn_abort = 1;
                return;
        }
        if (rkm->err) {
                /* message.timeout.ms=0 and idempotence: librdkafka retries
                 * every retriable error itself, so a failed delivery is
                 * permanent. Skipping it would lose a change: stop. */
                if (!kp->kp_fatal)
                        snprintf(kp->kp_errstr, sizeof(kp->kp_errstr),
                                 "delivery to %s [%d] failed: %s",
                                 rd_kafka_topic_name(rkm->rkt),
                                 (int)rkm->partition,
                                 rd_kafka_err2str(rkm->err));
                kp->kp_fatal = 1;
                if (kp->kp_dr_cb)
                        kp->kp_dr_cb(kp->kp_opaque, seq, CDC_ERR__FATAL,
                                     rd_kafka_err2str(rkm->err));
                return;
        }
        kprod_up(kp); /* a broker acknowledged */
        if (kp->kp_dr_cb)
                kp->kp_dr_cb(kp->kp_opaque, seq, CDC_ERR_NO_ERROR, NULL);
}

/* ---- setup ---- */

static int kprod_default(const cdc_conf_t *conf, rd_kafka_conf_t *rkc,
                         const char *name, const char *value, char *errstr,
                         size_t errstr_size) {
        if (cdc_conf_kafka_get(conf, name))
                return 0;
        if (rd_kafka_conf_set(rkc, name, value, errstr, errstr_size) !=
            RD_KAFKA_CONF_OK)
                return -1;
        return 0;
}

/* A numeric property in effect (set or librdkafka's default); 0 if
 * unknown. */
static long long kprod_conf_num(rd_kafka_conf_t *rkc, const char *name) {
        char v[32];
        size_t vsz = sizeof(v);

        if (rd_kafka_conf_get(rkc, name, v, &vsz) != RD_KAFKA_CONF_OK)
                return 0;
        return strtoll(v, NULL, 10);
}

/* librdkafka never queues a message larger than
 * queue.buffering.max.kbytes (it would wait for room for ever): our
 * default grows to two messages of message.max.bytes; a smaller value
 * set by the user is refused. */
static int kprod_queue_fits(const cdc_conf_t *conf, rd_kafka_conf_t *rkc,
                            size_t max_bytes, char *errstr,
                            size_t errstr_size) {
        const char *mine =
                cdc_conf_kafka_get(conf, "queue.buffering.max.kbytes");
        long long one = (long long)((max_bytes + 1023) / 1024);
        long long kb  = kprod_conf_num(rkc, "queue.buffering.max.kbytes");
        char v[32];

        if (kb >= (mine ? one : 2 * one))
                return 0;
        if (mine) {
                snprintf(errstr, errstr_size,
                         "kafka.queue.buffering.max.kbytes=%s cannot hold a "
                         "message of message.max.bytes=%zu: set it to at "
                         "least %lld",
                         mine, max_bytes, one);
                return -1;
        }
        snprintf(v, sizeof(v), "%lld", 2 * one);
        return rd_kafka_conf_set(rkc, "queue.buffering.max.kbytes", v, errstr,
                                 errstr_size) == RD_KAFKA_CONF_OK
                       ? 0
                       : -1;
}

/* Refuse settings that give up order or durability. */
static int kprod_check_safe(const cdc_conf_t *conf, const char *txn_id,
                            char *errstr, size_t errstr_size) {
        const char *v;
        if (!txn_id && cdc_conf_kafka_get(conf, "transactional.id")) {
                snprintf(errstr, errstr_size,
                         "kafka.transactional.id is set but "
                         "producer.transactions is not: set "
                         "producer.transactions=true");
                return -1;
        }
        v = cdc_conf_kafka_get(conf, "enable.idempotence");
        if (v && strcasecmp(v, "true") && strcmp(v, "1")) {
                snprintf(errstr, errstr_size,
                         "kafka.enable.idempotence must stay true: without "
                         "it a retry can reorder one row's changes");
                return -1;
        }
        v = cdc_conf_kafka_get(conf, "acks");
        if (!v)
                v = cdc_conf_kafka_get(conf, "request.required.acks");
        if (v && strcasecmp(v, "all") && strcmp(v, "-1")) {
                snprintf(errstr, errstr_size,
                         "kafka.acks must be all: the checkpoint moves only "
                         "past changes every in-sync replica holds");
                return -1;
        }
        v = cdc_conf_kafka_get(conf, "max.in.flight.requests.per.connection");
        if (!v)
                v = cdc_conf_kafka_get(conf, "max.in.flight");
        if (v && (strlen(v) != 1 || v[0] < '1' || v[0] > '5')) {
                snprintf(errstr, errstr_size,
                         "kafka.max.in.flight must be 1..5 with the "
                         "idempotent producer");
                return -1;
        }
        return 0;
}

cdc_kprod_t *cdc_kprod_new(const cdc_conf_t *conf, cdc_kprod_dr_cb_t *dr_cb,
                           void *opaque, volatile sig_atomic_t *run,
                           char *errstr, size_t errstr_size) {
        return cdc_kprod_new_txn(conf, NULL, dr_cb, opaque, run, errstr,
                                 errstr_size);
}

cdc_kprod_t *cdc_kprod_new_txn(const cdc_conf_t *conf, const char *txn_id,
                               cdc_kprod_dr_cb_t *dr_cb, void *opaque,
                               volatile sig_atomic_t *run, char *errstr,
                               size_t errstr_size) {
        static const char *const defaults[][2] = {
                { "enable.idempotence", "true" },
                { "acks", "all" },
                { "compression.codec", "lz4" },
                { "linger.ms", "10" },
                { "batch.num.messages", "10000" },
                { "batch.size", "1000000" },
                { "max.in.flight.requests.per.connection", "5" },
                { "message.timeout.ms", "0" },
                /* what waits for acknowledgement: 4 MiB keeps up with the
                 * broker (bench/producer.sh, bench/snapshot.sh) and keeps
                 * a huge transaction's producer small (bench/bigtxn.sh);
                 * raised to hold two messages of message.max.bytes */
                { "queue.buffering.max.kbytes", "4096" },
                { "queue.buffering.max.messages", "100000" },
                { "client.id", "followcdc-producer" },
                { NULL, NULL }
        };
        cdc_kprod_t *kp = NULL, *ret = NULL;
        rd_kafka_conf_t *rkc = NULL;
        int i;

        if (kprod_check_safe(conf, txn_id, errstr, errstr_size))
                goto out;
        kp  = calloc(1, sizeof(*kp));
        rkc = cdc_conf_kafka_dup(conf);
        if (!kp || !rkc) {
                snprintf(errstr, errstr_size, "out of memory");
                goto out;
        }
        for (i = 0; defaults[i][0]; i++) {
                const char *v = defaults[i][1];
                /* a transaction must end within transaction.timeout.ms
                 * (60 s): its messages can't wait for ever. A message
                 * that times out aborts the transaction; nothing is lost,
                 * the engine resumes from the last committed checkpoint */
                if (txn_id && !strcmp(defaults[i][0], "message.timeout.ms"))
                        v = "60000";
                if (kprod_default(conf, rkc, defaults[i][0], v, errstr,
                                  errstr_size))
                        goto out;
        }
        if (txn_id) {
                if (rd_kafka_conf_set(rkc, "transactional.id", txn_id, errstr,
                                      errstr_size) != RD_KAFKA_CONF_OK)
                        goto out;
                kp->kp_txn = 1;
        }
        {
                long long mb = kprod_conf_num(rkc, "message.max.bytes");
                kp->kp_max_bytes =
                        mb > 0 ? (size_t)mb : 1000000; /* librdkafka's */
        }
        if (kprod_queue_fits(conf, rkc, kp->kp_max_bytes, errstr, errstr_size))
                goto out;
        kp->kp_dr_cb  = dr_cb;
        kp->kp_opaque = opaque;
        kp->kp_run    = run;
        rd_kafka_conf_set_opaque(rkc, kp);
        rd_kafka_conf_set_dr_msg_cb(rkc, kprod_dr_cb);
        rd_kafka_conf_set_error_cb(rkc, kprod_error_cb);
        rd_kafka_conf_set_log_cb(rkc, kprod_log_cb);
        if (kp->kp_txn) {
                /* kept to make the producer again (cdc_kprod_reset) */
                kp->kp_rkc = rd_kafka_conf_dup(rkc);
                if (!kp->kp_rkc) {
                        snprintf(errstr, errstr_size, "out of memory");
                        goto out;
                }
        }

        kp->kp_rk = rd_kafka_new(RD_KAFKA_PRODUCER, rkc, errstr, errstr_size);
        if (!kp->kp_rk)
                goto out;
        rkc = NULL; /* owned by kp_rk now */
        ret = kp;
        kp  = NULL;
out:
        if (rkc)
                rd_kafka_conf_destroy(rkc);
        cdc_kprod_destroy(kp);
        return ret;
}

static void kprod_topics_clear(cdc_kprod_t *kp) {
        int i;
        for (i = 0; i < kp->kp_topic_cnt; i++) {
                rd_kafka_topic_destroy(kp->kp_topics[i].rkt);
                free(kp->kp_topics[i].name);
        }
        kp->kp_topic_cnt = 0;
}

void cdc_kprod_destroy(cdc_kprod_t *kp) {
        if (!kp)
                return;
        kprod_topics_clear(kp);
        if (kp->kp_rk)
                rd_kafka_destroy(kp->kp_rk);
        if (kp->kp_rkc)
                rd_kafka_conf_destroy(kp->kp_rkc);
        free(kp);
}

/* ---- produce ---- */

static rd_kafka_topic_t *kprod_topic(cdc_kprod_t *kp, const char *name) {
        rd_kafka_topic_t *rkt;
        char *dup;
        int i;

        for (i = 0; i < kp->kp_topic_cnt; i++)
                if (!strcmp(kp->kp_topics[i].name, name))
                        return kp->kp_topics[i].rkt;
        if (kp->kp_topic_cnt == KPROD_TOPICS_MAX)
                return NULL;
        dup = strdup(name);
        if (!dup)
                return NULL;
        rkt = rd_kafka_topic_new(kp->kp_rk, name, NULL);
        if (!rkt) {
                free(dup);
                return NULL;
        }
        kp->kp_topics[kp->kp_topic_cnt].name = dup;
        kp->kp_topics[kp->kp_topic_cnt].rkt  = rkt;
        kp->kp_topic_cnt++;
        return rkt;
}

/* Queue one message; \p value and \p hdrs are owned from the call. */
static cdc_err_t kprod_send(cdc_kprod_t *kp, const char *topic,
                            int32_t partition, const void *key, size_t keylen,
                            char *value, size_t len, rd_kafka_headers_t *hdrs,
                            uint64_t seq) {
        rd_kafka_topic_t *rkt;
        cdc_err_t err = CDC_ERR__FATAL;
        int waited    = 0;

        if (kp->kp_fatal)
                goto out;
        if (kp->kp_txn && !kp->kp_txn_open) {
                err = cdc_kprod_txn_begin(kp);
                if (err)
                        goto out;
                err = CDC_ERR__FATAL;
        }
        rkt = kprod_topic(kp, topic);
        if (!rkt) {
                snprintf(kp->kp_errstr, sizeof(kp->kp_errstr),
                         "topic %s: cannot create handle", topic);
                goto out;
        }
        while (1) {
                rd_kafka_resp_err_t rerr;
                rerr = rd_kafka_producev(
                        kp->kp_rk, RD_KAFKA_V_RKT(rkt),
                        RD_KAFKA_V_PARTITION(partition),
                        RD_KAFKA_V_MSGFLAGS(value ? RD_KAFKA_MSG_F_FREE : 0),
                        RD_KAFKA_V_VALUE(value, len),
                        RD_KAFKA_V_KEY(key, keylen),
                        RD_KAFKA_V_OPAQUE((void *)(uintptr_t)seq),
                        RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_END);
                if (!rerr) {
                        value = NULL; /* owned by librdkafka */
                        hdrs  = NULL;
                        err   = CDC_ERR_NO_ERROR;
                        break;
                }
                if (rerr == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE) {
                        /* refused locally before anything was queued: the
                         * caller may send a smaller message instead */
                        snprintf(kp->kp_errstr, sizeof(kp->kp_errstr),
                                 "produce to %s: %zu + %zu bytes: %s", topic,
                                 keylen, len, rd_kafka_err2str(rerr));
                        err = CDC_ERR__BAD_EVENT;
                        break;
                }
                if (rerr != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                        snprintf(kp->kp_errstr, sizeof(kp->kp_errstr),
                                 "produce to %s: %s", topic,
                                 rd_kafka_err2str(rerr));
                        kp->kp_fatal = 1;
                        break;
                }
                /* Back-pressure: never drop; serve acks until room. */
                if (!waited++)
                        cdc_dbg(KPROD, "KPROD",
                                "local queue full (%d messages): waiting",
                                rd_kafka_outq_len(kp->kp_rk));
                rd_kafka_poll(kp->kp_rk, 50);
                if (kp->kp_fatal)
                        break;
                if (kp->kp_run && !*kp->kp_run) {
                        err = CDC_ERR__STATE;
                        break;
                }
        }
out:
        free(value);
        if (hdrs)
                rd_kafka_headers_destroy(hdrs);
        return err;
}

cdc_err_t cdc_kprod_produce(cdc_kprod_t *kp, const char *topic,
                            int32_t partition, const void *key, size_t keylen,
                            char *value, size_t len, uint64_t seq) {
        return kprod_send(kp, topic, partition, key, keylen, value, len, NULL,
                          seq);
}

cdc_err_t cdc_kprod_produce_tombstone(cdc_kprod_t *kp, const char *topic,
                                      const void *key, size_t keylen,
                                      const char *hname, const void *hval,
                                      size_t hlen, uint64_t seq) {
        rd_kafka_headers_t *hdrs = NULL;

        if (hname) {
                hdrs = rd_kafka_headers_new(1);
                if (!hdrs ||
                    rd_kafka_header_add(hdrs, hname, -1, hval, (ssize_t)hlen)) {
                        if (hdrs)
                                rd_kafka_headers_destroy(hdrs);
                        snprintf(kp->kp_errstr, sizeof(kp->kp_errstr),
                                 "tombstone header: out of memory");
                        return CDC_ERR__NOMEM;
                }
        }
        return kprod_send(kp, topic, RD_KAFKA_PARTITION_UA, key, keylen, NULL,
                          0, hdrs, seq);
}

int cdc_kprod_poll(cdc_kprod_t *kp, int timeout_ms) {
        return rd_kafka_poll(kp->kp_rk, timeout_ms);
}

cdc_err_t cdc_kprod_flush(cdc_kprod_t *kp, int timeout_ms) {
        if (rd_kafka_flush(kp->kp_rk, timeout_ms) ==
            RD_KAFKA_RESP_ERR__TIMED_OUT)
                return CDC_ERR__TIMED_OUT;
        return CDC_ERR_NO_ERROR;
}

int cdc_kprod_outq_len(cdc_kprod_t *kp) {
        return rd_kafka_outq_len(kp->kp_rk);
}

int cdc_kprod_fatal(const cdc_kprod_t *kp) {
        return kp->kp_fatal;
}

const char *cdc_kprod_errstr(const cdc_kprod_t *kp) {
        return kp->kp_errstr;
}

rd_kafka_t *cdc_kprod_rk(cdc_kprod_t *kp) {
        return kp->kp_rk;
}

size_t cdc_kprod_max_message_bytes(const cdc_kprod_t *kp) {
        return kp->kp_max_bytes;
}

int cdc_kprod_brokers_down(const cdc_kprod_t *kp) {
        return kp->kp_down;
}

const char *cdc_kprod_down_reason(const cdc_kprod_t *kp) {
        return kp->kp_down ? kp->kp_down_why : "";
}

int cdc_kprod_partitions(cdc_kprod_t *kp, const char *topic, int timeout_ms) {
        const struct rd_kafka_metadata *md = NULL;
        rd_kafka_topic_t *rkt              = kprod_topic(kp, topic);
        rd_kafka_resp_err_t rerr;
        int n = -1;

        if (!rkt)
                return -1;
        rerr = rd_kafka_metadata(kp->kp_rk, 0, rkt, &md, timeout_ms);
        if (rerr == RD_KAFKA_RESP_ERR_NO_ERROR && md && md->topic_cnt == 1 &&
            md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR &&
            md->topics[0].partition_cnt > 0)
                n = md->topics[0].partition_cnt;
        if (md)
                rd_kafka_metadata_destroy(md);
        return n;
}

int cdc_kprod_probe(cdc_kprod_t *kp, int timeout_ms) {
        const struct rd_kafka_metadata *md = NULL;
        rd_kafka_resp_err_t rerr;

        if (!kp->kp_down)
                return 1;
        /* any broker answering a metadata request is up */
        rerr = rd_kafka_metadata(kp->kp_rk, 0, NULL, &md, timeout_ms);
        if (md)
                rd_kafka_metadata_destroy(md);
        if (rerr == RD_KAFKA_RESP_ERR_NO_ERROR)
                kprod_up(kp);
        return !kp->kp_down;
}

/* ---- transactions ---- */

/* Map a transactional API error: fatal ends the producer (fenced by a
 * newer instance with the same transactional.id, among others); one that
 * needs an abort marks the open transaction; others are retriable. */
static cdc_err_t kprod_txn_err(cdc_kprod_t *kp, const char *what,
                               rd_kafka_error_t *error) {
        cdc_err_t err;
        if (!error)
                return CDC_ERR_NO_ERROR;
        if (rd_kafka_error_is_fatal(error)) {
                if (!kp->kp_fatal)
                        snprintf(kp->kp_errstr, sizeof(kp->kp_errstr),
                                 "%s: fatal: %s", what,
                                 rd_kafka_error_string(error));
                kp->kp_fatal = 1;
                err          = CDC_ERR__FATAL;
        } else {
                snprintf(kp->kp_errstr, sizeof(kp->kp_errstr), "%s: %s", what,
                         rd_kafka_error_string(error));
                if (rd_kafka_error_txn_requires_abort(error))
                        kp->kp_txn_abort = 1;
                err = CDC_ERR__TRANSPORT;
        }
        rd_kafka_error_destroy(error);
        return err;
}

int cdc_kprod_transactional(const cdc_kprod_t *kp) {
        return kp->kp_txn;
}

cdc_err_t cdc_kprod_txn_init(cdc_kprod_t *kp, int timeout_ms) {
        cdc_err_t err;
        if (!kp->kp_txn || kp->kp_txn_inited)
                return CDC_ERR_NO_ERROR;
        if (kp->kp_fatal)
                return CDC_ERR__FATAL;
        err = kprod_txn_err(kp, "init transactions",
                            rd_kafka_init_transactions(kp->kp_rk, timeout_ms));
        if (!err)
                kp->kp_txn_inited = 1;
        return err;
}

cdc_err_t cdc_kprod_txn_begin(cdc_kprod_t *kp) {
        cdc_err_t err;
        if (!kp->kp_txn || kp->kp_txn_open)
                return CDC_ERR_NO_ERROR;
        if (!kp->kp_txn_inited) {
                snprintf(kp->kp_errstr, sizeof(kp->kp_errstr),
                         "transactions not initialized");
                return CDC_ERR__STATE;
        }
        err = kprod_txn_err(kp, "begin transaction",
                            rd_kafka_begin_transaction(kp->kp_rk));
        if (!err) {
                kp->kp_txn_open     = 1;
                kp->kp_txn_abort    = 0;
                kp->kp_txn_begun_us = cdc_now_us();
        }
        return err;
}

int64_t cdc_kprod_txn_begun_us(const cdc_kprod_t *kp) {
        return kp->kp_txn_open ? kp->kp_txn_begun_us : 0;
}

cdc_err_t cdc_kprod_txn_abort(cdc_kprod_t *kp, int timeout_ms) {
        cdc_err_t err;
        if (!kp->kp_txn_open)
                return CDC_ERR_NO_ERROR;
        if (kp->kp_fatal)
                return CDC_ERR__FATAL;
        err = kprod_txn_err(kp, "abort transaction",
                            rd_kafka_abort_transaction(kp->kp_rk, timeout_ms));
        if (!err) {
                kp->kp_txn_open  = 0;
                kp->kp_txn_abort = 0;
        }
        return err;
}

cdc_err_t cdc_kprod_txn_commit(cdc_kprod_t *kp, int timeout_ms) {
        cdc_err_t err;
        if (!kp->kp_txn_open)
                return CDC_ERR_NO_ERROR;
        if (kp->kp_fatal)
                return CDC_ERR__FATAL;
        if (!kp->kp_txn_abort) {
                /* flushes every message first (serving delivery
                 * reports), then ends the transaction */
                err = kprod_txn_err(
                        kp, "commit transaction",
                        rd_kafka_commit_transaction(kp->kp_rk, timeout_ms));
                if (!err && !kp->kp_txn_abort) {
                        kp->kp_txn_open = 0;
                        return CDC_ERR_NO_ERROR;
                }
                if (err == CDC_ERR__FATAL)
                        return err;
                if (!kp->kp_txn_abort)
                        return err; /* retriable: commit again later */
        }
        /* a message failed or the broker asked for an abort: nothing of
         * this transaction is visible to read_committed readers */
        cdc_log(LOG_WARNING, "KPROD", "transaction aborted: %s", kp->kp_errstr);
        err = cdc_kprod_txn_abort(kp, timeout_ms);
        if (err == CDC_ERR__FATAL)
                return err;
        return CDC_ERR__TRANSPORT; /* aborted (or still to abort) */
}

cdc_err_t cdc_kprod_reset(cdc_kprod_t *kp, char *errstr, size_t errstr_size) {
        rd_kafka_conf_t *rkc;
        if (!kp->kp_rkc) {
                snprintf(errstr, errstr_size, "not a transactional producer");
                return CDC_ERR__STATE;
        }
        rkc = rd_kafka_conf_dup(kp->kp_rkc);
        if (!rkc) {
                snprintf(errstr, errstr_size, "out of memory");
                return CDC_ERR__NOMEM;
        }
        kprod_topics_clear(kp);
        rd_kafka_destroy(kp->kp_rk); /* an open transaction is abandoned:
                                      * the next init_transactions with
                                      * our transactional.id aborts it */
        kp->kp_rk = rd_kafka_new(RD_KAFKA_PRODUCER, rkc, errstr, errstr_size);
        if (!kp->kp_rk) {
                rd_kafka_conf_destroy(rkc);
                kp->kp_fatal = 1;
                return CDC_ERR__FATAL;
        }
        kp->kp_fatal      = 0;
        kp->kp_down       = 0;
        kp->kp_txn_inited = 0;
        kp->kp_txn_open   = 0;
        kp->kp_txn_abort  = 0;
        kp->kp_errstr[0]  = '\0';
        return CDC_ERR_NO_ERROR;
}
