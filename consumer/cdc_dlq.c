/**
 * @file cdc_dlq.c
 * @brief Dead-letter producer (see cdc_dlq.h).
 */
#include "cdc_dlq.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdc_log.h"

struct cdc_dlq_s {
        rd_kafka_t *dq_rk;
        char *dq_topic;
        uint64_t dq_failed;    /* failed deliveries since last good wait */
        uint64_t dq_delivered; /* acknowledged letters since start */
        char dq_errstr[256];
};

/* @locality the thread calling rd_kafka_poll/flush: main thread */
static void dlq_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *rkm,
                      void *opaque) {
        cdc_dlq_t *dq = opaque;
        (void)rk;
        if (rkm->err) {
                dq->dq_failed++;
                snprintf(dq->dq_errstr, sizeof(dq->dq_errstr),
                         "dead-letter delivery to %s failed: %s", dq->dq_topic,
                         rd_kafka_err2str(rkm->err));
        } else {
                dq->dq_delivered++;
        }
}

static void dlq_log_cb(const rd_kafka_t *rk, int level, const char *fac,
                       const char *buf) {
        (void)rk;
        /* The consumer's kafka.* properties are shared with this producer:
         * librdkafka's warnings about consumer-only ones are noise. */
        if (!strcmp(fac, "CONFWARN"))
                return;
        cdc_log(level, "DLQ", "%s: %s", fac, buf);
}

cdc_dlq_t *cdc_dlq_new(rd_kafka_conf_t *kconf, const char *topic, char *errstr,
                       size_t errstr_size) {
        cdc_dlq_t *dq = NULL, *ret = NULL;
        char es[512];

        dq = calloc(1, sizeof(*dq));
        if (!dq || !(dq->dq_topic = strdup(topic))) {
                snprintf(errstr, errstr_size, "out of memory");
                goto out;
        }
        /* Every letter must be acknowledged by all in-sync replicas
         * before the source offset moves on. Failures surface after 30 s
         * so the consumer can re-send rather than wait forever. */
        if (rd_kafka_conf_set(kconf, "acks", "all", es, sizeof(es)) ||
            rd_kafka_conf_set(kconf, "message.timeout.ms", "30000", es,
                              sizeof(es)) ||
            rd_kafka_conf_set(kconf, "linger.ms", "5", es, sizeof(es))) {
                snprintf(errstr, errstr_size, "dlq: %s", es);
                goto out;
        }
        rd_kafka_conf_set_dr_msg_cb(kconf, dlq_dr_cb);
        rd_kafka_conf_set_log_cb(kconf, dlq_log_cb);
        rd_kafka_conf_set_opaque(kconf, dq);
        dq->dq_rk = rd_kafka_new(RD_KAFKA_PRODUCER, kconf, es, sizeof(es));
        if (!dq->dq_rk) {
                snprintf(errstr, errstr_size, "dlq: %s", es);
                goto out;
        }
        kconf = NULL; /* rd_kafka_new took it */
        ret   = dq;
        dq    = NULL;
out:
        if (kconf)
                rd_kafka_conf_destroy(kconf);
        cdc_dlq_destroy(dq, 0);
        return ret;
}

void cdc_dlq_destroy(cdc_dlq_t *dq, int timeout_ms) {
        if (!dq)
                return;
        if (dq->dq_rk) {
                rd_kafka_flush(dq->dq_rk, timeout_ms);
                rd_kafka_destroy(dq->dq_rk);
        }
        free(dq->dq_topic);
        free(dq);
}

cdc_err_t cdc_dlq_send(cdc_dlq_t *dq, const rd_kafka_message_t *rkm,
                       const char *reason, char *errstr, size_t errstr_size) {
        rd_kafka_headers_t *hdrs = NULL, *orig = NULL;
        rd_kafka_resp_err_t kerr;
        char num[32];
        const char *src = rkm->rkt ? rd_kafka_topic_name(rkm->rkt) : "";
        cdc_err_t err   = CDC_ERR__TRANSPORT;
        int tries       = 0;

        if (!rd_kafka_message_headers(rkm, &orig) && orig)
                hdrs = rd_kafka_headers_copy(orig);
        else
                hdrs = rd_kafka_headers_new(4);
        if (!hdrs) {
                snprintf(errstr, errstr_size, "out of memory");
                goto out;
        }
        rd_kafka_header_add(hdrs, "followcdc.dlq.reason", -1, reason, -1);
        rd_kafka_header_add(hdrs, "followcdc.dlq.topic", -1, src, -1);
        snprintf(num, sizeof(num), "%" PRId32, rkm->partition);
        rd_kafka_header_add(hdrs, "followcdc.dlq.partition", -1, num, -1);
        snprintf(num, sizeof(num), "%" PRId64, rkm->offset);
        rd_kafka_header_add(hdrs, "followcdc.dlq.offset", -1, num, -1);

        for (;;) {
                kerr = rd_kafka_producev(
                        dq->dq_rk, RD_KAFKA_V_TOPIC(dq->dq_topic),
                        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                        RD_KAFKA_V_KEY(rkm->key, rkm->key_len),
                        RD_KAFKA_V_VALUE(rkm->payload, rkm->len),
                        RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_END);
                if (kerr != RD_KAFKA_RESP_ERR__QUEUE_FULL || ++tries > 50)
                        break;
                /* back-pressure: serve delivery reports and retry */
                rd_kafka_poll(dq->dq_rk, 100);
        }
        if (kerr) {
                snprintf(errstr, errstr_size, "dead-letter produce: %s",
                         rd_kafka_err2str(kerr));
                goto out;
        }
        hdrs = NULL; /* owned by the message now */
        rd_kafka_poll(dq->dq_rk, 0);
        err = CDC_ERR_NO_ERROR;
out:
        if (hdrs)
                rd_kafka_headers_destroy(hdrs);
        if (err) {
                /* Counted like a failed delivery, so the next
                 * cdc_dlq_wait() reports it and the caller re-sends
                 * instead of storing the offset of a letter never sent. */
                dq->dq_failed++;
                snprintf(dq->dq_errstr, sizeof(dq->dq_errstr), "%s", errstr);
        }
        return err;
}

cdc_err_t cdc_dlq_wait(cdc_dlq_t *dq, int timeout_ms) {
        rd_kafka_flush(dq->dq_rk, timeout_ms);
        if (rd_kafka_outq_len(dq->dq_rk) > 0)
                return CDC_ERR__TIMED_OUT;
        if (dq->dq_failed) {
                dq->dq_failed = 0;
                return CDC_ERR__TRANSPORT;
        }
        return CDC_ERR_NO_ERROR;
}

uint64_t cdc_dlq_delivered(const cdc_dlq_t *dq) {
        return dq->dq_delivered;
}

const char *cdc_dlq_errstr(const cdc_dlq_t *dq) {
        return dq->dq_errstr;
}
