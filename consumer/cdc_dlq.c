/**
 * @file cdc_dlq.c
 * @brief Dead-letter producer (see cdc_dlq.h).
 */
#include "cdc_dlq.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "cdc_log.h"

/* A truncated copy keeps this much of the key and of the value. */
#define DLQ_TRUNC_KEY   1024
#define DLQ_TRUNC_VALUE (16 * 1024)
/* Room left in message.max.bytes for the record's own framing. */
#define DLQ_MARGIN      512

struct cdc_dlq_s {
        rd_kafka_t *dq_rk;
        char *dq_topic;
        size_t dq_max_bytes; /* largest whole copy */
        cdc_dlq_dr_cb_t *dq_dr_cb;
        void *dq_opaque;
};

cdc_dlq_status_t cdc_dlq_classify(rd_kafka_resp_err_t err) {
        switch (err) {
        case RD_KAFKA_RESP_ERR_NO_ERROR:
                return CDC_DLQ_OK;
        case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
        case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
                return CDC_DLQ_TOO_LARGE;
        /* Errors librdkafka does not retry and that a retry of ours will
         * not cure either until the cluster or its ACLs change. */
        case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
        case RD_KAFKA_RESP_ERR__INVALID_ARG:
        case RD_KAFKA_RESP_ERR__AUTHENTICATION:
        case RD_KAFKA_RESP_ERR__FATAL:
        case RD_KAFKA_RESP_ERR_INVALID_REQUIRED_ACKS:
        case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
        case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
        case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
        case RD_KAFKA_RESP_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT:
        case RD_KAFKA_RESP_ERR_POLICY_VIOLATION:
        case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
        case RD_KAFKA_RESP_ERR_INVALID_RECORD:
                return CDC_DLQ_REFUSED;
        default:
                return CDC_DLQ_RETRY;
        }
}

/* @locality main thread, inside rd_kafka_poll/flush (cdc_dlq_*) */
static void dlq_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *rkm,
                      void *opaque) {
        cdc_dlq_t *dq = opaque;
        char es[256];
        (void)rk;
        es[0] = '\0';
        if (rkm->err)
                snprintf(es, sizeof(es), "%s: %s", dq->dq_topic,
                         rd_kafka_err2str(rkm->err));
        if (dq->dq_dr_cb)
                dq->dq_dr_cb(dq->dq_opaque, (uint64_t)(uintptr_t)rkm->_private,
                             cdc_dlq_classify(rkm->err), es);
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

cdc_dlq_t *cdc_dlq_new(const cdc_conf_t *conf, const char *topic,
                       cdc_dlq_dr_cb_t *dr_cb, void *opaque, char *errstr,
                       size_t errstr_size) {
        /* Every letter must be acknowledged by all in-sync replicas
         * before the source offset moves on. Failures surface after 30 s
         * so the consumer can re-send rather than wait forever. These are
         * not defaults: the consumer's correctness depends on them. */
        static const char *const dlq_props[][2] = {
                { "acks", "all" },
                { "message.timeout.ms", "30000" },
                { "linger.ms", "5" },
        };
        static const char *const dlq_defaults[][2] = {
                { "bootstrap.servers", "127.0.0.1:9092" },
        };
        cdc_dlq_t *dq = NULL, *ret = NULL;
        rd_kafka_conf_t *kconf = NULL;
        char es[512], num[32];
        size_t i, nsize = sizeof(num);
        long long max;

        dq    = calloc(1, sizeof(*dq));
        kconf = cdc_conf_kafka_dup(conf);
        if (!dq || !kconf || !(dq->dq_topic = strdup(topic))) {
                snprintf(errstr, errstr_size, "out of memory");
                goto out;
        }
        for (i = 0; i < sizeof(dlq_defaults) / sizeof(*dlq_defaults); i++)
                if (!cdc_conf_kafka_get(conf, dlq_defaults[i][0]) &&
                    rd_kafka_conf_set(kconf, dlq_defaults[i][0],
                                      dlq_defaults[i][1], es, sizeof(es))) {
                        snprintf(errstr, errstr_size, "dlq: %s", es);
                        goto out;
                }
        for (i = 0; i < sizeof(dlq_props) / sizeof(*dlq_props); i++)
                if (rd_kafka_conf_set(kconf, dlq_props[i][0], dlq_props[i][1],
                                      es, sizeof(es))) {
                        snprintf(errstr, errstr_size, "dlq: %s", es);
                        goto out;
                }
        /* Copies are sized to what this producer may send (librdkafka
         * refuses bigger ones locally with MSG_SIZE_TOO_LARGE); whatever
         * the consumer fetched, its letter fits. */
        if (rd_kafka_conf_get(kconf, "message.max.bytes", num, &nsize) !=
            RD_KAFKA_CONF_OK) {
                snprintf(errstr, errstr_size, "dlq: message.max.bytes");
                goto out;
        }
        max = strtoll(num, NULL, 10);
        dq->dq_max_bytes =
                max > 2 * DLQ_MARGIN ? (size_t)max - DLQ_MARGIN : DLQ_MARGIN;
        dq->dq_dr_cb  = dr_cb;
        dq->dq_opaque = opaque;
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
                /* late reports must not reach an owner being torn down */
                dq->dq_dr_cb = NULL;
                rd_kafka_flush(dq->dq_rk, timeout_ms);
                rd_kafka_destroy(dq->dq_rk);
        }
        free(dq->dq_topic);
        free(dq);
}

/* Total size of the names and values of \p hdrs. */
static size_t dlq_headers_size(const rd_kafka_headers_t *hdrs) {
        const char *name;
        const void *val;
        size_t i, vsize, sum = 0;

        for (i = 0;
             hdrs && !rd_kafka_header_get_all(hdrs, i, &name, &val, &vsize);
             i++)
                sum += strlen(name) + vsize;
        return sum;
}

/* Our headers: reason, coordinates, original size and hash. */
static int dlq_add_headers(rd_kafka_headers_t *hdrs,
                           const rd_kafka_message_t *rkm, const char *reason,
                           int truncated) {
        static const char hex[] = "0123456789abcdef";
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int mdlen = 0, i;
        char num[32], digest[2 * EVP_MAX_MD_SIZE + 1];
        const char *src = rkm->rkt ? rd_kafka_topic_name(rkm->rkt) : "";

        if (!EVP_Digest(rkm->payload ? rkm->payload : "", rkm->len, md, &mdlen,
                        EVP_sha256(), NULL))
                return -1;
        for (i = 0; i < mdlen; i++) {
                digest[2 * i]     = hex[md[i] >> 4];
                digest[2 * i + 1] = hex[md[i] & 0xf];
        }
        digest[2 * mdlen] = '\0';
        rd_kafka_header_add(hdrs, "followcdc.dlq.reason", -1, reason, -1);
        rd_kafka_header_add(hdrs, "followcdc.dlq.topic", -1, src, -1);
        snprintf(num, sizeof(num), "%" PRId32, rkm->partition);
        rd_kafka_header_add(hdrs, "followcdc.dlq.partition", -1, num, -1);
        snprintf(num, sizeof(num), "%" PRId64, rkm->offset);
        rd_kafka_header_add(hdrs, "followcdc.dlq.offset", -1, num, -1);
        snprintf(num, sizeof(num), "%zu", rkm->len);
        rd_kafka_header_add(hdrs, "followcdc.dlq.value.size", -1, num, -1);
        rd_kafka_header_add(hdrs, "followcdc.dlq.value.sha256", -1, digest, -1);
        if (truncated)
                rd_kafka_header_add(hdrs, "followcdc.dlq.truncated", -1, "1",
                                    -1);
        return 0;
}

cdc_dlq_status_t cdc_dlq_send(cdc_dlq_t *dq, const rd_kafka_message_t *rkm,
                              const char *reason, int truncated, uint64_t id,
                              char *errstr, size_t errstr_size) {
        rd_kafka_headers_t *hdrs = NULL, *orig = NULL;
        rd_kafka_resp_err_t kerr = RD_KAFKA_RESP_ERR_NO_ERROR;
        size_t klen = rkm->key_len, vlen = rkm->len, rlen = strlen(reason);
        cdc_dlq_status_t st = CDC_DLQ_RETRY;
        int tries           = 0;

        if (rd_kafka_message_headers(rkm, &orig))
                orig = NULL;
        /* whole copy: key + value + original headers + ours (< 400 bytes
         * besides the reason) within the producer's limit */
        if (!truncated && klen + vlen + dlq_headers_size(orig) + rlen + 400 >
                                  dq->dq_max_bytes)
                truncated = 1;
        if (truncated) {
                size_t vmax = dq->dq_max_bytes / 2 < DLQ_TRUNC_VALUE
                                      ? dq->dq_max_bytes / 2
                                      : DLQ_TRUNC_VALUE;
                size_t kmax = dq->dq_max_bytes / 8 < DLQ_TRUNC_KEY
                                      ? dq->dq_max_bytes / 8
                                      : DLQ_TRUNC_KEY;
                klen        = klen < kmax ? klen : kmax;
                vlen        = vlen < vmax ? vlen : vmax;
                hdrs        = rd_kafka_headers_new(8);
        } else {
                hdrs = orig ? rd_kafka_headers_copy(orig)
                            : rd_kafka_headers_new(8);
        }
        if (!hdrs || dlq_add_headers(hdrs, rkm, reason, truncated)) {
                snprintf(errstr, errstr_size,
                         "dead-letter copy: out of memory");
                goto out;
        }
        for (;;) {
                kerr = rd_kafka_producev(
                        dq->dq_rk, RD_KAFKA_V_TOPIC(dq->dq_topic),
                        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                        RD_KAFKA_V_KEY(rkm->key, klen),
                        RD_KAFKA_V_VALUE(rkm->payload, vlen),
                        RD_KAFKA_V_HEADERS(hdrs),
                        RD_KAFKA_V_OPAQUE((void *)(uintptr_t)id),
                        RD_KAFKA_V_END);
                if (kerr != RD_KAFKA_RESP_ERR__QUEUE_FULL || ++tries > 50)
                        break;
                /* back-pressure: serve delivery reports and retry */
                rd_kafka_poll(dq->dq_rk, 100);
        }
        if (kerr) {
                snprintf(errstr, errstr_size, "%s: produce: %s", dq->dq_topic,
                         rd_kafka_err2str(kerr));
                st = cdc_dlq_classify(kerr);
                if (st == CDC_DLQ_OK)
                        st = CDC_DLQ_RETRY;
                goto out;
        }
        hdrs = NULL; /* owned by the message now */
        rd_kafka_poll(dq->dq_rk, 0);
        st = CDC_DLQ_OK;
out:
        if (hdrs)
                rd_kafka_headers_destroy(hdrs);
        return st;
}

int cdc_dlq_flush(cdc_dlq_t *dq, int timeout_ms) {
        rd_kafka_flush(dq->dq_rk, timeout_ms);
        return rd_kafka_outq_len(dq->dq_rk);
}

size_t cdc_dlq_max_bytes(const cdc_dlq_t *dq) {
        return dq->dq_max_bytes;
}

const char *cdc_dlq_topic(const cdc_dlq_t *dq) {
        return dq->dq_topic;
}
