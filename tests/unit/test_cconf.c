/**
 * @file test_cconf.c
 * @brief followcdc-consumer configuration: defaults, derived topics and
 *        dead-letter topic, durations, statuses, replay, flag aliases.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdc_cconf.h"

static void cc_setup(cdc_cconf_t *cc) {
        char es[256];
        assert_int_equal(cdc_cconf_init(cc, es, sizeof(es)), CDC_ERR_NO_ERROR);
}

static void cc_set(cdc_cconf_t *cc, const char *k, const char *v) {
        char es[256];
        if (cdc_conf_set(cc->cc_conf, k, v, es, sizeof(es)) != CDC_ERR_NO_ERROR)
                fail_msg("%s=%s: %s", k, v, es);
}

static void test_defaults(void **state) {
        cdc_cconf_t cc;
        cdc_apply_conf_t ac;
        (void)state;
        cc_setup(&cc);
        assert_null(cdc_cconf_finalize(&cc));
        assert_int_equal(cc.cc_topic_cnt, 2);
        assert_string_equal(cc.cc_topics[0], "followcdc.followcdc.follow");
        assert_string_equal(cc.cc_topics[1],
                            "followcdc.followcdc.idempotent_log");
        assert_string_equal(cc.cc_dlq, "followcdc.dlq");
        assert_string_equal(cc.cc_group_id, "followcdc-redis");
        assert_int_equal(cc.idem_ttl_ms, 7LL * 86400 * 1000);
        assert_int_equal(cc.cc_status_cnt, 1);
        assert_int_equal(cc.cc_statuses[0], 2);
        assert_int_equal(cc.reaper_batch, 500);
        assert_int_equal(cc.cc_replay, CDC_REPLAY_NONE);
        cdc_cconf_apply_conf(&cc, &ac);
        assert_string_equal(ac.key_prefix, "fc");
        assert_int_equal(ac.redis_port, 6379);
        assert_int_equal(ac.idem_ttl_ms, 7LL * 86400 * 1000);
        assert_string_equal(ac.follow_col_follower, "follower_id");
        cdc_cconf_destroy(&cc);
}

static void test_derived_names(void **state) {
        cdc_cconf_t cc;
        (void)state;
        cc_setup(&cc);
        cc_set(&cc, "source.name", "prod");
        cc_set(&cc, "source.db", "social");
        cc_set(&cc, "follow.table", "user_follow");
        cc_set(&cc, "kafka.group.id", "g1");
        cc_set(&cc, "idem.ttl", "36h");
        assert_null(cdc_cconf_finalize(&cc));
        assert_string_equal(cc.cc_topics[0], "prod.social.user_follow");
        assert_string_equal(cc.cc_dlq, "prod.dlq");
        assert_string_equal(cc.cc_group_id, "g1");
        assert_int_equal(cc.idem_ttl_ms, 36LL * 3600 * 1000);
        /* finalize twice: derived values rebuilt, nothing leaked */
        cc_set(&cc, "topics", " a.b.c , d.e.f,");
        cc_set(&cc, "dlq.topic", "dead");
        assert_null(cdc_cconf_finalize(&cc));
        assert_int_equal(cc.cc_topic_cnt, 2);
        assert_string_equal(cc.cc_topics[0], "a.b.c");
        assert_string_equal(cc.cc_topics[1], "d.e.f");
        assert_string_equal(cc.cc_dlq, "dead");
        cdc_cconf_destroy(&cc);
}

static void test_bad_values(void **state) {
        cdc_cconf_t cc;
        char es[256];
        (void)state;
        cc_setup(&cc);
        assert_int_equal(
                cdc_conf_set(cc.cc_conf, "idem.ttl", "7x", es, sizeof(es)),
                CDC_ERR__CONFIG);
        assert_int_equal(
                cdc_conf_set(cc.cc_conf, "batch.size", "0", es, sizeof(es)),
                CDC_ERR__CONFIG);
        /* processing rows are never reaped */
        cc_set(&cc, "reaper.statuses", "2,1");
        assert_non_null(strstr(cdc_cconf_finalize(&cc), "processing"));
        cc_set(&cc, "reaper.statuses", "2,x");
        assert_non_null(cdc_cconf_finalize(&cc));
        cc_set(&cc, "reaper.statuses", "2, 3");
        assert_null(cdc_cconf_finalize(&cc));
        assert_int_equal(cc.cc_status_cnt, 2);
        assert_int_equal(cc.cc_statuses[1], 3);
        /* SQL identifiers only */
        cc_set(&cc, "idem.table", "t; DROP TABLE x");
        assert_non_null(cdc_cconf_finalize(&cc));
        cc_set(&cc, "idem.table", "idempotent_log");
        /* the DLQ must not be a consumed topic */
        cc_set(&cc, "dlq.topic", "followcdc.followcdc.follow");
        assert_non_null(cdc_cconf_finalize(&cc));
        cdc_cconf_destroy(&cc);
}

static void test_replay(void **state) {
        cdc_cconf_t cc;
        int64_t ms = 0;
        (void)state;
        assert_int_equal(cdc_cconf_parse_time_ms("1795000000000", &ms), 0);
        assert_int_equal(ms, 1795000000000LL);
        assert_int_equal(cdc_cconf_parse_time_ms("1970-01-01T00:00:01Z", &ms),
                         0);
        assert_int_equal(ms, 1000);
        assert_int_equal(cdc_cconf_parse_time_ms("yesterday", &ms), -1);
        assert_int_equal(cdc_cconf_parse_time_ms("", &ms), -1);

        cc_setup(&cc);
        cc_set(&cc, "replay", "earliest");
        assert_null(cdc_cconf_finalize(&cc));
        assert_int_equal(cc.cc_replay, CDC_REPLAY_EARLIEST);
        cc_set(&cc, "replay.from", "100000");
        assert_non_null(cdc_cconf_finalize(&cc)); /* exclusive */
        cc_set(&cc, "replay", "");
        assert_null(cdc_cconf_finalize(&cc));
        assert_int_equal(cc.cc_replay, CDC_REPLAY_TIME);
        assert_int_equal(cc.cc_replay_ts_ms, 100000);
        cc_set(&cc, "replay", "latest");
        assert_non_null(cdc_cconf_finalize(&cc));
        cdc_cconf_destroy(&cc);
}

/* Redis Cluster, WAIT and TLS keys: checks across fields, and what
 * reaches cdc_apply. */
static void test_redis_scale(void **state) {
        cdc_cconf_t cc;
        cdc_apply_conf_t ac;
        const char *why;
        (void)state;

        cc_setup(&cc);
        assert_null(cdc_cconf_finalize(&cc));
        cdc_cconf_apply_conf(&cc, &ac);
        assert_null(ac.redis_cluster_nodes);
        assert_int_equal(ac.redis_wait_replicas, 0);
        assert_int_equal(ac.redis_tls, 0);
        assert_int_equal(ac.redis_tls_no_verify, 0); /* verify by default */

        cc_set(&cc, "redis.cluster.nodes", "10.0.0.1:7000, redis-2:7001");
        cc_set(&cc, "redis.wait.replicas", "1");
        cc_set(&cc, "redis.wait.timeout.ms", "250");
        cc_set(&cc, "redis.tls", "true");
        cc_set(&cc, "redis.tls.ca", "/etc/ca.pem");
        assert_null(cdc_cconf_finalize(&cc));
        cdc_cconf_apply_conf(&cc, &ac);
        assert_string_equal(ac.redis_cluster_nodes,
                            "10.0.0.1:7000, redis-2:7001");
        assert_int_equal(ac.redis_wait_replicas, 1);
        assert_int_equal(ac.redis_wait_timeout_ms, 250);
        assert_int_equal(ac.redis_tls, 1);
        assert_string_equal(ac.redis_tls_ca, "/etc/ca.pem");

        cc_set(&cc, "redis.db", "2");
        why = cdc_cconf_finalize(&cc);
        assert_non_null(why);
        assert_non_null(strstr(why, "redis.db"));
        cc_set(&cc, "redis.db", "0");
        cc_set(&cc, "redis.cluster.nodes", "10.0.0.1");
        why = cdc_cconf_finalize(&cc);
        assert_non_null(why);
        assert_non_null(strstr(why, "redis.cluster.nodes"));
        cc_set(&cc, "redis.cluster.nodes", "");
        cc_set(&cc, "redis.wait.timeout.ms", "5000"); /* = redis.timeout.ms */
        why = cdc_cconf_finalize(&cc);
        assert_non_null(why);
        assert_non_null(strstr(why, "redis.wait.timeout.ms"));
        cc_set(&cc, "redis.wait.replicas", "0"); /* no WAIT: no check */
        assert_null(cdc_cconf_finalize(&cc));
        cdc_cconf_destroy(&cc);
}

static void test_argv_alias(void **state) {
        static char a0[] = "prog", a1[] = "--replay-from=5",
                    a2[] = "--replay=earliest", a3[] = "--replay-fromx=1";
        char *in[] = { a0, a1, a2, a3, NULL };
        char **av;
        (void)state;
        av = cdc_cconf_argv_dup(4, in);
        assert_non_null(av);
        assert_string_equal(av[0], "prog");
        assert_string_equal(av[1], "--replay.from=5");
        assert_string_equal(av[2], "--replay=earliest");
        assert_string_equal(av[3], "--replay-fromx=1");
        assert_null(av[4]);
        cdc_cconf_argv_free(av);
        cdc_cconf_argv_free(NULL);
}

static void test_pair_model(void **state) {
        cdc_cconf_t cc;
        cdc_apply_conf_t ac;
        (void)state;
        cc_setup(&cc);
        assert_null(cdc_cconf_finalize(&cc));
        assert_int_equal(cc.cc_follow_model, CDC_APPLY_MODEL_EDGE);
        cc_set(&cc, "follow.model", "pair");
        cc_set(&cc, "follow.table", "friendship");
        cc_set(&cc, "follow.col.a", "lo");
        cc_set(&cc, "follow.col.time.ba", "b_since");
        assert_null(cdc_cconf_finalize(&cc));
        assert_int_equal(cc.cc_follow_model, CDC_APPLY_MODEL_PAIR);
        assert_string_equal(cc.cc_topics[0], "followcdc.followcdc.friendship");
        cdc_cconf_apply_conf(&cc, &ac);
        assert_int_equal(ac.follow_model, CDC_APPLY_MODEL_PAIR);
        assert_string_equal(ac.pair_col_a, "lo");
        assert_string_equal(ac.pair_col_b, "user_b");
        assert_string_equal(ac.pair_col_relation, "relation");
        assert_null(ac.pair_col_time_ab); /* follow.col.time */
        assert_string_equal(ac.pair_col_time_ba, "b_since");
        assert_string_equal(ac.home_source, "followcdc");
        cc_set(&cc, "follow.model", "pairs");
        assert_non_null(strstr(cdc_cconf_finalize(&cc), "follow.model"));
        cc_set(&cc, "follow.model", "pair");
        cc_set(&cc, "follow.col.time.ab", "a b");
        assert_non_null(strstr(cdc_cconf_finalize(&cc), "time.ab"));
        cc_set(&cc, "follow.col.time.ab", "");
        cc_set(&cc, "follow.col.relation", "rel;");
        assert_non_null(strstr(cdc_cconf_finalize(&cc), "relation"));
        cc_set(&cc, "follow.col.relation", "relation");
        cc_set(&cc, "follow.table", "idempotent_log");
        assert_non_null(strstr(cdc_cconf_finalize(&cc), "differ"));
        cdc_cconf_destroy(&cc);
}

static void test_sources(void **state) {
        cdc_cconf_t cc;
        const char *why;
        (void)state;
        cc_setup(&cc);
        cc_set(&cc, "source.name", "s1");
        cc_set(&cc, "sources", "s2, s1,s3");
        assert_null(cdc_cconf_finalize(&cc));
        assert_int_equal(cc.cc_source_cnt, 3);
        assert_string_equal(cc.cc_sources[0], "s1"); /* home first */
        assert_string_equal(cc.cc_sources[1], "s2");
        assert_string_equal(cc.cc_sources[2], "s3");
        assert_int_equal(cc.cc_topic_cnt, 6);
        assert_string_equal(cc.cc_topics[0], "s1.followcdc.follow");
        assert_string_equal(cc.cc_topics[3], "s2.followcdc.idempotent_log");
        assert_string_equal(cc.cc_topics[5], "s3.followcdc.idempotent_log");
        assert_string_equal(cc.cc_dlq, "s1.dlq");
        /* explicit topics win */
        cc_set(&cc, "topics", "a,b");
        assert_null(cdc_cconf_finalize(&cc));
        assert_int_equal(cc.cc_topic_cnt, 2);
        cc_set(&cc, "topics", "");
        cc_set(&cc, "sources", "s2,s3");
        why = cdc_cconf_finalize(&cc);
        assert_non_null(why);
        assert_non_null(strstr(why, "source.name"));
        cc_set(&cc, "sources", "s1,s 2");
        why = cdc_cconf_finalize(&cc);
        assert_non_null(why);
        assert_non_null(strstr(why, "s 2"));
        cc_set(&cc, "sources", "s1,s2,s2");
        assert_non_null(strstr(cdc_cconf_finalize(&cc), "twice"));
        cc_set(&cc, "sources", "");
        assert_null(cdc_cconf_finalize(&cc));
        assert_int_equal(cc.cc_source_cnt, 1);
        assert_int_equal(cc.cc_topic_cnt, 2);
        cdc_cconf_destroy(&cc);
}

static void test_reaper_shards(void **state) {
        cdc_cconf_t cc;
        char host[64];
        int port = -1;
        (void)state;
        assert_int_equal(
                cdc_cconf_parse_shard("db1:3306", host, sizeof(host), &port),
                0);
        assert_string_equal(host, "db1");
        assert_int_equal(port, 3306);
        assert_int_equal(
                cdc_cconf_parse_shard("/run/m.sock", host, sizeof(host), &port),
                0);
        assert_string_equal(host, "/run/m.sock");
        assert_int_equal(port, 0);
        assert_int_equal(
                cdc_cconf_parse_shard("db1", host, sizeof(host), &port), -1);
        assert_int_equal(
                cdc_cconf_parse_shard("db1:0", host, sizeof(host), &port), -1);
        assert_int_equal(
                cdc_cconf_parse_shard("db1:33x", host, sizeof(host), &port),
                -1);
        assert_int_equal(
                cdc_cconf_parse_shard(":33", host, sizeof(host), &port), -1);
        cc_setup(&cc);
        cc_set(&cc, "reaper.mysql.shards", "10.0.0.1:3306, /tmp/s2.sock");
        assert_null(cdc_cconf_finalize(&cc));
        assert_int_equal(cc.cc_reaper_shard_cnt, 2);
        assert_string_equal(cc.cc_reaper_shards[1], "/tmp/s2.sock");
        cc_set(&cc, "reaper.mysql.shards", "10.0.0.1:3306,nope");
        assert_non_null(strstr(cdc_cconf_finalize(&cc), "nope"));
        cdc_cconf_destroy(&cc);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_pair_model),
                cmocka_unit_test(test_sources),
                cmocka_unit_test(test_reaper_shards),
                cmocka_unit_test(test_defaults),
                cmocka_unit_test(test_derived_names),
                cmocka_unit_test(test_bad_values),
                cmocka_unit_test(test_replay),
                cmocka_unit_test(test_redis_scale),
                cmocka_unit_test(test_argv_alias),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
