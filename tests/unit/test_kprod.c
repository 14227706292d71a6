/*
 * Unit tests of the Kafka side of the producer against librdkafka's mock
 * cluster: delivery reports carry the sequence numbers, back-pressure
 * never drops, a permanent error is reported (not skipped), unsafe
 * settings are refused, the Kafka checkpoint store finds the newest record
 * of its source. Each test runs twice: publishing from the calling thread,
 * and through the publisher thread (cdc_kprod_publisher_start()); a few
 * test the publisher's ring itself (order, a stop while it is full,
 * transactions).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "cdc_ckpt.h"
#include "cdc_event.h"
#include "cdc_kprod.h"
#include "cdc_pconf.h"

typedef struct {
        rd_kafka_t *mrk; /* owns the mock cluster */
        rd_kafka_mock_cluster_t *mc;
        cdc_pconf_t pc;
        cdc_conf_t *conf;
        int threaded; /* start the publisher thread */
        uint64_t acked, failed, last_seq;
        uint64_t seen[32768];
} fx_t;

static void dr(void *opaque, uint64_t seq, cdc_err_t err, const char *why) {
        fx_t *fx = opaque;
        (void)why;
        if (err) {
                fx->failed++;
                return;
        }
        if (seq < sizeof(fx->seen) / sizeof(*fx->seen))
                fx->seen[seq]++;
        fx->acked++;
        fx->last_seq = seq;
}

static int fx_setup(void **state) {
        fx_t *fx           = calloc(1, sizeof(*fx));
        rd_kafka_conf_t *c = rd_kafka_conf_new();
        char why[512];

        rd_kafka_conf_set(c, "log_level", "0", NULL, 0);
        fx->mrk = rd_kafka_new(RD_KAFKA_PRODUCER, c, why, sizeof(why));
        if (!fx->mrk)
                return -1;
        fx->mc = rd_kafka_mock_cluster_new(fx->mrk, 1);
        if (!fx->mc)
                return -1;
        rd_kafka_mock_topic_create(fx->mc, "t1", 4, 1);
        rd_kafka_mock_topic_create(fx->mc, "ckpt", 1, 1);
        fx->conf = cdc_conf_new("test", cdc_pconf_props(), &fx->pc, why,
                                sizeof(why));
        if (!fx->conf ||
            cdc_conf_set(fx->conf, "kafka.bootstrap.servers",
                         rd_kafka_mock_cluster_bootstraps(fx->mc), why,
                         sizeof(why)) ||
            cdc_conf_set(fx->conf, "kafka.linger.ms", "1", why, sizeof(why)))
                return -1;
        *state = fx;
        return 0;
}

static int fx_setup_pub(void **state) {
        int r = fx_setup(state);
        if (!r)
                ((fx_t *)*state)->threaded = 1;
        return r;
}

static int fx_teardown(void **state) {
        fx_t *fx = *state;
        cdc_conf_destroy(fx->conf);
        rd_kafka_mock_cluster_destroy(fx->mc);
        rd_kafka_destroy(fx->mrk);
        free(fx);
        return 0;
}

/* cdc_kprod_new(), with the publisher thread when the fixture says so */
static cdc_kprod_t *kp_new(fx_t *fx, const cdc_conf_t *conf,
                           volatile sig_atomic_t *run, char *why,
                           size_t why_size) {
        cdc_kprod_t *kp = cdc_kprod_new(conf, dr, fx, run, why, why_size);
        if (kp && fx->threaded) {
                assert_int_equal(cdc_kprod_publisher_start(kp, why, why_size),
                                 0);
                assert_true(cdc_kprod_publisher_running(kp));
        }
        return kp;
}

static void wait_acks(fx_t *fx, cdc_kprod_t *kp, uint64_t n) {
        int i;
        for (i = 0; i < 200 && fx->acked + fx->failed < n; i++)
                cdc_kprod_poll(kp, 50);
}

/* librdkafka's queue holds 5 messages (set before kp_new()). */
static void tiny_queue(fx_t *fx) {
        char why[512];
        assert_int_equal(cdc_conf_set(fx->conf,
                                      "kafka.queue.buffering.max.messages", "5",
                                      why, sizeof(why)),
                         0);
}

/* \p n messages "k" = "v" to t1, sequence numbers 0 to n - 1. */
static void produce_kv(cdc_kprod_t *kp, uint64_t n) {
        uint64_t i;
        for (i = 0; i < n; i++)
                assert_int_equal(cdc_kprod_produce(kp, "t1",
                                                   RD_KAFKA_PARTITION_UA, "k",
                                                   1, strdup("v"), 1, i),
                                 0);
}

static void test_produce_and_acks(void **state) {
        fx_t *fx                  = *state;
        volatile sig_atomic_t run = 1;
        char why[512];
        cdc_kprod_t *kp;
        uint64_t i;

        kp = kp_new(fx, fx->conf, &run, why, sizeof(why));
        assert_non_null(kp);
        for (i = 0; i < 100; i++) {
                char key[16];
                snprintf(key, sizeof(key), "[%d]", (int)(i % 7));
                assert_int_equal(cdc_kprod_produce(kp, "t1",
                                                   RD_KAFKA_PARTITION_UA, key,
                                                   strlen(key),
                                                   strdup("{\"v\":1}"), 7, i),
                                 0);
        }
        /* a tombstone: NULL value */
        assert_int_equal(cdc_kprod_produce(kp, "t1", RD_KAFKA_PARTITION_UA,
                                           "[1]", 3, NULL, 0, 100),
                         0);
        assert_int_equal(cdc_kprod_flush(kp, 10000), 0);
        wait_acks(fx, kp, 101);
        assert_int_equal(fx->acked, 101);
        assert_int_equal(fx->failed, 0);
        for (i = 0; i <= 100; i++)
                assert_int_equal(fx->seen[i], 1);
        assert_int_equal(cdc_kprod_outq_len(kp), 0);
        assert_false(cdc_kprod_fatal(kp));
        cdc_kprod_destroy(kp);
}

/* A tiny local queue: produce waits (serving acks) instead of dropping. */
static void test_backpressure(void **state) {
        fx_t *fx                  = *state;
        volatile sig_atomic_t run = 1;
        char why[512];
        cdc_kprod_t *kp;

        tiny_queue(fx);
        kp = kp_new(fx, fx->conf, &run, why, sizeof(why));
        assert_non_null(kp);
        produce_kv(kp, 300);
        cdc_kprod_flush(kp, 10000);
        wait_acks(fx, kp, 300);
        assert_int_equal(fx->acked, 300);
        cdc_kprod_destroy(kp);
}

/* Back-pressure is counted where it happens: librdkafka's queue of 5
 * holds every message back (its wait counted); with the publisher, the
 * ring of CDC_KPROD_RING fills behind it and produce waits too (counted
 * apart). Nothing waits with a queue that holds everything. */
static void test_wait_counters(void **state) {
        fx_t *fx                  = *state;
        volatile sig_atomic_t run = 1;
        const uint64_t n          = CDC_KPROD_RING + 200;
        int64_t ring_us, queue_us;
        char why[512];
        cdc_kprod_t *kp;

        kp = kp_new(fx, fx->conf, &run, why, sizeof(why));
        assert_non_null(kp);
        produce_kv(kp, 50);
        assert_int_equal(cdc_kprod_flush(kp, 10000), 0);
        cdc_kprod_waits(kp, &ring_us, &queue_us);
        assert_int_equal(ring_us, 0);
        assert_int_equal(queue_us, 0);
        cdc_kprod_destroy(kp);

        fx->acked = 0;
        memset(fx->seen, 0, sizeof(fx->seen));
        tiny_queue(fx);
        kp = kp_new(fx, fx->conf, &run, why, sizeof(why));
        assert_non_null(kp);
        produce_kv(kp, n);
        assert_int_equal(cdc_kprod_flush(kp, 30000), 0);
        wait_acks(fx, kp, n);
        assert_int_equal(fx->acked, n);
        cdc_kprod_waits(kp, &ring_us, &queue_us);
        assert_true(queue_us > 0);
        if (fx->threaded)
                assert_true(ring_us > 0);
        else
                assert_int_equal(ring_us, 0);
        cdc_kprod_destroy(kp);
}

/* A permanent error reaches the callback and stops the producer. */
static void test_permanent_error(void **state) {
        fx_t *fx                  = *state;
        volatile sig_atomic_t run = 1;
        char why[512];
        cdc_kprod_t *kp;

        kp = kp_new(fx, fx->conf, &run, why, sizeof(why));
        assert_non_null(kp);
        rd_kafka_mock_push_request_errors(
                fx->mc, 0 /* ApiKey Produce */, 3,
                RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED,
                RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED,
                RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
        assert_int_equal(
                cdc_kprod_produce(kp, "t1", 0, "k", 1, strdup("v"), 1, 1), 0);
        cdc_kprod_flush(kp, 5000);
        wait_acks(fx, kp, 1);
        assert_int_equal(fx->failed, 1);
        assert_int_equal(fx->acked, 0);
        assert_true(cdc_kprod_fatal(kp));
        assert_non_null(strstr(cdc_kprod_errstr(kp), "authorization"));
        /* and nothing more is accepted */
        assert_int_equal(
                cdc_kprod_produce(kp, "t1", 0, "k", 1, strdup("v"), 1, 2),
                CDC_ERR__FATAL);
        cdc_kprod_destroy(kp);
}

/* A message over message.max.bytes is refused before it is queued, and
 * the producer stays usable: the caller can send a smaller one. */
static void test_too_large_not_fatal(void **state) {
        fx_t *fx                  = *state;
        volatile sig_atomic_t run = 1;
        size_t big                = 30000;
        char why[512], *v;
        cdc_kprod_t *kp;

        assert_int_equal(cdc_conf_set(fx->conf, "kafka.message.max.bytes",
                                      "20000", why, sizeof(why)),
                         0);
        kp = kp_new(fx, fx->conf, &run, why, sizeof(why));
        assert_non_null(kp);
        assert_int_equal(cdc_kprod_max_message_bytes(kp), 20000);
        v = malloc(big);
        assert_non_null(v);
        memset(v, 'x', big);
        assert_int_equal(cdc_kprod_produce(kp, "t1", RD_KAFKA_PARTITION_UA,
                                           "[1]", 3, v, big, 1),
                         CDC_ERR__BAD_EVENT);
        assert_non_null(strstr(cdc_kprod_errstr(kp), "too large"));
        assert_false(cdc_kprod_fatal(kp));
        assert_int_equal(cdc_kprod_produce(kp, "t1", RD_KAFKA_PARTITION_UA,
                                           "[1]", 3, strdup("{}"), 2, 2),
                         0);
        cdc_kprod_flush(kp, 10000);
        wait_acks(fx, kp, 1);
        assert_int_equal(fx->acked, 1);
        assert_int_equal(fx->last_seq, 2);
        cdc_kprod_destroy(kp);
}

/* A property the user set under librdkafka's other name keeps the user's
 * value: our defaults are applied under one name each
 * (max.in.flight.requests.per.connection=5 used to override
 * kafka.max.in.flight=1, the dev broker then lost acknowledged messages
 * to injected Produce errors). */
static void test_user_alias_wins(void **state) {
        fx_t *fx                          = *state;
        static const char *const set[][3] = {
                /* set as, value, read as */
                { "kafka.max.in.flight", "1",
                  "max.in.flight.requests.per.connection" },
                { "kafka.queue.buffering.max.ms", "50", "linger.ms" },
                { "kafka.compression.type", "gzip", "compression.codec" },
                { "kafka.delivery.timeout.ms", "300000", "message.timeout.ms" },
                { NULL, NULL, NULL }
        };
        volatile sig_atomic_t run = 1;
        char why[512], v[64];
        size_t vsz;
        cdc_kprod_t *kp;
        int i;

        for (i = 0; set[i][0]; i++)
                assert_int_equal(cdc_conf_set(fx->conf, set[i][0], set[i][1],
                                              why, sizeof(why)),
                                 0);
        kp = kp_new(fx, fx->conf, &run, why, sizeof(why));
        assert_non_null(kp);
        for (i = 0; set[i][0]; i++) {
                vsz = sizeof(v);
                assert_int_equal(
                        rd_kafka_conf_get(rd_kafka_conf(cdc_kprod_rk(kp)),
                                          set[i][2], v, &vsz),
                        RD_KAFKA_CONF_OK);
                assert_string_equal(v, set[i][1]);
        }
        cdc_kprod_destroy(kp);
}

/* The queue of messages waiting for acknowledgement always holds a
 * message of message.max.bytes (librdkafka would wait for room for ever):
 * the default grows to two of them, a user's smaller value is refused. */
static void queue_kbytes(cdc_kprod_t *kp, char *v, size_t size) {
        assert_int_equal(rd_kafka_conf_get(rd_kafka_conf(cdc_kprod_rk(kp)),
                                           "queue.buffering.max.kbytes", v,
                                           &size),
                         RD_KAFKA_CONF_OK);
}

static void test_queue_holds_largest(void **state) {
        fx_t *fx                  = *state;
        volatile sig_atomic_t run = 1;
        size_t big                = 6000000;
        char why[512], v[32], *m;
        cdc_kprod_t *kp;

        /* the default: 4 MiB */
        kp = kp_new(fx, fx->conf, &run, why, sizeof(why));
        assert_non_null(kp);
        queue_kbytes(kp, v, sizeof(v));
        assert_string_equal(v, "4096");
        cdc_kprod_destroy(kp);

        /* 10 MB messages: room for two, and a 6 MB one is delivered */
        assert_int_equal(cdc_conf_set(fx->conf, "kafka.message.max.bytes",
                                      "10000000", why, sizeof(why)),
                         0);
        kp = kp_new(fx, fx->conf, &run, why, sizeof(why));
        assert_non_null(kp);
        queue_kbytes(kp, v, sizeof(v));
        assert_string_equal(v, "19532");
        m = malloc(big);
        assert_non_null(m);
        memset(m, 'x', big);
        assert_int_equal(cdc_kprod_produce(kp, "t1", RD_KAFKA_PARTITION_UA,
                                           "[1]", 3, m, big, 1),
                         0);
        cdc_kprod_flush(kp, 10000);
        wait_acks(fx, kp, 1);
        assert_int_equal(fx->acked, 1);
        cdc_kprod_destroy(kp);

        /* a queue set too small for one of them is a configuration error */
        assert_int_equal(cdc_conf_set(fx->conf,
                                      "kafka.queue.buffering.max.kbytes",
                                      "8000", why, sizeof(why)),
                         0);
        why[0] = '\0';
        kp     = kp_new(fx, fx->conf, &run, why, sizeof(why));
        assert_null(kp);
        assert_non_null(strstr(why, "at least 9766"));
}

/* Brokers down is a state of its own, cleared when a broker answers. */
static void test_brokers_down_and_probe(void **state) {
        fx_t *fx                  = *state;
        volatile sig_atomic_t run = 1;
        char why[512];
        cdc_kprod_t *kp;
        int i;

        kp = kp_new(fx, fx->conf, &run, why, sizeof(why));
        assert_non_null(kp);
        assert_int_equal(
                cdc_kprod_produce(kp, "t1", 0, "k", 1, strdup("v"), 1, 1), 0);
        cdc_kprod_flush(kp, 10000);
        assert_false(cdc_kprod_brokers_down(kp));
        assert_true(cdc_kprod_probe(kp, 100));
        assert_string_equal(cdc_kprod_down_reason(kp), "");

        rd_kafka_mock_broker_set_down(fx->mc, 1);
        for (i = 0; i < 300 && !cdc_kprod_brokers_down(kp); i++)
                cdc_kprod_poll(kp, 100);
        assert_true(cdc_kprod_brokers_down(kp));
        assert_non_null(strstr(cdc_kprod_down_reason(kp), "brokers down"));
        assert_false(cdc_kprod_fatal(kp));

        rd_kafka_mock_broker_set_up(fx->mc, 1);
        for (i = 0; i < 60 && !cdc_kprod_probe(kp, 500); i++)
                cdc_kprod_poll(kp, 100);
        assert_false(cdc_kprod_brokers_down(kp));
        cdc_kprod_destroy(kp);
}

static void test_unsafe_settings(void **state) {
        fx_t *fx                          = *state;
        static const char *const bad[][2] = {
                { "kafka.enable.idempotence", "false" },
                { "kafka.acks", "1" },
                { "kafka.max.in.flight.requests.per.connection", "10" },
                { "kafka.max.in.flight", "6" },
                { "kafka.request.required.acks", "1" },
                /* only through producer.transactions=true */
                { "kafka.transactional.id", "x" },
                { NULL, NULL }
        };
        volatile sig_atomic_t run = 1;
        char why[512];
        int i;

        for (i = 0; bad[i][0]; i++) {
                cdc_pconf_t pc;
                cdc_conf_t *conf;
                memset(&pc, 0, sizeof(pc));
                conf = cdc_conf_new("t", cdc_pconf_props(), &pc, why,
                                    sizeof(why));
                assert_int_equal(cdc_conf_set(conf, bad[i][0], bad[i][1], why,
                                              sizeof(why)),
                                 0);
                why[0] = '\0';
                assert_null(kp_new(fx, conf, &run, why, sizeof(why)));
                assert_true(strlen(why) > 0);
                cdc_conf_destroy(conf);
        }
}

/* Kafka checkpoint store: newest record of our source wins, other
 * sources sharing the topic are skipped, none -> NOENT. */
static void test_kafka_store(void **state) {
        fx_t *fx                  = *state;
        volatile sig_atomic_t run = 1;
        char why[512];
        cdc_kprod_t *kp;
        cdc_ckpt_t *a, *b, *c;
        cdc_pos_t p, out;
        int i;

        kp = kp_new(fx, fx->conf, &run, why, sizeof(why));
        assert_non_null(kp);
        a = cdc_ckpt_new_kafka(fx->conf, kp, "ckpt", "srcA", why, sizeof(why));
        b = cdc_ckpt_new_kafka(fx->conf, kp, "ckpt", "srcB", why, sizeof(why));
        c = cdc_ckpt_new_kafka(fx->conf, kp, "ckpt", "srcC", why, sizeof(why));
        assert_non_null(a);
        assert_int_equal(cdc_ckpt_load(a, &out, 10000, why, sizeof(why)),
                         CDC_ERR__NOENT);
        memset(&p, 0, sizeof(p));
        snprintf(p.file, sizeof(p.file), "b.000001");
        for (i = 1; i <= 600; i++) { /* more than one read window */
                snprintf(p.gtid, sizeof(p.gtid), "0-1-%d", i);
                p.pos = (uint64_t)i;
                assert_int_equal(
                        cdc_ckpt_save(i == 5 ? b : a, &p, why, sizeof(why)), 0);
        }
        assert_int_equal(cdc_kprod_flush(kp, 10000), 0);
        assert_int_equal(cdc_ckpt_load(a, &out, 10000, why, sizeof(why)), 0);
        assert_string_equal(out.gtid, "0-1-600");
        assert_int_equal(cdc_ckpt_load(b, &out, 10000, why, sizeof(why)), 0);
        assert_string_equal(out.gtid, "0-1-5");
        assert_int_equal(out.pos, 5);
        assert_int_equal(cdc_ckpt_load(c, &out, 10000, why, sizeof(why)),
                         CDC_ERR__NOENT);
        cdc_ckpt_destroy(a);
        cdc_ckpt_destroy(b);
        cdc_ckpt_destroy(c);
        cdc_kprod_destroy(kp);
}

/* Read \p n messages of t1 back, in partition order. */
static void consume_check(fx_t *fx, int n, int parts) {
        rd_kafka_conf_t *c = rd_kafka_conf_new();
        rd_kafka_topic_partition_list_t *tp;
        int64_t next[8] = { 0 };
        char why[512];
        rd_kafka_t *rk;
        int got = 0, i, idle = 0;

        rd_kafka_conf_set(c, "bootstrap.servers",
                          rd_kafka_mock_cluster_bootstraps(fx->mc), NULL, 0);
        rd_kafka_conf_set(c, "group.id", "order-check", NULL, 0);
        rd_kafka_conf_set(c, "log_level", "0", NULL, 0);
        rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, why, sizeof(why));
        assert_non_null(rk);
        tp = rd_kafka_topic_partition_list_new(parts);
        for (i = 0; i < parts; i++)
                rd_kafka_topic_partition_list_add(tp, "t1", i)->offset =
                        RD_KAFKA_OFFSET_BEGINNING;
        assert_int_equal(rd_kafka_assign(rk, tp), 0);
        rd_kafka_topic_partition_list_destroy(tp);
        while (got < n && idle < 100) {
                rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
                char val[32], key[128];
                size_t vl;
                long v;
                if (!m) {
                        idle++;
                        continue;
                }
                idle = 0;
                if (m->err) {
                        rd_kafka_message_destroy(m);
                        continue;
                }
                assert_true(m->len == 2000 || m->len < sizeof(val));
                vl = m->len < sizeof(val) ? m->len : sizeof(val) - 1;
                memcpy(val, m->payload, vl);
                val[vl] = '\0';
                v       = strtol(val, NULL, 10);
                /* every partition in the order produced */
                assert_in_range(m->partition, 0, parts - 1);
                assert_true(v >= next[m->partition]);
                assert_int_equal(v % parts, m->partition);
                assert_int_equal(m->len == 2000, v % 97 == 0);
                next[m->partition] = v + 1;
                /* and the key that went with it */
                snprintf(key, sizeof(key),
                         v % 3 ? "k%ld"
                               : "a-key-longer-than-the-ring-slot-keeps-"
                                 "inline-%ld",
                         v);
                assert_int_equal(m->key_len, strlen(key));
                assert_memory_equal(m->key, key, m->key_len);
                got++;
                rd_kafka_message_destroy(m);
        }
        assert_int_equal(got, n);
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
}

/* Many more messages than the ring holds, long keys and short: every one
 * acknowledged once, every partition in the order produced. */
static void test_order(void **state) {
        fx_t *fx                  = *state;
        volatile sig_atomic_t run = 1;
        const int n = 20000, parts = 4;
        char why[512];
        cdc_kprod_t *kp;
        int i;

        kp = kp_new(fx, fx->conf, &run, why, sizeof(why));
        assert_non_null(kp);
        for (i = 0; i < n; i++) {
                char key[128], val[32];
                int klen = snprintf(key, sizeof(key),
                                    i % 3 ? "k%d"
                                          : "a-key-longer-than-the-ring-slot-"
                                            "keeps-inline-%d",
                                    i);
                int vlen = snprintf(val, sizeof(val), "%d", i);
                char *v  = strdup(val);
                if (i % 97 == 0) {
                        /* larger than a ring slot keeps: handed over */
                        v = realloc(v, 2000);
                        assert_non_null(v);
                        memset(v + vlen, ' ', 2000 - (size_t)vlen);
                        vlen = 2000;
                }
                assert_int_equal(cdc_kprod_produce(kp, "t1", i % parts, key,
                                                   (size_t)klen, v,
                                                   (size_t)vlen, (uint64_t)i),
                                 0);
                if (i % 1000 == 0)
                        cdc_kprod_poll(kp, 0);
        }
        assert_int_equal(cdc_kprod_flush(kp, 30000), 0);
        wait_acks(fx, kp, (uint64_t)n);
        assert_int_equal(fx->acked, n);
        assert_int_equal(fx->failed, 0);
        for (i = 0; i < n; i++)
                assert_int_equal(fx->seen[i], 1);
        assert_int_equal(cdc_kprod_outq_len(kp), 0);
        cdc_kprod_destroy(kp);
        consume_check(fx, n, parts);
}

/* A change published as several messages (one sequence number): each
 * message's report counts, whether it is merged with its neighbours on
 * the thread serving librdkafka's queue or reported alone; runs of one
 * number longer than a poll's batch and numbers that come back to an
 * earlier one keep their counts. */
static void test_shared_seq(void **state) {
        fx_t *fx                  = *state;
        volatile sig_atomic_t run = 1;
        const int n = 3000, parts = 3;
        uint64_t want = 0, seq;
        char why[512];
        cdc_kprod_t *kp;
        int i, k, copies;

        kp = kp_new(fx, fx->conf, &run, why, sizeof(why));
        assert_non_null(kp);
        for (i = 0; i < n; i++) {
                /* seq 7 gets 600 messages in a row, more than one batch
                 * gathers; every 10th a second run later on */
                seq    = (uint64_t)(i % 10 == 9 ? i - 9 : i);
                copies = i == 7 ? 600 : 1 + i % 3;
                for (k = 0; k < copies; k++) {
                        char *v = strdup("v");
                        assert_int_equal(cdc_kprod_produce(kp, "t1",
                                                           (i + k) % parts, "k",
                                                           1, v, 1, seq),
                                         0);
                }
                want += (uint64_t)copies;
        }
        assert_int_equal(cdc_kprod_flush(kp, 30000), 0);
        wait_acks(fx, kp, want);
        assert_int_equal(fx->acked, want);
        assert_int_equal(fx->failed, 0);
        for (i = 0; i < n; i++) {
                uint64_t exp = 0;
                int j;
                for (j = 0; j < n; j++)
                        if ((j % 10 == 9 ? j - 9 : j) == i)
                                exp += j == 7 ? 600 : (uint64_t)(1 + j % 3);
                assert_int_equal(fx->seen[i], exp);
        }
        cdc_kprod_destroy(kp);
}

/* Nothing is acknowledged (the broker is down, librdkafka's queue holds
 * 5): the ring fills, produce waits, and ends when the run flag drops;
 * flush times out; destroy drops what is held. */
static void test_stop_while_full(void **state) {
        fx_t *fx                  = *state;
        volatile sig_atomic_t run = 1;
        char why[512];
        cdc_kprod_t *kp;
        int i, k;

        tiny_queue(fx);
        kp = kp_new(fx, fx->conf, &run, why, sizeof(why));
        assert_non_null(kp);
        rd_kafka_mock_broker_set_down(fx->mc, 1);
        /* With the run flag down, produce fails only where it would
         * wait: once the ring is full, librdkafka holding its 5. */
        run = 0;
        for (i = 0; i < CDC_KPROD_RING + 100; i++) {
                cdc_err_t err = cdc_kprod_produce(kp, "t1", 0, "k", 1,
                                                  strdup("v"), 1, (uint64_t)i);
                if (err) {
                        assert_int_equal(err, CDC_ERR__STATE);
                        break;
                }
        }
        assert_in_range(i, CDC_KPROD_RING, CDC_KPROD_RING + 5);
        /* none acknowledged: the queue depth is every message, each once
         * (those of a take being handed over are librdkafka's), and not
         * the error events of the reconnects, which librdkafka's own
         * count has too; an event coming between its two reads can make
         * one reading off by one */
        for (k = 0; k < 3 && cdc_kprod_outq_len(kp) != i; k++)
                usleep(1000);
        assert_int_equal(cdc_kprod_outq_len(kp), i);
        assert_int_equal(cdc_kprod_flush(kp, 200), CDC_ERR__TIMED_OUT);
        assert_int_equal(fx->acked, 0);
        assert_false(cdc_kprod_fatal(kp));
        cdc_kprod_destroy(kp);
        rd_kafka_mock_broker_set_up(fx->mc, 1);
}

/* Transactions through the ring: a commit waits for every message of it,
 * an abort drops what was not handed over, and the next one commits. */
static void test_transactions(void **state) {
        fx_t *fx                  = *state;
        volatile sig_atomic_t run = 1;
        char why[512];
        cdc_kprod_t *kp;
        uint64_t i;

        kp = cdc_kprod_new_txn(fx->conf, "followcdc-test", 0, dr, fx, &run, why,
                               sizeof(why));
        assert_non_null(kp);
        if (fx->threaded)
                assert_int_equal(
                        cdc_kprod_publisher_start(kp, why, sizeof(why)), 0);
        assert_int_equal(cdc_kprod_txn_init(kp, 10000), 0);
        for (i = 0; i < 5000; i++)
                assert_int_equal(cdc_kprod_produce(kp, "t1", (int32_t)(i % 4),
                                                   "k", 1, strdup("1"), 1, i),
                                 0);
        assert_true(cdc_kprod_txn_begun_us(kp) > 0);
        assert_int_equal(cdc_kprod_txn_commit(kp, 30000), 0);
        assert_int_equal(cdc_kprod_txn_begun_us(kp), 0);
        /* committed: every message acknowledged, and reported */
        assert_int_equal(fx->acked, 5000);
        assert_int_equal(cdc_kprod_outq_len(kp), 0);

        for (i = 5000; i < 10000; i++)
                assert_int_equal(cdc_kprod_produce(kp, "t1", (int32_t)(i % 4),
                                                   "k", 1, strdup("2"), 1, i),
                                 0);
        assert_int_equal(cdc_kprod_txn_abort(kp, 30000), 0);
        assert_int_equal(cdc_kprod_txn_begun_us(kp), 0);
        assert_int_equal(cdc_kprod_flush(kp, 10000), 0);

        fx->acked = 0;
        for (i = 10000; i < 11000; i++)
                assert_int_equal(cdc_kprod_produce(kp, "t1", (int32_t)(i % 4),
                                                   "k", 1, strdup("3"), 1, i),
                                 0);
        assert_int_equal(cdc_kprod_txn_commit(kp, 30000), 0);
        assert_int_equal(fx->acked, 1000);
        for (i = 10000; i < 11000; i++)
                assert_int_equal(fx->seen[i], 1);
        assert_false(cdc_kprod_fatal(kp));
        cdc_kprod_destroy(kp);
}

/* ---- producer.threads.nice ---- */

#define TIDS_MAX 256

/* the ids of this process's threads; @returns how many */
static int tids_list(long *tids) {
        DIR *d = opendir("/proc/self/task");
        struct dirent *e;
        int n = 0;

        assert_non_null(d);
        while ((e = readdir(d)) && n < TIDS_MAX)
                if (e->d_name[0] != '.')
                        tids[n++] = strtol(e->d_name, NULL, 10);
        closedir(d);
        return n;
}

/* thread \p tid's name and nice value (field 19 of its stat) */
static int tid_nice(long tid, char *name, size_t name_size) {
        char path[64], buf[1024], *p, *save = NULL;
        int field = 2, nice = 99;
        FILE *fp;
        size_t len;

        snprintf(path, sizeof(path), "/proc/self/task/%ld/comm", tid);
        fp      = fopen(path, "r");
        name[0] = '\0';
        if (fp) {
                if (fgets(name, (int)name_size, fp))
                        name[strcspn(name, "\n")] = '\0';
                fclose(fp);
        }
        snprintf(path, sizeof(path), "/proc/self/task/%ld/stat", tid);
        fp = fopen(path, "r");
        if (!fp)
                return 99; /* ended meanwhile */
        len      = fread(buf, 1, sizeof(buf) - 1, fp);
        buf[len] = '\0';
        fclose(fp);
        p = strrchr(buf, ')'); /* the name may hold blanks */
        assert_non_null(p);
        for (p = strtok_r(p + 1, " ", &save); p; p = strtok_r(NULL, " ", &save))
                if (++field == 19) {
                        nice = (int)strtol(p, NULL, 10);
                        break;
                }
        return nice;
}

/* @returns 1 if a thread not in \p before still bears this thread's
 * name, i.e. has not started to run */
static int new_unstarted(const long *before, int nb) {
        long now[TIDS_MAX];
        char self[64], name[64];
        int n = tids_list(now), i, j;

        /* cmocka runs the tests on the main thread */
        tid_nice((long)getpid(), self, sizeof(self));
        for (i = 0; i < n; i++) {
                for (j = 0; j < nb && before[j] != now[i]; j++)
                        ;
                if (j < nb)
                        continue;
                if (tid_nice(now[i], name, sizeof(name)) != 99 &&
                    !strcmp(name, self))
                        return 1;
        }
        return 0;
}

/* The threads a producer starts (librdkafka's, the publisher) run at
 * the main thread's nice value plus \p add; the main thread keeps its. */
static void check_threads_nice(fx_t *fx, int add) {
        volatile sig_atomic_t run = 1;
        long before[TIDS_MAX], after[TIDS_MAX];
        int nb, na, i, j, base, want, seen = 0, publisher = 0;
        char why[512], name[64];
        cdc_kprod_t *kp;

        base = getpriority(PRIO_PROCESS, 0);
        want = base + add > 19 ? 19 : base + add;
        nb   = tids_list(before);
        kp   = cdc_kprod_new_txn(fx->conf, NULL, add, dr, fx, &run, why,
                                 sizeof(why));
        assert_non_null(kp);
        if (fx->threaded)
                assert_int_equal(
                        cdc_kprod_publisher_start(kp, why, sizeof(why)), 0);
        /* a delivered message: the broker's thread is up */
        fx->acked = 0;
        assert_int_equal(cdc_kprod_produce(kp, "t1", RD_KAFKA_PARTITION_UA, "k",
                                           1, strdup("1"), 1, 1),
                         0);
        wait_acks(fx, kp, 1);
        assert_int_equal(fx->acked, 1);
        /* A thread made by this one that has not run yet still bears its
         * name and nice value: it renames and nices itself first thing,
         * and a thread the first acknowledgement does not need may not
         * have run yet on a busy machine. Wait for that. */
        for (i = 0; i < 200 && new_unstarted(before, nb); i++)
                usleep(10000);
        na = tids_list(after);
        for (i = 0; i < na; i++) {
                int nice;
                for (j = 0; j < nb && before[j] != after[i]; j++)
                        ;
                if (j < nb)
                        continue; /* not the producer's */
                nice = tid_nice(after[i], name, sizeof(name));
                if (nice == 99)
                        continue;
                print_message("thread %s: nice %d (want %d)\n", name, nice,
                              want);
                assert_int_equal(nice, want);
                seen++;
                publisher += !strcmp(name, "publisher");
        }
        /* librdkafka's main thread and at least one broker thread */
        assert_true(seen >= 2);
        assert_int_equal(publisher, fx->threaded);
        assert_int_equal(getpriority(PRIO_PROCESS, 0), base);
        cdc_kprod_destroy(kp);
}

static void test_threads_nice(void **state) {
        check_threads_nice(*state, 7);
        check_threads_nice(*state, 0);
}

#define BOTH(t)                                                                \
        cmocka_unit_test_setup_teardown(t, fx_setup, fx_teardown),             \
                cmocka_unit_test_setup_teardown(t, fx_setup_pub, fx_teardown)

int main(void) {
        const struct CMUnitTest tests[] = {
                BOTH(test_produce_and_acks),
                BOTH(test_backpressure),
                BOTH(test_wait_counters),
                BOTH(test_permanent_error),
                BOTH(test_unsafe_settings),
                BOTH(test_too_large_not_fatal),
                BOTH(test_user_alias_wins),
                BOTH(test_queue_holds_largest),
                BOTH(test_brokers_down_and_probe),
                BOTH(test_kafka_store),
                BOTH(test_order),
                BOTH(test_shared_seq),
                BOTH(test_transactions),
                BOTH(test_threads_nice),
                cmocka_unit_test_setup_teardown(test_stop_while_full,
                                                fx_setup_pub, fx_teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
