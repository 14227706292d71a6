/**
 * @file cdc_vsettle.c
 * @brief Producer checkpoint -> high watermarks -> committed offsets.
 */
#include "cdc_vsettle.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <librdkafka/rdkafka.h>

#include "cdc_ckpt.h"
#include "cdc_log.h"
#include "cdc_snapshot.h"

struct cdc_vsettle_s {
        const cdc_vconf_t *st_vc;
        cdc_ckpt_t *st_ck;
        rd_kafka_t *st_rk;
};

static int64_t vsettle_now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void vsettle_sleep_ms(int ms) {
        struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
        nanosleep(&ts, NULL);
}

cdc_vsettle_t *cdc_vsettle_new(const cdc_vconf_t *vc, char *errstr,
                               size_t errstr_size) {
        cdc_vsettle_t *st   = calloc(1, sizeof(*st));
        rd_kafka_conf_t *kc = NULL;
        char es[512];

        if (!st) {
                snprintf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        st->st_vc = vc;
        if (vc->ckpt_store == 1)
                st->st_ck =
                        cdc_ckpt_new_file(vc->ckpt_file, vc->vc_cc.source_name,
                                          errstr, errstr_size);
        else
                st->st_ck = cdc_ckpt_new_kafka(
                        vc->vc_cc.cc_conf, NULL, vc->vc_ckpt_topic,
                        vc->vc_cc.source_name, errstr, errstr_size);
        if (!st->st_ck)
                goto fail;
        /* reads the group's committed offsets; never joins, never commits */
        kc = cdc_conf_kafka_dup(vc->vc_cc.cc_conf);
        if (kc && !cdc_conf_kafka_get(vc->vc_cc.cc_conf, "bootstrap.servers") &&
            rd_kafka_conf_set(kc, "bootstrap.servers", "127.0.0.1:9092", es,
                              sizeof(es)) != RD_KAFKA_CONF_OK) {
                /* the consumer's default */
                rd_kafka_conf_destroy(kc);
                kc = NULL;
        }
        if (!kc ||
            rd_kafka_conf_set(kc, "group.id", vc->vc_cc.cc_group_id, es,
                              sizeof(es)) != RD_KAFKA_CONF_OK ||
            rd_kafka_conf_set(kc, "enable.auto.commit", "false", es,
                              sizeof(es)) != RD_KAFKA_CONF_OK) {
                snprintf(errstr, errstr_size, "kafka: %s",
                         kc ? es : "out of memory");
                if (kc)
                        rd_kafka_conf_destroy(kc);
                goto fail;
        }
        st->st_rk = rd_kafka_new(RD_KAFKA_CONSUMER, kc, es, sizeof(es));
        if (!st->st_rk) {
                rd_kafka_conf_destroy(kc);
                snprintf(errstr, errstr_size, "kafka: %s", es);
                goto fail;
        }
        return st;
fail:
        cdc_vsettle_destroy(st);
        return NULL;
}

void cdc_vsettle_destroy(cdc_vsettle_t *st) {
        if (!st)
                return;
        cdc_ckpt_destroy(st->st_ck);
        if (st->st_rk)
                rd_kafka_destroy(st->st_rk);
        free(st);
}

/* Step 1: the producer's checkpoint is at or past the read. */
static int vsettle_ckpt_ok(cdc_vsettle_t *st, const cdc_vsnap_t *snap,
                           char *why, size_t why_size) {
        cdc_pos_t pos;
        char es[256];
        cdc_err_t err;
        uint64_t seq;

        memset(&pos, 0, sizeof(pos));
        err = cdc_ckpt_load(st->st_ck, &pos, 5000, es, sizeof(es));
        if (err) {
                snprintf(why, why_size, "producer checkpoint: %s",
                         err == CDC_ERR__NOENT ? "none yet" : es);
                return 0;
        }
        seq = cdc_snapshot_pos_seq(&pos, NULL, NULL, 0);
        if (seq < snap->seq) {
                snprintf(why, why_size,
                         "producer checkpoint at seq %" PRIu64
                         ", read at %" PRIu64,
                         seq, snap->seq);
                return 0;
        }
        return 1;
}

/* Step 2: every partition of the consumer's topics and its high mark. */
static rd_kafka_topic_partition_list_t *vsettle_marks(cdc_vsettle_t *st,
                                                      char *why,
                                                      size_t why_size) {
        const cdc_cconf_t *cc = &st->st_vc->vc_cc;
        rd_kafka_topic_partition_list_t *l =
                rd_kafka_topic_partition_list_new(8);
        int i, p;

        if (!l)
                return NULL;
        for (i = 0; i < cc->cc_topic_cnt; i++) {
                rd_kafka_topic_t *rkt =
                        rd_kafka_topic_new(st->st_rk, cc->cc_topics[i], NULL);
                const struct rd_kafka_metadata *md = NULL;
                rd_kafka_resp_err_t kerr;

                if (!rkt)
                        goto fail;
                kerr = rd_kafka_metadata(st->st_rk, 0, rkt, &md, 5000);
                rd_kafka_topic_destroy(rkt);
                if (kerr || !md || md->topic_cnt != 1) {
                        snprintf(why, why_size, "metadata of %s: %s",
                                 cc->cc_topics[i], rd_kafka_err2str(kerr));
                        if (md)
                                rd_kafka_metadata_destroy(md);
                        goto fail;
                }
                if (md->topics[0].err ==
                    RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
                        /* nothing was ever published to it */
                        rd_kafka_metadata_destroy(md);
                        continue;
                }
                for (p = 0; p < md->topics[0].partition_cnt; p++) {
                        int32_t part = md->topics[0].partitions[p].id;
                        int64_t lo = 0, hi = 0;
                        rd_kafka_topic_partition_t *tp;

                        kerr = rd_kafka_query_watermark_offsets(
                                st->st_rk, cc->cc_topics[i], part, &lo, &hi,
                                5000);
                        if (kerr) {
                                snprintf(why, why_size,
                                         "high watermark of %s [%d]: %s",
                                         cc->cc_topics[i], (int)part,
                                         rd_kafka_err2str(kerr));
                                rd_kafka_metadata_destroy(md);
                                goto fail;
                        }
                        tp = rd_kafka_topic_partition_list_add(
                                l, cc->cc_topics[i], part);
                        /* offset: the mark; opaque: the low mark */
                        tp->offset = hi;
                        tp->opaque = (void *)(intptr_t)lo;
                }
                rd_kafka_metadata_destroy(md);
        }
        return l;
fail:
        rd_kafka_topic_partition_list_destroy(l);
        return NULL;
}

/* Step 3: committed >= mark on every partition. */
static int vsettle_committed_ok(cdc_vsettle_t *st,
                                const rd_kafka_topic_partition_list_t *marks,
                                char *why, size_t why_size) {
        rd_kafka_topic_partition_list_t *c =
                rd_kafka_topic_partition_list_copy(marks);
        rd_kafka_resp_err_t kerr;
        int i, ok = 1;

        if (!c) {
                snprintf(why, why_size, "out of memory");
                return 0;
        }
        kerr = rd_kafka_committed(st->st_rk, c, 5000);
        if (kerr) {
                snprintf(why, why_size, "committed offsets of group %s: %s",
                         st->st_vc->vc_cc.cc_group_id, rd_kafka_err2str(kerr));
                rd_kafka_topic_partition_list_destroy(c);
                return 0;
        }
        for (i = 0; i < c->cnt && ok; i++) {
                int64_t mark = marks->elems[i].offset;
                int64_t low  = (int64_t)(intptr_t)marks->elems[i].opaque;
                int64_t got  = c->elems[i].offset;

                if (mark <= low)
                        continue; /* empty partition */
                if (c->elems[i].err || got < mark) {
                        snprintf(why, why_size,
                                 "group %s at offset %" PRId64
                                 " of %s [%d], high watermark %" PRId64,
                                 st->st_vc->vc_cc.cc_group_id, got,
                                 c->elems[i].topic, (int)c->elems[i].partition,
                                 mark);
                        ok = 0;
                }
        }
        rd_kafka_topic_partition_list_destroy(c);
        return ok;
}

cdc_err_t cdc_vsettle_wait(cdc_vsettle_t *st, const cdc_vsnap_t *snap,
                           int64_t timeout_ms, volatile sig_atomic_t *run,
                           char *errstr, size_t errstr_size) {
        int64_t deadline                       = vsettle_now_ms() + timeout_ms;
        rd_kafka_topic_partition_list_t *marks = NULL;
        char why[512]                          = "";
        int step                               = 1;
        cdc_err_t err                          = CDC_ERR__TIMED_OUT;

        while (!run || *run) {
                if (step == 1 && vsettle_ckpt_ok(st, snap, why, sizeof(why)))
                        step = 2;
                if (step == 2) {
                        marks = vsettle_marks(st, why, sizeof(why));
                        if (marks)
                                step = 3;
                }
                if (step == 3 &&
                    vsettle_committed_ok(st, marks, why, sizeof(why))) {
                        err = CDC_ERR_NO_ERROR;
                        goto out;
                }
                if (vsettle_now_ms() >= deadline)
                        goto out;
                cdc_dbg(KCONS, "VSETTLE", "waiting: %s", why);
                vsettle_sleep_ms(200);
        }
        err = CDC_ERR__STATE;
        snprintf(why, sizeof(why), "stopped");
out:
        if (err)
                snprintf(errstr, errstr_size,
                         "the pipeline did not apply up to the read: %s", why);
        if (marks)
                rd_kafka_topic_partition_list_destroy(marks);
        return err;
}
