/**
 * @file test_batch.c
 * @brief cdc_batch against librdkafka's in-process mock cluster and an
 *        applier that is never connected (a "flush" is cdc_apply_discard):
 *        a batch mixing valid events, tombstones, poison, an unmapped
 *        table, an event over the caps and a 1.2 MB poison message is
 *        added across several full pipelines, its dead letters settle
 *        (the big one truncated, with its hash), its offsets are stored;
 *        a dropped batch is delivered again. Tombstones: one without
 *        headers (nothing to apply), one whose followcdc.delete header
 *        carries a delete (applied), two with a bad header (not JSON, not
 *        a delete: dead-lettered with the reason).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "cdc_backoff.h"
#include "cdc_batch.h"
#include "cdc_cconf.h"
#include "cdc_event.h"
#include "cdc_kcons.h"

#define BIG (1200 * 1000)

typedef struct fixture_s {
        rd_kafka_mock_cluster_t *mc;
        rd_kafka_t *mrk; /* owns the mock cluster */
        char bootstraps[256];
        cdc_cconf_t cc;
        cdc_metrics_t *m;
        cdc_apply_t *ap;
        cdc_dlq_t *dq;
        cdc_kcons_t *kc;
        cdc_batch_t *b;
        size_t nmsg; /* produced into "t" */
} fixture_t;

/* A follow event as the producer writes it, for \p table. */
static char *event_json(const char *table, int follower, int cols,
                        size_t *lenp) {
        cdc_event_t *ev = cdc_event_new(CDC_OP_CREATE);
        char *s, name[16];
        int i;

        assert_non_null(ev);
        snprintf(ev->source.name, sizeof(ev->source.name), "followcdc");
        snprintf(ev->source.db, sizeof(ev->source.db), "followcdc");
        snprintf(ev->source.table, sizeof(ev->source.table), "%s", table);
        ev->source.seq = (uint64_t)follower;
        /* committed 3 s ago (followcdc_consumer_event_age_seconds) */
        ev->source.ts_ms = cdc_wallclock_ms() - 3000;
        ev->after =
                json_pack("{s:i,s:i,s:i,s:i,s:s}", "id", follower,
                          "follower_id", follower, "followee_id", 7, "status",
                          1, "updated_at", "2026-11-22T05:20:14.000000Z");
        for (i = 0; i < cols; i++) {
                snprintf(name, sizeof(name), "c%d", i);
                json_object_set_new(ev->after, name, json_integer(i));
        }
        s = cdc_event_encode(ev, lenp);
        assert_non_null(s);
        cdc_event_destroy(ev);
        return s;
}

static void produce(rd_kafka_t *p, const char *key, const void *val,
                    size_t len) {
        assert_int_equal(
                rd_kafka_producev(p, RD_KAFKA_V_TOPIC("t"),
                                  RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                  RD_KAFKA_V_KEY(key, strlen(key)),
                                  RD_KAFKA_V_VALUE((void *)val, len),
                                  RD_KAFKA_V_END),
                0);
}

/* A tombstone of \p key with one header \p name = \p val. */
static void produce_tomb(rd_kafka_t *p, const char *key, const char *name,
                         const void *val, size_t len) {
        rd_kafka_headers_t *h = rd_kafka_headers_new(1);
        assert_int_equal(rd_kafka_header_add(h, name, -1, val, (ssize_t)len),
                         0);
        assert_int_equal(rd_kafka_producev(p, RD_KAFKA_V_TOPIC("t"),
                                           RD_KAFKA_V_KEY(key, strlen(key)),
                                           RD_KAFKA_V_VALUE(NULL, 0),
                                           RD_KAFKA_V_HEADERS(h),
                                           RD_KAFKA_V_END),
                         0);
}

/* The delete of edge \p follower -> 7, encoded as the producer does. */
static char *delete_json(int follower, size_t *lenp) {
        cdc_event_t *ev = cdc_event_new(CDC_OP_DELETE);
        char *s;

        assert_non_null(ev);
        snprintf(ev->source.name, sizeof(ev->source.name), "followcdc");
        snprintf(ev->source.db, sizeof(ev->source.db), "followcdc");
        snprintf(ev->source.table, sizeof(ev->source.table), "follow");
        ev->source.seq = 1000;
        ev->before =
                json_pack("{s:i,s:i,s:i,s:i}", "id", follower, "follower_id",
                          follower, "followee_id", 7, "status", 1);
        s = cdc_event_encode(ev, lenp);
        assert_non_null(s);
        cdc_event_destroy(ev);
        return s;
}

static void on_dr(void *opaque, uint64_t id, cdc_dlq_status_t st,
                  const char *errstr) {
        fixture_t *fx = opaque;
        if (fx->b)
                cdc_batch_dr(fx->b, id, st, errstr);
}

static int setup(void **state) {
        static fixture_t fx;
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        cdc_apply_conf_t ac;
        cdc_batch_conf_t bc;
        rd_kafka_t *p;
        char es[256], *v, *big;
        size_t len, i;
        const char *kv[][2] = {
                { "kafka.session.timeout.ms", "6000" },
                { "kafka.heartbeat.interval.ms", "500" },
                { "kafka.enable.auto.commit", "false" },
                { "kafka.log_level", "3" },
                { "topics", "t" },
                { "dlq.topic", "t.dlq" },
        };

        memset(&fx, 0, sizeof(fx));
        rd_kafka_conf_set(conf, "log_level", "3", es, sizeof(es));
        fx.mrk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, es, sizeof(es));
        assert_non_null(fx.mrk);
        fx.mc = rd_kafka_mock_cluster_new(fx.mrk, 1);
        assert_non_null(fx.mc);
        snprintf(fx.bootstraps, sizeof(fx.bootstraps), "%s",
                 rd_kafka_mock_cluster_bootstraps(fx.mc));
        assert_int_equal(rd_kafka_mock_topic_create(fx.mc, "t", 1, 1), 0);
        assert_int_equal(rd_kafka_mock_topic_create(fx.mc, "t.dlq", 1, 1), 0);

        conf = rd_kafka_conf_new();
        rd_kafka_conf_set(conf, "bootstrap.servers", fx.bootstraps, es,
                          sizeof(es));
        rd_kafka_conf_set(conf, "message.max.bytes", "2000000", es, sizeof(es));
        p = rd_kafka_new(RD_KAFKA_PRODUCER, conf, es, sizeof(es));
        assert_non_null(p);
        /* 10 valid events, a tombstone, a poison message, an unmapped
         * table, a 300-column event, a 1.2 MB poison message */
        for (i = 0; i < 10; i++) {
                char key[16];
                snprintf(key, sizeof(key), "[%zu,7]", 100 + i);
                v = event_json("follow", (int)(100 + i), 0, &len);
                produce(p, key, v, len);
                free(v);
        }
        produce(p, "[100,7]", NULL, 0);
        v = delete_json(101, &len);
        produce_tomb(p, "[101,7]", CDC_EVENT_TOMBSTONE_HEADER, v, len);
        free(v);
        produce_tomb(p, "[102,7]", CDC_EVENT_TOMBSTONE_HEADER, "{\"op\":", 6);
        v = event_json("follow", 103, 0, &len); /* op c */
        produce_tomb(p, "[103,7]", CDC_EVENT_TOMBSTONE_HEADER, v, len);
        free(v);
        produce(p, "[1,1]", "{\"op\": nope", 11);
        v = event_json("users", 1, 0, &len);
        produce(p, "[1]", v, len);
        free(v);
        v = event_json("follow", 200, 300, &len);
        produce(p, "[200,7]", v, len);
        free(v);
        big = malloc(BIG);
        assert_non_null(big);
        memset(big, 'x', BIG);
        produce(p, "[2,2]", big, BIG);
        free(big);
        fx.nmsg = 18;
        assert_int_equal(rd_kafka_flush(p, 10000), 0);
        rd_kafka_destroy(p);

        assert_int_equal(cdc_cconf_init(&fx.cc, es, sizeof(es)),
                         CDC_ERR_NO_ERROR);
        assert_int_equal(cdc_conf_set(fx.cc.cc_conf, "kafka.bootstrap.servers",
                                      fx.bootstraps, es, sizeof(es)),
                         CDC_ERR_NO_ERROR);
        for (i = 0; i < sizeof(kv) / sizeof(*kv); i++)
                assert_int_equal(cdc_conf_set(fx.cc.cc_conf, kv[i][0], kv[i][1],
                                              es, sizeof(es)),
                                 CDC_ERR_NO_ERROR);
        assert_null(cdc_cconf_finalize(&fx.cc));

        fx.m = cdc_metrics_new();
        assert_non_null(fx.m);
        cdc_cconf_apply_conf(&fx.cc, &ac);
        ac.redis_port = 1; /* never connected */
        ac.max_batch  = 8; /* the pipeline fills mid-batch */
        fx.ap         = cdc_apply_new(&ac, es, sizeof(es));
        assert_non_null(fx.ap);
        fx.dq = cdc_dlq_new(fx.cc.cc_conf, "t.dlq", on_dr, &fx, es, sizeof(es));
        assert_non_null(fx.dq);
        fx.kc = cdc_kcons_new(&fx.cc, NULL, NULL, es, sizeof(es));
        assert_non_null(fx.kc);
        memset(&bc, 0, sizeof(bc));
        bc.max_msgs          = 100;
        bc.max_bytes         = 8 << 20;
        bc.event_max_bytes   = 1 << 20;
        bc.event_max_columns = 256;
        bc.follow_table      = "follow";
        bc.idem_table        = "idempotent_log";
        fx.b = cdc_batch_new(&bc, fx.ap, fx.dq, fx.kc, fx.m, es, sizeof(es));
        assert_non_null(fx.b);
        *state = &fx;
        return 0;
}

static int teardown(void **state) {
        fixture_t *fx = *state;
        cdc_batch_destroy(fx->b);
        fx->b = NULL;
        cdc_kcons_close(fx->kc);
        cdc_kcons_destroy(fx->kc);
        cdc_dlq_destroy(fx->dq, 5000);
        cdc_apply_destroy(fx->ap);
        cdc_metrics_destroy(fx->m);
        cdc_cconf_destroy(&fx->cc);
        rd_kafka_mock_cluster_destroy(fx->mc);
        rd_kafka_destroy(fx->mrk);
        return 0;
}

/* Gather every message of "t" into the batch. */
static void gather(fixture_t *fx) {
        int i;
        for (i = 0; i < 300 && cdc_batch_count(fx->b) < fx->nmsg; i++) {
                rd_kafka_message_t *rkm = cdc_kcons_poll(fx->kc, 100);
                if (rkm)
                        cdc_batch_push(fx->b, rkm);
        }
        assert_int_equal(cdc_batch_count(fx->b), fx->nmsg);
        assert_int_equal(cdc_batch_phase(fx->b), CDC_BATCH_GATHER);
}

static int64_t metric(fixture_t *fx, const char *name) {
        size_t len;
        char *text = cdc_metrics_render(fx->m, &len), *p;
        char pat[128];
        int64_t v = -1;

        assert_non_null(text);
        snprintf(pat, sizeof(pat), "\n%s ", name);
        p = strstr(text, pat);
        if (p)
                v = strtoll(p + strlen(pat), NULL, 10);
        free(text);
        return v;
}

static void test_drop_then_apply(void **state) {
        fixture_t *fx  = *state;
        size_t scripts = 0;
        int fills      = 0, i;
        cdc_err_t err;
        char es[256];

        /* a dropped batch (never added) is delivered again, whole */
        gather(fx);
        assert_int_equal(cdc_batch_drop(fx->b), fx->nmsg);
        assert_int_equal(cdc_batch_phase(fx->b), CDC_BATCH_EMPTY);
        gather(fx);

        /* add: the 8-script pipeline takes 3 events (an event needs room
         * for 4 scripts); the
         * owner flushes (here: discards) and calls again */
        for (;;) {
                err = cdc_batch_add(fx->b);
                if (err != CDC_ERR__QUEUE_FULL)
                        break;
                assert_int_equal(cdc_batch_phase(fx->b), CDC_BATCH_ADD);
                scripts += cdc_apply_pending(fx->ap);
                cdc_apply_discard(fx->ap);
                fills++;
        }
        assert_int_equal(err, CDC_ERR_NO_ERROR);
        assert_int_equal(cdc_batch_phase(fx->b), CDC_BATCH_SETTLE);
        scripts += cdc_apply_pending(fx->ap);
        cdc_apply_discard(fx->ap);
        assert_int_equal(fills, 3);
        /* 10 events and the tombstone's delete, 2 sides each */
        assert_int_equal(scripts, 22);

        /* the dead letters settle */
        for (i = 0; i < 100; i++) {
                err = cdc_batch_letters(fx->b, 100, es, sizeof(es));
                if (err != CDC_ERR__TIMED_OUT)
                        break;
        }
        assert_int_equal(err, CDC_ERR_NO_ERROR);
        assert_int_equal(metric(fx, "followcdc_consumer_messages_total"), 18);
        assert_int_equal(metric(fx, "followcdc_consumer_events_total"), 11);
        assert_int_equal(metric(fx, "followcdc_consumer_tombstones_total"), 4);
        assert_int_equal(
                metric(fx, "followcdc_consumer_tombstone_deletes_total"), 1);
        assert_int_equal(metric(fx, "followcdc_consumer_dead_letters_total"),
                         6);
        assert_int_equal(metric(fx, "followcdc_consumer_unmapped_events_total"),
                         1);
        /* the 300-column event and the 1.2 MB one */
        assert_int_equal(
                metric(fx, "followcdc_consumer_oversized_events_total"), 2);
        /* ages are counted once Redis acknowledged (store), and a dropped
         * batch never counts */
        assert_int_equal(
                metric(fx, "followcdc_consumer_event_age_seconds_count"), 0);
        cdc_batch_store(fx->b);
        assert_int_equal(
                metric(fx, "followcdc_consumer_event_age_seconds_count"), 10);
        assert_int_equal(
                metric(fx,
                       "followcdc_consumer_event_age_seconds_bucket{le=\"2\"}"),
                0);
        assert_int_equal(cdc_batch_phase(fx->b), CDC_BATCH_EMPTY);
        assert_int_equal(cdc_kcons_commit(fx->kc), CDC_ERR_NO_ERROR);
        {
                rd_kafka_topic_partition_list_t *l =
                        rd_kafka_topic_partition_list_new(1);
                rd_kafka_topic_partition_list_add(l, "t", 0);
                assert_int_equal(
                        rd_kafka_committed(cdc_kcons_rk(fx->kc), l, 10000), 0);
                assert_int_equal(l->elems[0].offset, 18);
                rd_kafka_topic_partition_list_destroy(l);
        }
}

/* Read the dead-letter topic: 6 letters, the big one truncated with the
 * hash of the original, the two bad tombstones with their header and the
 * reason. */
static void test_letters_in_the_topic(void **state) {
        fixture_t *fx         = *state;
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_t *c;
        rd_kafka_topic_partition_list_t *l;
        char es[256];
        int n = 0, truncated = 0, unmapped = 0, tombs = 0, i;

        rd_kafka_conf_set(conf, "bootstrap.servers", fx->bootstraps, es,
                          sizeof(es));
        rd_kafka_conf_set(conf, "group.id", "reader", es, sizeof(es));
        rd_kafka_conf_set(conf, "auto.offset.reset", "earliest", es,
                          sizeof(es));
        c = rd_kafka_new(RD_KAFKA_CONSUMER, conf, es, sizeof(es));
        assert_non_null(c);
        l = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(l, "t.dlq", 0)->offset =
                RD_KAFKA_OFFSET_BEGINNING;
        assert_int_equal(rd_kafka_assign(c, l), 0);
        rd_kafka_topic_partition_list_destroy(l);
        for (i = 0; i < 100 && n < 6; i++) {
                rd_kafka_message_t *rkm = rd_kafka_consumer_poll(c, 100);
                rd_kafka_headers_t *h   = NULL;
                const void *v;
                size_t vs;

                if (!rkm)
                        continue;
                if (rkm->err) {
                        rd_kafka_message_destroy(rkm);
                        continue;
                }
                n++;
                assert_int_equal(rd_kafka_message_headers(rkm, &h), 0);
                assert_int_equal(
                        rd_kafka_header_get_last(
                                h, "followcdc.dlq.value.sha256", &v, &vs),
                        0);
                assert_int_equal(vs, 64);
                if (!rd_kafka_header_get_last(h, "followcdc.dlq.truncated", &v,
                                              &vs)) {
                        truncated++;
                        assert_int_equal(rkm->len, 16 * 1024);
                        assert_int_equal(
                                rd_kafka_header_get_last(
                                        h, "followcdc.dlq.value.size", &v, &vs),
                                0);
                        assert_memory_equal(v, "1200000", 7);
                }
                assert_int_equal(rd_kafka_header_get_last(
                                         h, "followcdc.dlq.reason", &v, &vs),
                                 0);
                if (vs > 14 && !memcmp(v, "table \"users\"", 13))
                        unmapped++;
                if (vs > 34 &&
                    !memcmp(v, "tombstone header followcdc.delete: ", 35)) {
                        const void *d;
                        size_t ds;
                        tombs++;
                        assert_null(rkm->payload);
                        assert_int_equal(
                                rd_kafka_header_get_last(
                                        h, CDC_EVENT_TOMBSTONE_HEADER, &d, &ds),
                                0);
                        if (ds == 6)
                                assert_memory_equal(d, "{\"op\":", 6);
                        else
                                assert_non_null(memmem(v, vs, "not d", 5));
                }
                rd_kafka_message_destroy(rkm);
        }
        assert_int_equal(n, 6);
        assert_int_equal(tombs, 2);
        assert_int_equal(truncated, 1);
        assert_int_equal(unmapped, 1);
        rd_kafka_consumer_close(c);
        rd_kafka_destroy(c);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_drop_then_apply),
                cmocka_unit_test(test_letters_in_the_topic),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
