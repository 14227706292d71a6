/**
 * @file cdc_redlq.c
 * @brief Dead-letter reprocessing (see cdc_redlq.h).
 */
#include "cdc_redlq.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <librdkafka/rdkafka.h>

#include "cdc_apply.h"
#include "cdc_backoff.h"
#include "cdc_batch.h"
#include "cdc_event.h"
#include "cdc_log.h"

#define REDLQ_PARTS_MAX 1024
#define REDLQ_IDLE_MS   30000 /* no message for this long: give up */

/* A header's value as text (\p buf), "" when absent. */
static const char *redlq_hdr(rd_kafka_message_t *rkm, const char *name,
                             char *buf, size_t size) {
        rd_kafka_headers_t *h = NULL;
        const void *v;
        size_t len;

        buf[0] = '\0';
        if (rd_kafka_message_headers(rkm, &h) || !h ||
            rd_kafka_header_get_last(h, name, &v, &len) || !v)
                return buf;
        if (len >= size)
                len = size - 1;
        memcpy(buf, v, len);
        buf[len] = '\0';
        return buf;
}

/* Flush the applier, reconnecting with backoff a few times. */
static cdc_err_t redlq_flush(cdc_apply_t *ap, volatile sig_atomic_t *run) {
        int tries;
        cdc_err_t err = CDC_ERR_NO_ERROR;

        for (tries = 0; tries < 10 && *run; tries++) {
                err = cdc_apply_flush(ap);
                if (err == CDC_ERR_NO_ERROR || err == CDC_ERR__CONFIG)
                        return err;
                cdc_log(LOG_WARNING, "REDLQ", "redis: %s (retrying)",
                        cdc_apply_errstr(ap));
                usleep(200000U << (tries < 4 ? tries : 4));
                (void)cdc_apply_connect(ap);
        }
        return err ? err : CDC_ERR__STATE;
}

int cdc_redlq_run(const cdc_cconf_t *cc, volatile sig_atomic_t *run,
                  FILE *out) {
        rd_kafka_conf_t *kc                 = cdc_conf_kafka_dup(cc->cc_conf);
        rd_kafka_t *rk                      = NULL;
        rd_kafka_topic_partition_list_t *tl = NULL;
        const struct rd_kafka_metadata *md  = NULL;
        rd_kafka_topic_t *rkt               = NULL;
        int64_t *high                       = NULL;
        cdc_apply_conf_t ac;
        cdc_batch_conf_t bc;
        cdc_apply_t *ap  = NULL;
        uint64_t letters = 0, applied = 0, failed = 0, skipped = 0;
        int nparts = 0, left = 0, i, ret = 3;
        int64_t idle_since;
        char es[512];

        memset(&bc, 0, sizeof(bc));
        bc.follow_table = cc->follow_table;
        bc.idem_table   = cc->idem_table;
        cdc_cconf_apply_conf(cc, &ac);
        ap = cdc_apply_new(&ac, es, sizeof(es));
        if (!kc || !ap) {
                cdc_log(LOG_ERR, "REDLQ", "%s", ap ? "out of memory" : es);
                ret = 2;
                goto out;
        }
        if (cdc_apply_connect(ap) == CDC_ERR__CONFIG) {
                cdc_log(LOG_ERR, "REDLQ", "redis: %s", cdc_apply_errstr(ap));
                ret = 2;
                goto out;
        }
        if (rd_kafka_conf_set(kc, "group.id", "followcdc-reprocess-dlq", es,
                              sizeof(es)) ||
            rd_kafka_conf_set(kc, "enable.auto.commit", "false", es,
                              sizeof(es)) ||
            rd_kafka_conf_set(kc, "enable.partition.eof", "true", es,
                              sizeof(es))) {
                cdc_log(LOG_ERR, "REDLQ", "kafka: %s", es);
                ret = 2;
                goto out;
        }
        rk = rd_kafka_new(RD_KAFKA_CONSUMER, kc, es, sizeof(es));
        if (!rk) {
                cdc_log(LOG_ERR, "REDLQ", "kafka: %s", es);
                ret = 2;
                goto out;
        }
        kc  = NULL;
        rkt = rd_kafka_topic_new(rk, cc->cc_dlq, NULL);
        if (!rkt || rd_kafka_metadata(rk, 0, rkt, &md, 10000) ||
            md->topic_cnt != 1 || md->topics[0].err ||
            md->topics[0].partition_cnt <= 0) {
                cdc_log(LOG_ERR, "REDLQ",
                        "dead-letter topic %s: no partitions (missing, or "
                        "Kafka unreachable)",
                        cc->cc_dlq);
                goto out;
        }
        nparts = md->topics[0].partition_cnt;
        if (nparts > REDLQ_PARTS_MAX)
                nparts = REDLQ_PARTS_MAX;
        high = calloc((size_t)nparts, sizeof(*high));
        tl   = rd_kafka_topic_partition_list_new(nparts);
        if (!high || !tl)
                goto out;
        for (i = 0; i < nparts; i++) {
                int64_t lo = 0, hi = 0;
                if (rd_kafka_query_watermark_offsets(rk, cc->cc_dlq, i, &lo,
                                                     &hi, 10000)) {
                        cdc_log(LOG_ERR, "REDLQ",
                                "%s [%d]: offsets unknown (Kafka "
                                "unreachable?)",
                                cc->cc_dlq, i);
                        goto out;
                }
                high[i] = hi;
                if (hi > lo) {
                        rd_kafka_topic_partition_list_add(tl, cc->cc_dlq, i)
                                ->offset = lo;
                        left++;
                }
        }
        cdc_log(LOG_NOTICE, "REDLQ",
                "reprocessing dead-letter topic %s: %d partition(s) with "
                "letters",
                cc->cc_dlq, left);
        if (left && rd_kafka_assign(rk, tl)) {
                cdc_log(LOG_ERR, "REDLQ", "assign failed");
                goto out;
        }
        idle_since = cdc_now_us();
        while (left > 0 && *run) {
                rd_kafka_message_t *rkm = rd_kafka_consumer_poll(rk, 500);
                char reason[512], st[256], sp[32], so[32], tr[8];
                cdc_event_t *ev = NULL;
                const char *why = NULL;
                cdc_err_t err;

                if (!rkm) {
                        if (cdc_now_us() - idle_since >
                            (int64_t)REDLQ_IDLE_MS * 1000) {
                                cdc_log(LOG_ERR, "REDLQ",
                                        "no letter for %ds before the end "
                                        "of the topic",
                                        REDLQ_IDLE_MS / 1000);
                                goto out;
                        }
                        continue;
                }
                idle_since = cdc_now_us();
                if (rkm->err) {
                        if (rkm->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                                if (rkm->partition < nparts &&
                                    high[rkm->partition] >= 0) {
                                        high[rkm->partition] = -1;
                                        left--;
                                }
                        } else {
                                cdc_log(LOG_WARNING, "REDLQ", "kafka: %s",
                                        rd_kafka_message_errstr(rkm));
                        }
                        rd_kafka_message_destroy(rkm);
                        continue;
                }
                if (rkm->partition >= nparts ||
                    rkm->offset >= high[rkm->partition] ||
                    high[rkm->partition] < 0) {
                        rd_kafka_message_destroy(rkm);
                        continue; /* written after we started */
                }
                letters++;
                redlq_hdr(rkm, "followcdc.dlq.reason", reason, sizeof(reason));
                redlq_hdr(rkm, "followcdc.dlq.topic", st, sizeof(st));
                redlq_hdr(rkm, "followcdc.dlq.partition", sp, sizeof(sp));
                redlq_hdr(rkm, "followcdc.dlq.offset", so, sizeof(so));
                redlq_hdr(rkm, "followcdc.dlq.truncated", tr, sizeof(tr));
                if (!rkm->payload) {
                        skipped++;
                } else if (!strcmp(tr, "1")) {
                        why = "a truncated copy: re-read the original from "
                              "its source coordinates";
                } else if ((err = cdc_event_parse(rkm->payload, rkm->len, &ev,
                                                  es, sizeof(es)))) {
                        why = err == CDC_ERR__NOMEM ? "out of memory" : es;
                } else if (!cdc_batch_table_mapped(&bc, ev->source.table)) {
                        snprintf(es, sizeof(es),
                                 "table \"%s\" is not mapped (follow.table "
                                 "\"%s\", idem.table \"%s\")",
                                 ev->source.table, bc.follow_table,
                                 bc.idem_table);
                        why = es;
                } else {
                        err = cdc_apply_add(ap, ev, es, sizeof(es));
                        if (err == CDC_ERR__QUEUE_FULL) {
                                if ((err = redlq_flush(ap, run))) {
                                        cdc_event_destroy(ev);
                                        rd_kafka_message_destroy(rkm);
                                        goto redis;
                                }
                                err = cdc_apply_add(ap, ev, es, sizeof(es));
                        }
                        if (err)
                                why = es[0] ? es : cdc_err2str(err);
                        else
                                applied++;
                }
                if (why) {
                        failed++;
                        fprintf(out,
                                "FAIL %s/%s@%s (letter %" PRId32 "@%" PRId64
                                "): %s (dead-lettered for: %s)\n",
                                st[0] ? st : "?", sp[0] ? sp : "?",
                                so[0] ? so : "?", rkm->partition, rkm->offset,
                                why, reason);
                }
                cdc_event_destroy(ev);
                if (rkm->offset + 1 >= high[rkm->partition]) {
                        high[rkm->partition] = -1;
                        left--;
                }
                rd_kafka_message_destroy(rkm);
        }
        if (!*run)
                goto out;
        if (redlq_flush(ap, run)) {
redis:
                cdc_log(LOG_ERR, "REDLQ", "redis: %s", cdc_apply_errstr(ap));
                goto out;
        }
        fprintf(out,
                "REPROCESS letters=%" PRIu64 " applied=%" PRIu64
                " failed=%" PRIu64 " skipped=%" PRIu64 "\n",
                letters, applied, failed, skipped);
        ret = failed ? 1 : 0;
out:
        fflush(out);
        if (md)
                rd_kafka_metadata_destroy(md);
        if (tl)
                rd_kafka_topic_partition_list_destroy(tl);
        if (rkt)
                rd_kafka_topic_destroy(rkt);
        if (rk) {
                rd_kafka_consumer_close(rk);
                rd_kafka_destroy(rk);
        }
        if (kc)
                rd_kafka_conf_destroy(kc);
        free(high);
        cdc_apply_destroy(ap);
        return ret;
}
