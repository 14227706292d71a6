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

#include <malloc.h>

#include "cdc_apply.h"
#include "cdc_cconf.h"
#include "cdc_event.h"

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
        cc_set(&cc, "replay", "none");
        assert_null(cdc_cconf_finalize(&cc));
        assert_int_equal(cc.cc_replay, CDC_REPLAY_TIME);
        assert_int_equal(cc.cc_replay_ts_ms, 100000);
        /* an enum: refused when set, naming the values */
        {
                char es[256];
                assert_int_equal(cdc_conf_set(cc.cc_conf, "replay", "latest",
                                              es, sizeof(es)),
                                 CDC_ERR__CONFIG);
                assert_non_null(strstr(es, "none, earliest"));
        }
        /* --replay-from is an alias of replay.from */
        cc_set(&cc, "replay-from", "200000");
        assert_null(cdc_cconf_finalize(&cc));
        assert_int_equal(cc.cc_replay_ts_ms, 200000);
        cdc_cconf_destroy(&cc);
}

/* One idempotency insert (tests/data/apply/idem-insert). */
static const char idem_event[] =
        "{\"schema_version\":1,\"op\":\"c\",\"before\":null,\"after\":"
        "{\"id\":3,\"request_id\":\"req-8f1c\",\"biz_key\":\"order:991\","
        "\"status\":2,\"version\":3,\"created_at\":"
        "\"9999-12-31T23:59:59.000000Z\",\"updated_at\":"
        "\"2026-11-20T10:00:01.000000Z\"},\"source\":{\"connector\":"
        "\"followcdc\",\"version\":\"0.1.0\",\"name\":\"followcdc\","
        "\"server_id\":1,\"db\":\"followcdc\",\"table\":"
        "\"idempotent_log\",\"gtid\":\"0-1-50\",\"epoch\":0,\"seq\":50,"
        "\"file\":\"mysql-bin.000001\",\"pos\":1234,\"row\":0,\"ts_ms\":"
        "1795000000000,\"snapshot\":false},\"ts_ms\":1795000000100}";

/* Issue 8 #11: idem.ttl accepted values the applier then refused for
 * every idempotency event ("column created_at out of range"). Now the
 * range is checked when set, and the longest TTL allowed is one the
 * applier takes, even for the latest created_at. */
static void test_idem_ttl_range(void **state) {
        cdc_cconf_t cc;
        cdc_apply_conf_t ac;
        cdc_apply_t *ap;
        cdc_event_t *ev = NULL;
        char es[256];
        (void)state;

        cc_setup(&cc);
        assert_int_equal(cdc_conf_set(cc.cc_conf, "idem.ttl", "10000000d", es,
                                      sizeof(es)),
                         CDC_ERR__CONFIG);
        assert_non_null(strstr(es, "out of range"));
        assert_int_equal(cdc_conf_set(cc.cc_conf, "idem.ttl", "2932897d", es,
                                      sizeof(es)),
                         CDC_ERR__CONFIG);
        cc_set(&cc, "idem.ttl", "2932896d");
        assert_null(cdc_cconf_finalize(&cc));
        assert_int_equal(cc.idem_ttl_ms, CDC_CCONF_IDEM_TTL_MAX);

        cdc_cconf_apply_conf(&cc, &ac);
        ac.redis_port = 1; /* never connected */
        ap            = cdc_apply_new(&ac, es, sizeof(es));
        assert_non_null(ap);
        assert_int_equal(cdc_event_parse(idem_event, strlen(idem_event), &ev,
                                         es, sizeof(es)),
                         CDC_ERR_NO_ERROR);
        if (cdc_apply_add(ap, ev, es, sizeof(es)) != CDC_ERR_NO_ERROR)
                fail_msg("the applier refuses idem.ttl=2932896d: %s", es);
        assert_true(cdc_apply_pending(ap) > 0);
        cdc_event_destroy(ev);
        cdc_apply_destroy(ap);
        cdc_cconf_destroy(&cc);
}

/* The applier's pipeline size comes from redis.pipeline (the table's
 * default), not from a default of its own. */
static void test_pipeline_from_config(void **state) {
        cdc_cconf_t cc;
        cdc_apply_conf_t ac;
        cdc_apply_t *ap;
        cdc_event_t *ev = NULL;
        char es[256];
        size_t n = 0;
        (void)state;

        cc_setup(&cc);
        assert_null(cdc_cconf_finalize(&cc));
        assert_int_equal(cc.redis_pipeline, 2048);
        cdc_cconf_apply_conf(&cc, &ac);
        assert_int_equal(ac.max_batch, 2048);
        assert_int_equal(ac.push_every, 256); /* redis.pipeline.ahead */
        ac.redis_port = 1;
        ap            = cdc_apply_new(&ac, es, sizeof(es));
        assert_non_null(ap);
        assert_int_equal(cdc_event_parse(idem_event, strlen(idem_event), &ev,
                                         es, sizeof(es)),
                         CDC_ERR_NO_ERROR);
        while (cdc_apply_add(ap, ev, es, sizeof(es)) == CDC_ERR_NO_ERROR)
                n++;
        /* full: the next event's scripts would not fit in 2048 */
        assert_in_range(cdc_apply_pending(ap), 2048 - 4, 2048);
        assert_true(n > 256);
        cdc_event_destroy(ev);
        cdc_apply_destroy(ap);
        /* and nothing smaller than one event's scripts */
        assert_int_equal(
                cdc_conf_set(cc.cc_conf, "redis.pipeline", "3", es, sizeof(es)),
                CDC_ERR__CONFIG);
        ac.max_batch = 0;
        assert_null(cdc_apply_new(&ac, es, sizeof(es)));
        cdc_cconf_destroy(&cc);
}

/* Issue 8 #12: too many topics or statuses leaked what was split so far.
 * Under ASan the leak checker fails this test before the fix; without
 * it, the heap grows by every failed finalize. */
static void test_list_errors_do_not_leak(void **state) {
        /* one over CDC_CCONF_MAX_TOPICS */
        char topics65[65 * 4 + 1];
        cdc_cconf_t cc;
        struct mallinfo2 before, after;
        size_t o = 0;
        int i;
        (void)state;

        for (i = 1; i <= CDC_CCONF_MAX_TOPICS + 1; i++)
                o += (size_t)snprintf(topics65 + o, sizeof(topics65) - o,
                                      "%st%02d", i > 1 ? "," : "", i);
        cc_setup(&cc);
        cc_set(&cc, "topics", topics65);
        assert_non_null(strstr(cdc_cconf_finalize(&cc), "too many"));
        cc_set(&cc, "topics", "");
        cc_set(&cc, "reaper.statuses", "2,3,4,5,6,7,8,9,10");
        assert_non_null(strstr(cdc_cconf_finalize(&cc), "too many"));

        cc_set(&cc, "topics", topics65);
        before = mallinfo2();
        for (i = 0; i < 2000; i++)
                assert_non_null(cdc_cconf_finalize(&cc));
        after = mallinfo2();
        /* 2000 x 64 leaked topic names would be over 256 KiB */
        assert_true(after.uordblks < before.uordblks + 16384);
        cc_set(&cc, "topics", "a,b");
        cc_set(&cc, "reaper.statuses", "2");
        assert_null(cdc_cconf_finalize(&cc));
        assert_int_equal(cc.cc_topic_cnt, 2);
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
        {
                char es[256];
                /* an enum row: refused when set, with the legal values */
                assert_int_equal(cdc_conf_set(cc.cc_conf, "follow.model",
                                              "pairs", es, sizeof(es)),
                                 CDC_ERR__CONFIG);
                assert_non_null(strstr(es, "edge"));
        }
        assert_int_equal(cc.cc_follow_model, CDC_APPLY_MODEL_PAIR);
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
                cmocka_unit_test(test_idem_ttl_range),
                cmocka_unit_test(test_pipeline_from_config),
                cmocka_unit_test(test_list_errors_do_not_leak),
                cmocka_unit_test(test_argv_alias),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
