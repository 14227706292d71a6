/**
 * @file test_kcons.c
 * @brief cdc_kcons against librdkafka's in-process mock cluster: group
 *        join, manual offset store + synchronous commit, rewind of dropped
 *        work, revoke callback on close, a restart resuming from the
 *        committed offsets, and the lag counting from what was stored.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "cdc_kcons.h"

#define NMSG 40

typedef struct fixture_s {
        rd_kafka_t *prod;
        rd_kafka_mock_cluster_t *mc;
        char bootstraps[256];
} fixture_t;

static int revokes;

static void on_revoke(void *opaque, const rd_kafka_topic_partition_list_t *p) {
        (void)opaque;
        (void)p;
        revokes++;
}

static int setup(void **state) {
        static fixture_t fx;
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        char es[256];
        int i;

        rd_kafka_conf_set(conf, "log_level", "3", es, sizeof(es));
        fx.prod = rd_kafka_new(RD_KAFKA_PRODUCER, conf, es, sizeof(es));
        assert_non_null(fx.prod);
        fx.mc = rd_kafka_mock_cluster_new(fx.prod, 1);
        assert_non_null(fx.mc);
        snprintf(fx.bootstraps, sizeof(fx.bootstraps), "%s",
                 rd_kafka_mock_cluster_bootstraps(fx.mc));
        assert_int_equal(rd_kafka_mock_topic_create(fx.mc, "t", 2, 1), 0);
        /* produce through a client of the cluster */
        conf = rd_kafka_conf_new();
        rd_kafka_conf_set(conf, "bootstrap.servers", fx.bootstraps, es,
                          sizeof(es));
        {
                rd_kafka_t *p =
                        rd_kafka_new(RD_KAFKA_PRODUCER, conf, es, sizeof(es));
                assert_non_null(p);
                for (i = 0; i < NMSG; i++) {
                        char key[16], val[16];
                        snprintf(key, sizeof(key), "k%d", i % 7);
                        snprintf(val, sizeof(val), "v%d", i);
                        assert_int_equal(
                                rd_kafka_producev(
                                        p, RD_KAFKA_V_TOPIC("t"),
                                        RD_KAFKA_V_MSGFLAGS(
                                                RD_KAFKA_MSG_F_COPY),
                                        RD_KAFKA_V_KEY(key, strlen(key)),
                                        RD_KAFKA_V_VALUE(val, strlen(val)),
                                        RD_KAFKA_V_END),
                                0);
                }
                assert_int_equal(rd_kafka_flush(p, 10000), 0);
                rd_kafka_destroy(p);
        }
        *state = &fx;
        return 0;
}

static int teardown(void **state) {
        fixture_t *fx = *state;
        rd_kafka_mock_cluster_destroy(fx->mc);
        rd_kafka_destroy(fx->prod);
        return 0;
}

/* A consumer of the fixture's cluster; \p extra settings (name, value)
 * after the defaults below. */
static cdc_kcons_t *kc_new_with(fixture_t *fx, cdc_cconf_t *cc,
                                const char *const (*extra)[2], size_t nextra) {
        char es[256];
        cdc_kcons_t *kc;
        const char *kv[][2] = {
                { "kafka.bootstrap.servers", fx->bootstraps },
                { "kafka.session.timeout.ms", "6000" },
                { "kafka.heartbeat.interval.ms", "500" },
                { "kafka.auto.offset.reset", "earliest" },
                { "kafka.enable.auto.commit", "false" },
                { "kafka.log_level", "3" },
                { "topics", "t" },
                { "dlq.topic", "t.dlq" },
        };
        size_t i;

        assert_int_equal(cdc_cconf_init(cc, es, sizeof(es)), CDC_ERR_NO_ERROR);
        for (i = 0; i < sizeof(kv) / sizeof(*kv); i++)
                assert_int_equal(cdc_conf_set(cc->cc_conf, kv[i][0], kv[i][1],
                                              es, sizeof(es)),
                                 CDC_ERR_NO_ERROR);
        for (i = 0; i < nextra; i++)
                assert_int_equal(cdc_conf_set(cc->cc_conf, extra[i][0],
                                              extra[i][1], es, sizeof(es)),
                                 CDC_ERR_NO_ERROR);
        assert_null(cdc_cconf_finalize(cc));
        kc = cdc_kcons_new(cc, on_revoke, NULL, es, sizeof(es));
        if (!kc)
                fail_msg("kcons: %s", es);
        return kc;
}

static cdc_kcons_t *kc_new(fixture_t *fx, cdc_cconf_t *cc) {
        return kc_new_with(fx, cc, NULL, 0);
}

/* Poll until \p want messages or \p tenths of a second. */
static size_t kc_read(cdc_kcons_t *kc, rd_kafka_message_t **msgs, size_t want,
                      int tenths) {
        size_t n = 0;
        int i;
        for (i = 0; i < tenths && n < want; i++) {
                rd_kafka_message_t *rkm = cdc_kcons_poll(kc, 100);
                if (rkm)
                        msgs[n++] = rkm;
        }
        return n;
}

/* Messages in the consumer's queue, fetched and not polled. */
static int kc_queued(cdc_kcons_t *kc) {
        rd_kafka_queue_t *q = rd_kafka_queue_get_consumer(cdc_kcons_rk(kc));
        int len;
        assert_non_null(q);
        len = (int)rd_kafka_queue_length(q);
        rd_kafka_queue_destroy(q);
        return len;
}

/* Polls what is queued now into msgs[n..cap). @returns the new n */
static size_t kc_drain(cdc_kcons_t *kc, rd_kafka_message_t **msgs, size_t n,
                       size_t cap) {
        while (n < cap) {
                rd_kafka_message_t *rkm = cdc_kcons_poll(kc, 0);
                if (!rkm)
                        break;
                msgs[n++] = rkm;
        }
        return n;
}

static int64_t committed_sum(cdc_kcons_t *kc) {
        rd_kafka_topic_partition_list_t *l =
                rd_kafka_topic_partition_list_new(2);
        int64_t sum = 0;
        int i;
        rd_kafka_topic_partition_list_add(l, "t", 0);
        rd_kafka_topic_partition_list_add(l, "t", 1);
        assert_int_equal(rd_kafka_committed(cdc_kcons_rk(kc), l, 10000), 0);
        for (i = 0; i < l->cnt; i++)
                if (l->elems[i].offset > 0)
                        sum += l->elems[i].offset;
        rd_kafka_topic_partition_list_destroy(l);
        return sum;
}

static void lag_add(void *opaque, const char *topic, int32_t partition,
                    int64_t lag) {
        (void)topic;
        (void)partition;
        *(int64_t *)opaque += lag;
}

/* The sum of the partitions' lag; -1 if not every partition reported. */
static int64_t lag_sum(cdc_kcons_t *kc) {
        int64_t sum = 0;
        return cdc_kcons_lag(kc, lag_add, &sum) == 2 ? sum : -1;
}

static void test_store_commit_resume(void **state) {
        fixture_t *fx = *state;
        cdc_cconf_t cc;
        cdc_kcons_t *kc;
        rd_kafka_message_t *msgs[NMSG * 2];
        size_t n, i, half;

        kc = kc_new(fx, &cc);
        n  = kc_read(kc, msgs, NMSG, 300);
        assert_int_equal(n, NMSG);
        assert_int_equal(cdc_kcons_assigned(kc), 2);
        assert_true(cdc_kcons_rebalances(kc) >= 1);

        /* nothing stored: nothing to commit, and everything read is
         * still lag (read is not acknowledged) */
        assert_int_equal(cdc_kcons_commit(kc), CDC_ERR_NO_ERROR);
        assert_int_equal(committed_sum(kc), 0);
        assert_int_equal(lag_sum(kc), NMSG);

        /* store the first half only (as if the rest were not acknowledged) */
        half = NMSG / 2;
        assert_int_equal(cdc_kcons_store(kc, msgs, half), CDC_ERR_NO_ERROR);
        assert_int_equal(cdc_kcons_commit(kc), CDC_ERR_NO_ERROR);
        assert_int_equal(committed_sum(kc), (int64_t)half);
        assert_int_equal(lag_sum(kc), (int64_t)(NMSG - half));

        /* drop the second half: rewind re-delivers exactly those */
        cdc_kcons_rewind(kc, msgs + half, NMSG - half);
        for (i = half; i < NMSG; i++)
                rd_kafka_message_destroy(msgs[i]);
        n = kc_read(kc, msgs + half, NMSG - half, 300);
        assert_int_equal(n, NMSG - half);

        revokes = 0;
        cdc_kcons_close(kc);
        assert_int_equal(revokes, 1);
        for (i = 0; i < NMSG; i++)
                rd_kafka_message_destroy(msgs[i]);
        cdc_kcons_destroy(kc);
        cdc_cconf_destroy(&cc);

        /* a new member of the group resumes after the committed half */
        kc = kc_new(fx, &cc);
        n  = kc_read(kc, msgs, NMSG - half, 300);
        assert_int_equal(n, NMSG - half);
        /* and nothing more: the committed half is not re-read */
        assert_int_equal(kc_read(kc, msgs + n, 1, 10), 0);
        for (i = 0; i < n; i++)
                rd_kafka_message_destroy(msgs[i]);
        cdc_kcons_close(kc);
        cdc_kcons_destroy(kc);
        cdc_cconf_destroy(&cc);
}

/* A consumer with \p name = \p value (NULL: none) set by the user; the
 * effective value of \p key in *out. */
static void kc_effective(fixture_t *fx, const char *name, const char *value,
                         const char *key, char *out, size_t outsize) {
        cdc_cconf_t cc;
        cdc_kcons_t *kc;
        char es[256];
        size_t n = outsize;

        assert_int_equal(cdc_cconf_init(&cc, es, sizeof(es)), CDC_ERR_NO_ERROR);
        assert_int_equal(cdc_conf_set(cc.cc_conf, "kafka.bootstrap.servers",
                                      fx->bootstraps, es, sizeof(es)),
                         CDC_ERR_NO_ERROR);
        if (name)
                assert_int_equal(
                        cdc_conf_set(cc.cc_conf, name, value, es, sizeof(es)),
                        CDC_ERR_NO_ERROR);
        assert_int_equal(
                cdc_conf_set(cc.cc_conf, "topics", "t", es, sizeof(es)),
                CDC_ERR_NO_ERROR);
        assert_null(cdc_cconf_finalize(&cc));
        kc = cdc_kcons_new(&cc, on_revoke, NULL, es, sizeof(es));
        if (!kc)
                fail_msg("kcons with %s=%s: %s", name ? name : "-",
                         value ? value : "-", es);
        assert_int_equal(rd_kafka_conf_get(rd_kafka_conf(cdc_kcons_rk(kc)), key,
                                           out, &n),
                         RD_KAFKA_CONF_OK);
        cdc_kcons_close(kc);
        cdc_kcons_destroy(kc);
        cdc_cconf_destroy(&cc);
}

/* The consumer's small fetches (they bound the pre-fetch memory) give way
 * to the user's settings: librdkafka refuses fetch.max.bytes below
 * message.max.bytes, so a larger message.max.bytes lifts fetch.max.bytes
 * and a smaller fetch.max.bytes lowers message.max.bytes. */
static void test_fetch_sizes(void **state) {
        fixture_t *fx = *state;
        char v[64];

        kc_effective(fx, NULL, NULL, "fetch.max.bytes", v, sizeof(v));
        assert_string_equal(v, "524288");
        kc_effective(fx, NULL, NULL, "message.max.bytes", v, sizeof(v));
        assert_string_equal(v, "524288");
        kc_effective(fx, NULL, NULL, "max.partition.fetch.bytes", v, sizeof(v));
        assert_string_equal(v, "131072");
        kc_effective(fx, NULL, NULL, "queued.max.messages.kbytes", v,
                     sizeof(v));
        assert_string_equal(v, "4096");

        kc_effective(fx, "kafka.message.max.bytes", "5000000",
                     "message.max.bytes", v, sizeof(v));
        assert_string_equal(v, "5000000");
        kc_effective(fx, "kafka.fetch.max.bytes", "200000", "message.max.bytes",
                     v, sizeof(v));
        assert_string_equal(v, "200000");
        kc_effective(fx, "kafka.fetch.max.bytes", "8000000", "fetch.max.bytes",
                     v, sizeof(v));
        assert_string_equal(v, "8000000");
}

/* librdkafka 2.0 stops fetching while its queue is over
 * queued.max.messages.kbytes and looks again up to 1 s later;
 * cdc_kcons_refill() wakes its broker threads when the queue runs short
 * and the broker holds more, and only then. (That the fetch follows at
 * once is a matter of time: bench/consumer.sh shows it.) */
#define BIG_MSGS 3000
/* librdkafka before 2.1.0 waits the seek timeout in microseconds */
static void test_seek_timeout(void **state) {
        (void)state;
        assert_int_equal(cdc_kcons_seek_timeout(10000, 0x020002ff), 10000000);
        assert_int_equal(cdc_kcons_seek_timeout(5000, 0x020002ff), 5000000);
        assert_int_equal(cdc_kcons_seek_timeout(10000, 0x020100ff), 10000);
        assert_int_equal(cdc_kcons_seek_timeout(10000, 0x020300ff), 10000);
        assert_int_equal(cdc_kcons_seek_timeout(0, 0x020002ff), 0);
        assert_int_equal(cdc_kcons_seek_timeout(-1, 0x020002ff), -1);
        assert_int_equal(cdc_kcons_seek_timeout(INT_MAX / 10, 0x020002ff),
                         INT_MAX);
}

static void test_refill(void **state) {
        fixture_t *fx = *state;
        static rd_kafka_message_t *msgs[BIG_MSGS];
        static const char *const kv[][2] = {
                { "topics", "big" },
                { "kafka.queued.max.messages.kbytes", "64" },
                { "kafka.fetch.max.bytes", "65536" },
                { "kafka.max.partition.fetch.bytes", "16384" },
        };
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        char es[256], val[1024];
        cdc_cconf_t cc;
        cdc_kcons_t *kc;
        rd_kafka_t *p;
        size_t n = 0, i;
        int tries;

        assert_int_equal(rd_kafka_mock_topic_create(fx->mc, "big", 1, 1), 0);
        rd_kafka_conf_set(conf, "bootstrap.servers", fx->bootstraps, es,
                          sizeof(es));
        p = rd_kafka_new(RD_KAFKA_PRODUCER, conf, es, sizeof(es));
        assert_non_null(p);
        memset(val, 'x', sizeof(val));
        for (i = 0; i < BIG_MSGS; i++) {
                while (rd_kafka_producev(
                               p, RD_KAFKA_V_TOPIC("big"),
                               RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                               RD_KAFKA_V_VALUE(val, sizeof(val)),
                               RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
                        rd_kafka_poll(p, 10);
        }
        assert_int_equal(rd_kafka_flush(p, 10000), 0);
        rd_kafka_destroy(p);

        kc = kc_new_with(fx, &cc, kv, sizeof(kv) / sizeof(*kv));
        assert_int_equal(cdc_kcons_wakes(kc), 0);
        assert_int_equal(cdc_kcons_refill(kc, 1000), 0); /* nothing assigned */

        /* a few read: the queue holds at most ~64 kB (~60 messages), the
         * broker nearly 3,000 more */
        n = kc_read(kc, msgs, 100, 300);
        assert_int_equal(n, 100);
        /* the fetcher fills the queue again on its own within ~1 s: half
         * its bound (32 messages of 1 kB) or more queued, no wake-up even
         * for a caller that wants none queued */
        for (tries = 0; kc_queued(kc) < 48 && tries < 300; tries++)
                usleep(10 * 1000);
        assert_true(kc_queued(kc) >= 48);
        assert_int_equal(cdc_kcons_refill(kc, 0), 0);
        assert_int_equal(cdc_kcons_wakes(kc), 0);
        /* drained below half the bound: a wake-up, though the caller wants
         * none queued (the low-water mark is half the bound). Its request
         * may time out on a loaded machine (then the next is allowed 1 s
         * later), so a few tries. */
        for (tries = 0; tries < 5; tries++) {
                usleep(tries ? 1100 * 1000 : 20 * 1000);
                n = kc_drain(kc, msgs, n, BIG_MSGS);
                if (cdc_kcons_refill(kc, 0) == 1)
                        break;
        }
        assert_true(tries < 5);
        assert_in_range(cdc_kcons_wakes(kc), 1, (uint64_t)tries + 1);
        /* nothing consumed, nothing produced since: no second wake-up */
        {
                uint64_t w = cdc_kcons_wakes(kc);

                usleep(20 * 1000);
                assert_int_equal(cdc_kcons_refill(kc, 1000), 0);
                assert_int_equal(cdc_kcons_wakes(kc), w);
        }

        /* everything read: nothing left to fetch, no wake-up */
        for (tries = 0; n < BIG_MSGS && tries < 600; tries++) {
                usleep(20 * 1000);
                cdc_kcons_refill(kc, 1000); /* as the consumer does */
                n += kc_read(kc, msgs + n, BIG_MSGS - n, 1);
                n = kc_drain(kc, msgs, n, BIG_MSGS);
        }
        assert_int_equal(n, BIG_MSGS);
        {
                uint64_t w = cdc_kcons_wakes(kc);

                usleep(20 * 1000);
                assert_int_equal(cdc_kcons_refill(kc, 1000), 0);
                assert_int_equal(cdc_kcons_wakes(kc), w);
        }
        for (i = 0; i < n; i++)
                rd_kafka_message_destroy(msgs[i]);
        cdc_kcons_close(kc);
        cdc_kcons_destroy(kc);
        cdc_cconf_destroy(&cc);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_store_commit_resume),
                cmocka_unit_test(test_fetch_sizes),
                cmocka_unit_test(test_refill),
                cmocka_unit_test(test_seek_timeout),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
