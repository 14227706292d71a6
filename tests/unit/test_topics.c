/* cdc_topics: which cleanup.policy values compact, and the check against a
 * cluster that cannot answer DescribeConfigs (librdkafka's mock cluster):
 * nothing checked, never an error, also with require_compact. The check
 * against Apache Kafka is tests/integration/0075-kafka-topics.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <librdkafka/rdkafka.h>

#include "cdc_topics.h"

static void test_policy(void **state) {
        (void)state;
        assert_true(cdc_topics_policy_compacts("compact"));
        assert_true(cdc_topics_policy_compacts("delete,compact"));
        assert_true(cdc_topics_policy_compacts("compact, delete"));
        assert_false(cdc_topics_policy_compacts("delete"));
        assert_false(cdc_topics_policy_compacts("compacted"));
        assert_false(cdc_topics_policy_compacts("xcompact"));
        assert_false(cdc_topics_policy_compacts(""));
        assert_false(cdc_topics_policy_compacts(NULL));
}

static rd_kafka_t *mock_producer(void) {
        char es[256];
        rd_kafka_conf_t *c = rd_kafka_conf_new();
        rd_kafka_t *rk;
        assert_int_equal(rd_kafka_conf_set(c, "test.mock.num.brokers", "1", es,
                                           sizeof(es)),
                         RD_KAFKA_CONF_OK);
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, es, sizeof(es));
        assert_non_null(rk);
        return rk;
}

static void test_mock_unchecked(void **state) {
        static const char *const topics[] = { "s.db.follow" };
        cdc_topics_opts_t o;
        cdc_topics_result_t res;
        char es[512];
        rd_kafka_t *rk = mock_producer();
        cdc_topics_t *t;
        int64_t now = 0;
        (void)state;

        memset(&o, 0, sizeof(o));
        o.topics             = topics;
        o.topic_cnt          = 1;
        o.ckpt_topic         = "s.checkpoints";
        o.partitions         = -1;
        o.replication_factor = -1;
        o.require_compact    = 1;
        o.timeout_ms         = 500;
        assert_int_equal(cdc_topics_check(rk, &o, &res, es, sizeof(es)), 0);
        assert_int_equal(res.not_compacted, 0);

        o.require_compact = 0;
        t                 = cdc_topics_start(rk, &o, now);
        assert_non_null(t);
        /* the answer (an error) comes, or the deadline passes: once */
        while (!cdc_topics_poll(t, now, &res)) {
                rd_kafka_poll(rk, 50);
                now += 100;
                assert_true(now < 60000);
        }
        assert_int_equal(res.not_compacted, 0);
        assert_int_equal(cdc_topics_poll(t, now, &res), 0);
        cdc_topics_destroy(t);
        rd_kafka_destroy(rk);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_policy),
                cmocka_unit_test(test_mock_unchecked),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
