/* Semantics of the cdc_apply scripts against a real Redis (port from
 * H_REDIS_PORT; run by tests/integration/0030-apply-scripts.sh).
 *
 * Stale, duplicate and out-of-order changes are no-ops; a mutual follow
 * ends as friends whatever order the four edge-side scripts run in; a
 * follow racing an unfollow ends in the final state; soft delete, hard
 * delete and re-follow; idempotency records expire at an absolute time;
 * NOSCRIPT recovery; poison events are refused without queueing. Several
 * sources: versions compare only within a source, an edge is followed iff
 * some source says so (a move between shards in every order); pair-table
 * rows update both directions of both users. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "apply_testlib.h"
#include "cdc_apply_int.h"
#include "cdc_backoff.h"

#define T0 1795000000000LL /* a follow time, ms */

static redisContext *rc;

static int setup(void **state) {
        redisReply *r;

        (void)state;
        r = tl_cmdv(rc, "FLUSHALL", NULL);
        freeReplyObject(r);
        return 0;
}

/* Apply events one flush at a time; consumes them. */
static void apply_events(cdc_apply_t *ap, cdc_event_t **evs, size_t n) {
        size_t i;

        for (i = 0; i < n; i++) {
                tl_apply_add(ap, evs[i]);
                cdc_event_destroy(evs[i]);
                assert_int_equal(cdc_apply_flush(ap), CDC_ERR_NO_ERROR);
        }
}

static void apply1(cdc_apply_t *ap, cdc_event_t *ev) {
        apply_events(ap, &ev, 1);
}

/* ZSCORE as ms, -1 if not a member. */
static long long zscore(const char *key, const char *member) {
        redisReply *r = tl_cmdv(rc, "ZSCORE", key, member, NULL);
        long long v   = -1;

        if (r->type == REDIS_REPLY_STRING)
                v = (long long)strtod(r->str, NULL);
        else
                assert_int_equal(r->type, REDIS_REPLY_NIL);
        freeReplyObject(r);
        return v;
}

static long long zcard(const char *key) {
        redisReply *r = tl_cmdv(rc, "ZCARD", key, NULL);
        long long v;

        assert_int_equal(r->type, REDIS_REPLY_INTEGER);
        v = r->integer;
        freeReplyObject(r);
        return v;
}

static void hget(const char *key, const char *field, char *buf, size_t size) {
        redisReply *r = tl_cmdv(rc, "HGET", key, field, NULL);

        buf[0] = '\0';
        if (r->type == REDIS_REPLY_STRING)
                snprintf(buf, size, "%s", r->str);
        freeReplyObject(r);
}

static long long intcmd(const char *cmd, const char *key) {
        redisReply *r = tl_cmdv(rc, cmd, key, NULL);
        long long v;

        assert_int_equal(r->type, REDIS_REPLY_INTEGER);
        v = r->integer;
        freeReplyObject(r);
        return v;
}

/* Following of u -> v, as seen from both sides, with score ms (-1: no). */
static void assert_edge(uint64_t u, uint64_t v, long long score) {
        char k[64], m[32];

        snprintf(k, sizeof(k), "fc:{u:%llu}:following", (unsigned long long)u);
        snprintf(m, sizeof(m), "%llu", (unsigned long long)v);
        assert_int_equal(zscore(k, m), score);
        snprintf(k, sizeof(k), "fc:{u:%llu}:followers", (unsigned long long)v);
        snprintf(m, sizeof(m), "%llu", (unsigned long long)u);
        assert_int_equal(zscore(k, m), score);
}

static void assert_friends(uint64_t u, uint64_t v, long long score) {
        char k[64], m[32];

        snprintf(k, sizeof(k), "fc:{u:%llu}:friends", (unsigned long long)u);
        snprintf(m, sizeof(m), "%llu", (unsigned long long)v);
        assert_int_equal(zscore(k, m), score);
        snprintf(k, sizeof(k), "fc:{u:%llu}:friends", (unsigned long long)v);
        snprintf(m, sizeof(m), "%llu", (unsigned long long)u);
        assert_int_equal(zscore(k, m), score);
}

/* ---- follow ---- */

static void test_follow_basic(void **state) {
        cdc_apply_t *ap = tl_apply_new("fc", 0, 0);
        cdc_apply_stats_t st;
        char ver[64];

        (void)state;
        apply1(ap, tl_ev_follow(CDC_OP_CREATE, 10, 1, 2, 1, T0));
        assert_edge(1, 2, T0);
        assert_edge(2, 1, -1);
        assert_friends(1, 2, -1);
        assert_int_equal(zcard("fc:{u:1}:following"), 1);
        assert_int_equal(zcard("fc:{u:2}:followers"), 1);
        hget("fc:{u:1}:ver", "o:2", ver, sizeof(ver));
        assert_string_equal(ver, "100000000000");
        hget("fc:{u:2}:ver", "i:1", ver, sizeof(ver));
        assert_string_equal(ver, "100000000000");
        cdc_apply_stats(ap, &st);
        assert_int_equal(st.events, 1);
        assert_int_equal(st.scripts, 2);
        assert_int_equal(st.applied, 2);
        assert_int_equal(st.round_trips, 1);
        cdc_apply_destroy(ap);
}

static void test_stale_and_duplicate(void **state) {
        cdc_apply_t *ap = tl_apply_new("fc", 0, 0);
        cdc_apply_stats_t st;

        (void)state;
        /* newest first: unfollow v20, then the older follow v10 */
        apply1(ap, tl_ev_follow(CDC_OP_UPDATE, 20, 1, 2, 0, T0 + 5));
        apply1(ap, tl_ev_follow(CDC_OP_CREATE, 10, 1, 2, 1, T0));
        assert_edge(1, 2, -1);
        /* duplicate of the newest */
        apply1(ap, tl_ev_follow(CDC_OP_UPDATE, 20, 1, 2, 0, T0 + 5));
        assert_edge(1, 2, -1);
        cdc_apply_stats(ap, &st);
        assert_int_equal(st.applied, 2);
        assert_int_equal(st.stale, 4);
        /* a newer follow applies */
        apply1(ap, tl_ev_follow(CDC_OP_UPDATE, 30, 1, 2, 1, T0 + 9));
        assert_edge(1, 2, T0 + 9);
        /* an older status-1 image cannot move the score back */
        apply1(ap, tl_ev_follow(CDC_OP_UPDATE, 25, 1, 2, 1, T0 + 7));
        assert_edge(1, 2, T0 + 9);
        /* stored versions have no leading zeros: 99 < 100 < 1000 across
         * lengths, in both orders */
        apply1(ap, tl_ev_follow(CDC_OP_UPDATE, 1000, 3, 4, 0, T0));
        apply1(ap, tl_ev_follow(CDC_OP_UPDATE, 99, 3, 4, 1, T0));
        apply1(ap, tl_ev_follow(CDC_OP_UPDATE, 100, 3, 4, 1, T0));
        assert_edge(3, 4, -1);
        apply1(ap, tl_ev_follow(CDC_OP_UPDATE, 99, 5, 6, 0, T0));
        apply1(ap, tl_ev_follow(CDC_OP_UPDATE, 100, 5, 6, 1, T0 + 1));
        assert_edge(5, 6, T0 + 1);
        cdc_apply_destroy(ap);
}

/* All 24 orders of the four edge-side scripts of a mutual follow
 * (A->B at v1, B->A at v2): both must always end as friends, with the
 * later follow time as score. The scripts are sent one by one through
 * separate appliers, as two consumers racing would. */
static void test_mutual_follow_all_orders(void **state) {
        static const int perms[24][4] = {
                { 0, 1, 2, 3 }, { 0, 1, 3, 2 }, { 0, 2, 1, 3 }, { 0, 2, 3, 1 },
                { 0, 3, 1, 2 }, { 0, 3, 2, 1 }, { 1, 0, 2, 3 }, { 1, 0, 3, 2 },
                { 1, 2, 0, 3 }, { 1, 2, 3, 0 }, { 1, 3, 0, 2 }, { 1, 3, 2, 0 },
                { 2, 0, 1, 3 }, { 2, 0, 3, 1 }, { 2, 1, 0, 3 }, { 2, 1, 3, 0 },
                { 2, 3, 0, 1 }, { 2, 3, 1, 0 }, { 3, 0, 1, 2 }, { 3, 0, 2, 1 },
                { 3, 1, 0, 2 }, { 3, 1, 2, 0 }, { 3, 2, 0, 1 }, { 3, 2, 1, 0 }
        };
        cdc_apply_t *gen = tl_apply_new("fc", 0, 0);
        cdc_apply_t *ap  = tl_apply_new("fc", 0, 0);
        cdc_event_t *e1  = tl_ev_follow(CDC_OP_CREATE, 11, 5, 6, 1, T0);
        cdc_event_t *e2  = tl_ev_follow(CDC_OP_CREATE, 12, 6, 5, 1, T0 + 3);
        char errstr[128];
        int p, i;

        (void)state;
        /* the four scripts, in the queue of gen: e1 fr, e1 fe, e2 fr, e2 fe */
        assert_int_equal(cdc_apply_add(gen, e1, errstr, sizeof(errstr)), 0);
        assert_int_equal(cdc_apply_add(gen, e2, errstr, sizeof(errstr)), 0);
        assert_int_equal(cdc_apply_pending(gen), 4);
        assert_int_equal(cdc_apply_connect(gen), CDC_ERR_NO_ERROR);
        for (p = 0; p < 24; p++) {
                redisReply *r = tl_cmdv(rc, "FLUSHALL", NULL);

                freeReplyObject(r);
                for (i = 0; i < 4; i++) {
                        const char *const *argv;
                        const size_t *lens;
                        const char *full[16];
                        size_t flen[16];
                        cdc_script_id_t id;
                        size_t len;
                        const char *src;
                        int n = cdc_apply_queued(gen, (size_t)perms[p][i], &id,
                                                 &argv, &lens);

                        assert_int_equal(n, 10);
                        src     = cdc_scripts_source(id, &len);
                        full[0] = "EVAL", flen[0] = 4;
                        full[1] = src, flen[1] = len;
                        full[2] = "4", flen[2] = 1;
                        memcpy(full + 3, argv, sizeof(*argv) * 10);
                        memcpy(flen + 3, lens, sizeof(*lens) * 10);
                        r = tl_cmd(rc, 13, full, flen);
                        assert_int_equal(r->type, REDIS_REPLY_INTEGER);
                        assert_int_equal(r->integer, 1);
                        freeReplyObject(r);
                }
                assert_edge(5, 6, T0);
                assert_edge(6, 5, T0 + 3);
                assert_friends(5, 6, T0 + 3);
        }
        /* and through cdc_apply, in both event orders */
        for (p = 0; p < 2; p++) {
                redisReply *r = tl_cmdv(rc, "FLUSHALL", NULL);

                freeReplyObject(r);
                if (p == 0) {
                        apply1(ap,
                               tl_ev_follow(CDC_OP_CREATE, 11, 5, 6, 1, T0));
                        apply1(ap, tl_ev_follow(CDC_OP_CREATE, 12, 6, 5, 1,
                                                T0 + 3));
                } else {
                        apply1(ap, tl_ev_follow(CDC_OP_CREATE, 12, 6, 5, 1,
                                                T0 + 3));
                        apply1(ap,
                               tl_ev_follow(CDC_OP_CREATE, 11, 5, 6, 1, T0));
                }
                assert_friends(5, 6, T0 + 3);
        }
        cdc_event_destroy(e1);
        cdc_event_destroy(e2);
        cdc_apply_destroy(gen);
        cdc_apply_destroy(ap);
}

static void test_follow_unfollow_race(void **state) {
        cdc_apply_t *ap = tl_apply_new("fc", 0, 0);
        redisReply *r;

        (void)state;
        /* B follows A (friend candidate), then A follows B (v2) and
         * unfollows (v3): delivered in both orders, A is not B's friend */
        apply1(ap, tl_ev_follow(CDC_OP_CREATE, 1, 8, 7, 1, T0));
        apply1(ap, tl_ev_follow(CDC_OP_CREATE, 2, 7, 8, 1, T0 + 1));
        apply1(ap, tl_ev_follow(CDC_OP_UPDATE, 3, 7, 8, 0, T0 + 2));
        assert_edge(7, 8, -1);
        assert_edge(8, 7, T0);
        assert_friends(7, 8, -1);

        r = tl_cmdv(rc, "FLUSHALL", NULL);
        freeReplyObject(r);
        apply1(ap, tl_ev_follow(CDC_OP_CREATE, 1, 8, 7, 1, T0));
        apply1(ap, tl_ev_follow(CDC_OP_UPDATE, 3, 7, 8, 0, T0 + 2));
        apply1(ap, tl_ev_follow(CDC_OP_CREATE, 2, 7, 8, 1, T0 + 1));
        assert_edge(7, 8, -1);
        assert_friends(7, 8, -1);

        /* unfollow first, then follow (final state: following) */
        r = tl_cmdv(rc, "FLUSHALL", NULL);
        freeReplyObject(r);
        apply1(ap, tl_ev_follow(CDC_OP_CREATE, 1, 8, 7, 1, T0));
        apply1(ap, tl_ev_follow(CDC_OP_UPDATE, 4, 7, 8, 1, T0 + 4));
        apply1(ap, tl_ev_follow(CDC_OP_UPDATE, 3, 7, 8, 0, T0 + 2));
        assert_edge(7, 8, T0 + 4);
        assert_friends(7, 8, T0 + 4);
        cdc_apply_destroy(ap);
}

static void test_soft_hard_delete_refollow(void **state) {
        cdc_apply_t *ap = tl_apply_new("fc", 0, 0);

        (void)state;
        apply1(ap, tl_ev_follow(CDC_OP_CREATE, 1, 3, 4, 1, T0));
        apply1(ap, tl_ev_follow(CDC_OP_CREATE, 2, 4, 3, 1, T0 + 1));
        assert_friends(3, 4, T0 + 1);
        /* soft delete */
        apply1(ap, tl_ev_follow(CDC_OP_UPDATE, 3, 3, 4, 0, T0 + 2));
        assert_edge(3, 4, -1);
        assert_friends(3, 4, -1);
        assert_edge(4, 3, T0 + 1);
        /* re-follow after the soft delete */
        apply1(ap, tl_ev_follow(CDC_OP_UPDATE, 4, 3, 4, 1, T0 + 3));
        assert_edge(3, 4, T0 + 3);
        assert_friends(3, 4, T0 + 3);
        /* hard delete of the other direction */
        apply1(ap, tl_ev_follow(CDC_OP_DELETE, 5, 4, 3, 1, T0 + 1));
        assert_edge(4, 3, -1);
        assert_friends(3, 4, -1);
        /* a replay of its old create is a no-op (tombstone version) */
        apply1(ap, tl_ev_follow(CDC_OP_CREATE, 2, 4, 3, 1, T0 + 1));
        assert_edge(4, 3, -1);
        /* re-insert after the hard delete (row version restarts at 1, the
         * source position still orders it) */
        apply1(ap, tl_ev_follow(CDC_OP_CREATE, 6, 4, 3, 1, T0 + 6));
        assert_edge(4, 3, T0 + 6);
        assert_friends(3, 4, T0 + 6);
        /* counts */
        assert_int_equal(zcard("fc:{u:3}:following"), 1);
        assert_int_equal(zcard("fc:{u:3}:followers"), 1);
        assert_int_equal(zcard("fc:{u:3}:friends"), 1);
        cdc_apply_destroy(ap);
}

static void test_edge_moved_by_update(void **state) {
        cdc_apply_t *ap = tl_apply_new("fc", 0, 0);
        cdc_event_t *ev;

        (void)state;
        apply1(ap, tl_ev_follow(CDC_OP_CREATE, 1, 1, 2, 1, T0));
        /* UPDATE follow SET followee_id = 3 WHERE ... */
        ev         = tl_ev_follow(CDC_OP_UPDATE, 2, 1, 3, 1, T0 + 1);
        ev->before = json_pack("{s:i, s:i, s:i}", "follower_id", 1,
                               "followee_id", 2, "status", 1);
        apply1(ap, ev);
        assert_edge(1, 2, -1);
        assert_edge(1, 3, T0 + 1);
        cdc_apply_destroy(ap);
}

static void test_big_ids_and_snapshot(void **state) {
        cdc_apply_t *ap = tl_apply_new("fc", 0, 0);
        cdc_event_t *ev = tl_ev_follow(CDC_OP_READ, 9, 1, 2, 1, T0);
        char errstr[128];

        (void)state;
        /* BIGINT UNSIGNED above 2^63-1 arrives as a decimal string */
        json_object_set_new(ev->after, "follower_id",
                            json_string("18446744073709551615"));
        json_object_set_new(ev->after, "followee_id", json_string("0042"));
        assert_int_equal(cdc_apply_add(ap, ev, errstr, sizeof(errstr)), 0);
        assert_int_equal(cdc_apply_flush(ap), CDC_ERR_NO_ERROR);
        assert_int_equal(zscore("fc:{u:18446744073709551615}:following", "42"),
                         T0);
        assert_int_equal(zscore("fc:{u:42}:followers", "18446744073709551615"),
                         T0);
        cdc_event_destroy(ev);
        cdc_apply_destroy(ap);
}

static void test_bad_events(void **state) {
        cdc_apply_t *ap = tl_apply_new("fc", 4, 0);
        cdc_event_t *ev;
        cdc_apply_stats_t st;
        char errstr[128];

        (void)state;
        ev = tl_ev_follow(CDC_OP_CREATE, 1, 1, 2, 1, T0);
        json_object_del(ev->after, "follower_id");
        assert_int_equal(cdc_apply_add(ap, ev, errstr, sizeof(errstr)),
                         CDC_ERR__BAD_EVENT);
        assert_non_null(strstr(errstr, "follower_id"));
        cdc_event_destroy(ev);

        ev = tl_ev_follow(CDC_OP_CREATE, 1, 1, 2, 1, T0);
        json_object_set_new(ev->after, "followee_id", json_string("1}x"));
        assert_int_equal(cdc_apply_add(ap, ev, errstr, sizeof(errstr)),
                         CDC_ERR__BAD_EVENT);
        cdc_event_destroy(ev);

        ev = tl_ev_follow(CDC_OP_CREATE, 1, 1, 2, 1, T0);
        json_object_set_new(ev->after, "updated_at", json_string("yesterday"));
        assert_int_equal(cdc_apply_add(ap, ev, errstr, sizeof(errstr)),
                         CDC_ERR__BAD_EVENT);
        cdc_event_destroy(ev);

        ev = tl_ev_idem(CDC_OP_CREATE, 1, "r", 1, "b", 1, T0);
        json_object_del(ev->after, "created_at");
        assert_int_equal(cdc_apply_add(ap, ev, errstr, sizeof(errstr)),
                         CDC_ERR__BAD_EVENT);
        assert_non_null(strstr(errstr, "created_at"));
        cdc_event_destroy(ev);
        assert_int_equal(cdc_apply_pending(ap), 0);

        /* another table: ignored */
        ev = tl_ev_follow(CDC_OP_CREATE, 1, 1, 2, 1, T0);
        snprintf(ev->source.table, sizeof(ev->source.table), "other");
        assert_int_equal(cdc_apply_add(ap, ev, errstr, sizeof(errstr)), 0);
        assert_int_equal(cdc_apply_pending(ap), 0);
        cdc_event_destroy(ev);

        /* max_batch 4: one follow event fits, the second does not */
        ev = tl_ev_follow(CDC_OP_CREATE, 1, 1, 2, 1, T0);
        assert_int_equal(cdc_apply_add(ap, ev, errstr, sizeof(errstr)), 0);
        assert_int_equal(cdc_apply_add(ap, ev, errstr, sizeof(errstr)),
                         CDC_ERR__QUEUE_FULL);
        assert_int_equal(cdc_apply_pending(ap), 2);
        cdc_apply_discard(ap);
        assert_int_equal(cdc_apply_pending(ap), 0);
        cdc_event_destroy(ev);
        cdc_apply_stats(ap, &st);
        assert_int_equal(st.ignored, 1);
        cdc_apply_destroy(ap);
}

static void test_noscript_reload(void **state) {
        cdc_apply_t *ap = tl_apply_new("fc", 0, 0);
        cdc_apply_stats_t st;
        redisReply *r;
        char errstr[128];
        cdc_event_t *ev;

        (void)state;
        assert_int_equal(cdc_apply_connect(ap), CDC_ERR_NO_ERROR);
        r = tl_cmdv(rc, "SCRIPT", "FLUSH", NULL);
        freeReplyObject(r);
        ev = tl_ev_follow(CDC_OP_CREATE, 1, 1, 2, 1, T0);
        assert_int_equal(cdc_apply_add(ap, ev, errstr, sizeof(errstr)), 0);
        cdc_event_destroy(ev);
        assert_int_equal(cdc_apply_flush(ap), CDC_ERR_NO_ERROR);
        assert_int_equal(cdc_apply_pending(ap), 0);
        assert_edge(1, 2, T0);
        cdc_apply_stats(ap, &st);
        assert_int_equal(st.scripts, 2);
        assert_int_equal(st.round_trips, 2);
        cdc_apply_destroy(ap);
}

static void test_script_error_keeps_queue(void **state) {
        cdc_apply_t *ap = tl_apply_new("fc", 0, 0);
        redisReply *r;
        char errstr[128];
        cdc_event_t *ev;

        (void)state;
        /* a foreign value of the wrong type under one of our keys */
        r = tl_cmdv(rc, "SET", "fc:{u:2}:followers", "x", NULL);
        freeReplyObject(r);
        ev = tl_ev_follow(CDC_OP_CREATE, 1, 1, 2, 1, T0);
        assert_int_equal(cdc_apply_add(ap, ev, errstr, sizeof(errstr)), 0);
        cdc_event_destroy(ev);
        assert_int_equal(cdc_apply_flush(ap), CDC_ERR__TRANSPORT);
        assert_non_null(strstr(cdc_apply_errstr(ap), "WRONGTYPE"));
        /* the follower side was acknowledged, the followee side kept */
        assert_int_equal(cdc_apply_pending(ap), 1);
        r = tl_cmdv(rc, "DEL", "fc:{u:2}:followers", NULL);
        freeReplyObject(r);
        assert_int_equal(cdc_apply_flush(ap), CDC_ERR_NO_ERROR);
        assert_edge(1, 2, T0);
        cdc_apply_destroy(ap);
}

static void test_unreachable(void **state) {
        cdc_apply_conf_t conf;
        cdc_apply_t *ap;
        char errstr[128];
        cdc_event_t *ev;

        (void)state;
        memset(&conf, 0, sizeof(conf));
        conf.redis_host       = "127.0.0.1";
        conf.redis_port       = 1; /* nothing listens there */
        conf.redis_timeout_ms = 500;
        conf.max_batch        = 256;
        ap                    = cdc_apply_new(&conf, errstr, sizeof(errstr));
        assert_non_null(ap);
        assert_int_equal(cdc_apply_connect(ap), CDC_ERR__TRANSPORT);
        assert_true(strlen(cdc_apply_errstr(ap)) > 0);
        ev = tl_ev_follow(CDC_OP_CREATE, 1, 1, 2, 1, T0);
        assert_int_equal(cdc_apply_add(ap, ev, errstr, sizeof(errstr)), 0);
        cdc_event_destroy(ev);
        assert_int_equal(cdc_apply_flush(ap), CDC_ERR__TRANSPORT);
        assert_int_equal(cdc_apply_pending(ap), 2);
        cdc_apply_destroy(ap);

        conf.key_prefix = "a{b";
        assert_null(cdc_apply_new(&conf, errstr, sizeof(errstr)));
}

/* ACL user + password, SELECT; a wrong password is refused with the
 * server's reason. */
static void test_auth_and_db(void **state) {
        cdc_apply_conf_t conf;
        cdc_apply_t *ap;
        redisReply *r;
        char errstr[128];
        cdc_event_t *ev;

        (void)state;
        r = tl_cmdv(rc, "ACL", "SETUSER", "applier", "on", ">s3cr et", "~*",
                    "+@all", NULL);
        assert_int_equal(r->type, REDIS_REPLY_STATUS);
        freeReplyObject(r);
        memset(&conf, 0, sizeof(conf));
        conf.redis_port     = tl_redis_port();
        conf.redis_user     = "applier";
        conf.redis_password = "s3cr et";
        conf.redis_db       = 3;
        conf.max_batch      = 256;
        ap                  = cdc_apply_new(&conf, errstr, sizeof(errstr));
        assert_non_null(ap);
        ev = tl_ev_follow(CDC_OP_CREATE, 1, 1, 2, 1, T0);
        assert_int_equal(cdc_apply_add(ap, ev, errstr, sizeof(errstr)), 0);
        cdc_event_destroy(ev);
        assert_int_equal(cdc_apply_flush(ap), CDC_ERR_NO_ERROR);
        cdc_apply_destroy(ap);
        r = tl_cmdv(rc, "SELECT", "3", NULL);
        freeReplyObject(r);
        assert_edge(1, 2, T0);
        r = tl_cmdv(rc, "SELECT", "0", NULL);
        freeReplyObject(r);
        assert_edge(1, 2, -1);

        conf.redis_password = "wrong";
        ap                  = cdc_apply_new(&conf, errstr, sizeof(errstr));
        assert_non_null(ap);
        assert_int_equal(cdc_apply_connect(ap), CDC_ERR__TRANSPORT);
        assert_non_null(strstr(cdc_apply_errstr(ap), "AUTH"));
        assert_null(strstr(cdc_apply_errstr(ap), "wrong"));
        cdc_apply_destroy(ap);
        r = tl_cmdv(rc, "ACL", "DELUSER", "applier", NULL);
        freeReplyObject(r);
}

/* WAIT for a replica that does not exist: the scripts ran on the
 * primary but nothing leaves the queue, the caller retries. */
static void test_wait_replicas_short(void **state) {
        cdc_apply_conf_t conf;
        cdc_apply_t *ap;
        cdc_apply_stats_t st;
        char errstr[128];
        cdc_event_t *ev;

        (void)state;
        memset(&conf, 0, sizeof(conf));
        conf.redis_port            = tl_redis_port();
        conf.redis_wait_replicas   = 1;
        conf.redis_wait_timeout_ms = 50;
        conf.max_batch             = 256;
        ap = cdc_apply_new(&conf, errstr, sizeof(errstr));
        assert_non_null(ap);
        ev = tl_ev_follow(CDC_OP_CREATE, 1, 1, 2, 1, T0);
        assert_int_equal(cdc_apply_add(ap, ev, errstr, sizeof(errstr)), 0);
        cdc_event_destroy(ev);
        assert_int_equal(cdc_apply_flush(ap), CDC_ERR__TRANSPORT);
        assert_non_null(strstr(cdc_apply_errstr(ap), "WAIT 1"));
        assert_int_equal(cdc_apply_pending(ap), 2);
        assert_edge(1, 2, T0); /* applied on the primary all the same */
        cdc_apply_stats(ap, &st);
        assert_int_equal(st.wait_short, 1);
        /* the retry is a no-op on the primary and still unconfirmed */
        assert_int_equal(cdc_apply_flush(ap), CDC_ERR__TRANSPORT);
        cdc_apply_stats(ap, &st);
        assert_int_equal(st.stale, 2);
        cdc_apply_destroy(ap);
}

/* ---- idempotency records ---- */

#define DAY (24LL * 3600 * 1000)

static void test_idem(void **state) {
        cdc_apply_t *ap = tl_apply_new("fc", 0, 0); /* TTL 7 days */
        int64_t now     = cdc_wallclock_ms();
        int64_t created = now - DAY;
        char exp[32], buf[64];
        cdc_apply_stats_t st;
        const char *key = "fc:idem:{r:req-1}";

        (void)state;
        snprintf(exp, sizeof(exp), "%lld", (long long)(created + 7 * DAY));
        apply1(ap, tl_ev_idem(CDC_OP_CREATE, 10, "req-1", 5, "order:9", 1,
                              created));
        hget(key, "status", buf, sizeof(buf));
        assert_string_equal(buf, "1");
        hget(key, "biz_key", buf, sizeof(buf));
        assert_string_equal(buf, "order:9");
        assert_int_equal(intcmd("PEXPIRETIME", key), created + 7 * DAY);

        /* newer status; the expiry stays absolute */
        apply1(ap, tl_ev_idem(CDC_OP_UPDATE, 11, "req-1", 5, "order:9", 2,
                              created));
        hget(key, "status", buf, sizeof(buf));
        assert_string_equal(buf, "2");
        assert_int_equal(intcmd("PEXPIRETIME", key), created + 7 * DAY);
        /* replay of the older create: no-op, expiry not extended */
        apply1(ap, tl_ev_idem(CDC_OP_CREATE, 10, "req-1", 5, "order:9", 1,
                              created));
        hget(key, "status", buf, sizeof(buf));
        assert_string_equal(buf, "2");
        assert_int_equal(intcmd("PEXPIRETIME", key), created + 7 * DAY);

        /* delete removes; a replayed older update does not resurrect */
        apply1(ap, tl_ev_idem(CDC_OP_DELETE, 12, "req-1", 5, "order:9", 2,
                              created));
        assert_int_equal(intcmd("EXISTS", key), 0);
        assert_int_equal(intcmd("PEXPIRETIME", "fc:idem:{r:req-1}:del"),
                         created + 7 * DAY);
        apply1(ap, tl_ev_idem(CDC_OP_UPDATE, 11, "req-1", 5, "order:9", 2,
                              created));
        assert_int_equal(intcmd("EXISTS", key), 0);
        /* a new row with the same request id after the delete */
        apply1(ap,
               tl_ev_idem(CDC_OP_CREATE, 13, "req-1", 5, "order:10", 3, now));
        hget(key, "status", buf, sizeof(buf));
        assert_string_equal(buf, "3");
        assert_int_equal(intcmd("EXISTS", "fc:idem:{r:req-1}:del"), 0);
        assert_int_equal(intcmd("PEXPIRETIME", key), now + 7 * DAY);

        /* a row already past its TTL is not written ... */
        apply1(ap,
               tl_ev_idem(CDC_OP_CREATE, 20, "old", 3, "b", 2, now - 8 * DAY));
        assert_int_equal(intcmd("EXISTS", "fc:idem:{r:old}"), 0);
        /* ... and an expired update removes the record */
        apply1(ap, tl_ev_idem(CDC_OP_CREATE, 21, "late", 4, "b", 1, now - DAY));
        assert_int_equal(intcmd("EXISTS", "fc:idem:{r:late}"), 1);
        {
                cdc_apply_t *short_ttl = tl_apply_new("fc", 0, DAY / 2);

                apply1(short_ttl, tl_ev_idem(CDC_OP_UPDATE, 22, "late", 4, "b",
                                             2, now - DAY));
                assert_int_equal(intcmd("EXISTS", "fc:idem:{r:late}"), 0);
                cdc_apply_stats(short_ttl, &st);
                assert_int_equal(st.expired, 1);
                cdc_apply_destroy(short_ttl);
        }
        /* the reaper's delete of an expired row */
        apply1(ap,
               tl_ev_idem(CDC_OP_DELETE, 23, "old", 3, "b", 2, now - 8 * DAY));
        assert_int_equal(intcmd("EXISTS", "fc:idem:{r:old}:del"), 0);
        cdc_apply_stats(ap, &st);
        assert_int_equal(st.expired, 2);
        assert_int_equal(st.stale, 2);
        cdc_apply_destroy(ap);
}

static void test_idem_binary_request_id(void **state) {
        cdc_apply_t *ap         = tl_apply_new("fc", 0, 0);
        static const char rid[] = "a}b{c\0d\r\n*1 $3 DEL";
        const size_t ridlen     = sizeof(rid) - 1;
        char key[128];
        size_t klen;
        const char *argv[3];
        size_t lens[3];
        redisReply *r;

        (void)state;
        apply1(ap, tl_ev_idem(CDC_OP_CREATE, 1, rid, ridlen, "b", 2,
                              cdc_wallclock_ms()));
        memcpy(key, "fc:idem:{r:", 11);
        memcpy(key + 11, rid, ridlen);
        key[11 + ridlen] = '}';
        klen             = 12 + ridlen;
        argv[0] = "HGET", lens[0] = 4;
        argv[1] = key, lens[1] = klen;
        argv[2] = "status", lens[2] = 6;
        r = tl_cmd(rc, 3, argv, lens);
        assert_int_equal(r->type, REDIS_REPLY_STRING);
        assert_string_equal(r->str, "2");
        freeReplyObject(r);
        r = tl_cmdv(rc, "DBSIZE", NULL);
        assert_int_equal(r->integer, 1);
        freeReplyObject(r);
        cdc_apply_destroy(ap);
}

/* ---- several sources ---- */

static void ver_field(uint64_t u, const char *field, char *buf, size_t size) {
        char k[64];

        snprintf(k, sizeof(k), "fc:{u:%llu}:ver", (unsigned long long)u);
        hget(k, field, buf, size);
}

static void test_sources_union(void **state) {
        cdc_apply_t *ap = tl_apply_new("fc", 0, 0); /* home: followcdc */
        cdc_apply_stats_t st;
        char ver[128];

        (void)state;
        apply1(ap, tl_ev_follow(CDC_OP_CREATE, 100, 1, 2, 1, T0));
        ver_field(1, "o:2", ver, sizeof(ver));
        assert_string_equal(ver, "1000000000000"); /* one source: as before */
        /* another source, with a far smaller version: never compared with
         * the home source's, so it applies; the edge is the union */
        apply1(ap,
               tl_ev_source(tl_ev_follow(CDC_OP_CREATE, 5, 1, 2, 1, T0 + 10),
                            "s2"));
        assert_edge(1, 2, T0 + 10); /* the later follow time of the two */
        ver_field(1, "o:2", ver, sizeof(ver));
        assert_string_equal(ver, "1000000000000=1795000000000;"
                                 "50000000000@s2=1795000000010");
        ver_field(2, "i:1", ver, sizeof(ver));
        assert_string_equal(ver, "1000000000000=1795000000000;"
                                 "50000000000@s2=1795000000010");
        /* the home source deletes its row: s2 still has the edge */
        apply1(ap, tl_ev_follow(CDC_OP_DELETE, 101, 1, 2, 1, T0));
        assert_edge(1, 2, T0 + 10);
        ver_field(1, "o:2", ver, sizeof(ver));
        assert_string_equal(ver, "1010000000000;50000000000@s2=1795000000010");
        /* an older change of s2 is stale for s2 */
        apply1(ap,
               tl_ev_source(tl_ev_follow(CDC_OP_DELETE, 4, 1, 2, 1, T0), "s2"));
        assert_edge(1, 2, T0 + 10);
        /* a replayed create of the home source is stale too */
        apply1(ap, tl_ev_follow(CDC_OP_CREATE, 100, 1, 2, 1, T0));
        assert_edge(1, 2, T0 + 10);
        cdc_apply_stats(ap, &st);
        assert_int_equal(st.stale, 4);
        /* s2 unfollows (soft delete): no source follows any more */
        apply1(ap,
               tl_ev_source(tl_ev_follow(CDC_OP_UPDATE, 6, 1, 2, 0, T0), "s2"));
        assert_edge(1, 2, -1);
        ver_field(1, "o:2", ver, sizeof(ver));
        assert_string_equal(ver, "1010000000000;60000000000@s2");
        /* a source that is not the home source alone: tagged, one register */
        apply1(ap,
               tl_ev_source(tl_ev_follow(CDC_OP_CREATE, 7, 3, 4, 1, T0), "s3"));
        ver_field(3, "o:4", ver, sizeof(ver));
        assert_string_equal(ver, "70000000000@s3");
        assert_edge(3, 4, T0);
        apply1(ap,
               tl_ev_source(tl_ev_follow(CDC_OP_UPDATE, 8, 3, 4, 0, T0), "s3"));
        assert_edge(3, 4, -1);
        cdc_apply_destroy(ap);
}

/* An edge moved from the home source to shard s2 (copied, then deleted
 * from the old shard, or the reverse), with the reverse edge on a third
 * shard: every order of the changes ends in the same state, byte for byte:
 * followed (the copy), friends. */
static void test_move_between_sources_all_orders(void **state) {
        static const int perms[6][3] = {
                { 0, 1, 2 }, { 0, 2, 1 }, { 1, 0, 2 },
                { 1, 2, 0 }, { 2, 0, 1 }, { 2, 1, 0 }
        };
        cdc_apply_t *ap = tl_apply_new("fc", 0, 0);
        char first[4][128];
        int p, i;

        (void)state;
        for (p = 0; p < 6; p++) {
                redisReply *r = tl_cmdv(rc, "FLUSHALL", NULL);
                char ver[4][128];

                freeReplyObject(r);
                apply1(ap, tl_ev_source(tl_ev_follow(CDC_OP_CREATE, 3, 6, 5, 1,
                                                     T0 + 7),
                                        "s3"));
                for (i = 0; i < 3; i++) {
                        cdc_event_t *ev = NULL;

                        switch (perms[p][i]) {
                        case 0: /* the edge on its old shard */
                                ev = tl_ev_follow(CDC_OP_CREATE, 50, 5, 6, 1,
                                                  T0);
                                break;
                        case 1: /* copied to s2 */
                                ev = tl_ev_source(tl_ev_follow(CDC_OP_CREATE, 9,
                                                               5, 6, 1, T0),
                                                  "s2");
                                break;
                        case 2: /* deleted from the old shard */
                                ev = tl_ev_follow(CDC_OP_DELETE, 51, 5, 6, 1,
                                                  T0);
                                break;
                        }
                        apply1(ap, ev);
                }
                assert_edge(5, 6, T0);
                assert_edge(6, 5, T0 + 7);
                assert_friends(5, 6, T0 + 7);
                ver_field(5, "o:6", ver[0], sizeof(ver[0]));
                ver_field(5, "i:6", ver[1], sizeof(ver[1]));
                ver_field(6, "o:5", ver[2], sizeof(ver[2]));
                ver_field(6, "i:5", ver[3], sizeof(ver[3]));
                assert_string_equal(
                        ver[0], "510000000000;90000000000@s2=1795000000000");
                for (i = 0; i < 4; i++) {
                        if (p == 0)
                                memcpy(first[i], ver[i], sizeof(first[i]));
                        assert_string_equal(ver[i], first[i]);
                }
        }
        cdc_apply_destroy(ap);
}

/* ---- pair table ---- */

static void test_pair_basic(void **state) {
        cdc_apply_t *ap = tl_apply_new_pair("fc", 0);
        cdc_apply_stats_t st;
        char ver[64];

        (void)state;
        apply1(ap, tl_ev_pair(CDC_OP_CREATE, 10, 1, 2, 1, T0));
        assert_edge(1, 2, T0);
        assert_edge(2, 1, -1);
        assert_friends(1, 2, -1);
        cdc_apply_stats(ap, &st);
        assert_int_equal(st.scripts, 2); /* one per user */
        /* b follows back: friends, both scored by the row's time */
        apply1(ap, tl_ev_pair(CDC_OP_UPDATE, 11, 1, 2, 3, T0 + 5));
        assert_edge(1, 2, T0 + 5);
        assert_edge(2, 1, T0 + 5);
        assert_friends(1, 2, T0 + 5);
        /* replay of the first row image: stale */
        apply1(ap, tl_ev_pair(CDC_OP_CREATE, 10, 1, 2, 1, T0));
        assert_friends(1, 2, T0 + 5);
        /* a unfollows b: relation 2 */
        apply1(ap, tl_ev_pair(CDC_OP_UPDATE, 12, 1, 2, 2, T0 + 9));
        assert_edge(1, 2, -1);
        assert_edge(2, 1, T0 + 9);
        assert_friends(1, 2, -1);
        /* other bits of the column are not ours */
        apply1(ap, tl_ev_pair(CDC_OP_UPDATE, 13, 1, 2, 6, T0 + 9));
        assert_edge(1, 2, -1);
        assert_edge(2, 1, T0 + 9);
        /* delete: both directions gone, versions kept as tombstones */
        apply1(ap, tl_ev_pair(CDC_OP_DELETE, 14, 1, 2, 2, T0 + 9));
        assert_edge(1, 2, -1);
        assert_edge(2, 1, -1);
        assert_int_equal(zcard("fc:{u:1}:followers"), 0);
        ver_field(1, "o:2", ver, sizeof(ver));
        assert_string_equal(ver, "140000000000");
        ver_field(2, "i:1", ver, sizeof(ver));
        assert_string_equal(ver, "140000000000");
        apply1(ap, tl_ev_pair(CDC_OP_UPDATE, 13, 1, 2, 3, T0 + 9));
        assert_edge(1, 2, -1);
        /* re-inserted as friends */
        apply1(ap, tl_ev_pair(CDC_OP_CREATE, 15, 1, 2, 3, T0 + 20));
        assert_friends(1, 2, T0 + 20);
        cdc_apply_stats(ap, &st);
        assert_int_equal(st.stale, 4); /* the two replays, one per user */
        cdc_apply_destroy(ap);
}

/* Both users follow each other at the same instant (one IODKU each, the
 * row serializes them: relation 1 then 3), then one unfollows (1): the
 * six scripts in every order the two consumers could run them end in the
 * last row's state. */
static void test_pair_all_orders(void **state) {
        cdc_apply_t *gen = tl_apply_new_pair("fc", 0);
        int order[6]     = { 0, 1, 2, 3, 4, 5 };
        char errstr[128];
        int p = 0, i, j;

        (void)state;
        {
                cdc_event_t *e[3] = {
                        tl_ev_pair(CDC_OP_CREATE, 30, 7, 8, 1, T0),
                        tl_ev_pair(CDC_OP_UPDATE, 31, 7, 8, 3, T0 + 1),
                        tl_ev_pair(CDC_OP_UPDATE, 32, 7, 8, 2, T0 + 2),
                };

                for (i = 0; i < 3; i++) {
                        assert_int_equal(cdc_apply_add(gen, e[i], errstr,
                                                       sizeof(errstr)),
                                         0);
                        cdc_event_destroy(e[i]);
                }
        }
        assert_int_equal(cdc_apply_pending(gen), 6);
        /* all 720 permutations (Heap's algorithm, iterative) */
        {
                int c[6] = { 0 };

                i = 0;
                for (;;) {
                        redisReply *r = tl_cmdv(rc, "FLUSHALL", NULL);

                        freeReplyObject(r);
                        for (j = 0; j < 6; j++) {
                                const char *const *argv;
                                const size_t *lens;
                                const char *full[20];
                                size_t flen[20];
                                cdc_script_id_t id;
                                size_t len;
                                const char *src;
                                int n = cdc_apply_queued(gen, (size_t)order[j],
                                                         &id, &argv, &lens);

                                assert_int_equal(n, 13);
                                src     = cdc_scripts_source(id, &len);
                                full[0] = "EVAL", flen[0] = 4;
                                full[1] = src, flen[1] = len;
                                full[2] = "4", flen[2] = 1;
                                memcpy(full + 3, argv, sizeof(*argv) * 13);
                                memcpy(flen + 3, lens, sizeof(*lens) * 13);
                                r = tl_cmd(rc, 16, full, flen);
                                assert_int_equal(r->type, REDIS_REPLY_INTEGER);
                                freeReplyObject(r);
                        }
                        assert_edge(7, 8, -1);
                        assert_edge(8, 7, T0 + 2);
                        assert_friends(7, 8, -1);
                        p++;
                        while (i < 6 && c[i] >= i) {
                                c[i] = 0;
                                i++;
                        }
                        if (i >= 6)
                                break;
                        if (i % 2 == 0) {
                                int t    = order[0];
                                order[0] = order[i];
                                order[i] = t;
                        } else {
                                int t       = order[c[i]];
                                order[c[i]] = order[i];
                                order[i]    = t;
                        }
                        c[i]++;
                        i = 0;
                }
        }
        assert_int_equal(p, 720);
        cdc_apply_destroy(gen);
}

/* Idempotency records of two sources: within a source the newer version
 * wins; across sources the tag that sorts last (home first), whatever
 * the order. */
static void test_idem_sources(void **state) {
        cdc_apply_t *ap = tl_apply_new("fc", 0, 0);
        int64_t now     = cdc_wallclock_ms();
        const char *key = "fc:idem:{r:rq}";
        char buf[64];
        int p;

        (void)state;
        for (p = 0; p < 2; p++) {
                redisReply *r = tl_cmdv(rc, "FLUSHALL", NULL);
                cdc_event_t *home =
                        tl_ev_idem(CDC_OP_CREATE, 100, "rq", 2, "h", 1, now);
                cdc_event_t *other = tl_ev_source(
                        tl_ev_idem(CDC_OP_CREATE, 5, "rq", 2, "o", 2, now),
                        "s2");

                freeReplyObject(r);
                if (p == 0) {
                        apply1(ap, home);
                        apply1(ap, other);
                } else {
                        apply1(ap, other);
                        apply1(ap, home);
                }
                hget(key, "status", buf, sizeof(buf));
                assert_string_equal(buf, "2");
                hget(key, "ver", buf, sizeof(buf));
                assert_string_equal(buf, "50000000000@s2");
                /* a newer change of s2 applies, an older one does not */
                apply1(ap, tl_ev_source(tl_ev_idem(CDC_OP_UPDATE, 6, "rq", 2,
                                                   "o", 3, now),
                                        "s2"));
                apply1(ap, tl_ev_source(tl_ev_idem(CDC_OP_UPDATE, 4, "rq", 2,
                                                   "o", 1, now),
                                        "s2"));
                hget(key, "status", buf, sizeof(buf));
                assert_string_equal(buf, "3");
                /* s2's delete leaves a tagged tombstone */
                apply1(ap, tl_ev_source(tl_ev_idem(CDC_OP_DELETE, 7, "rq", 2,
                                                   "o", 3, now),
                                        "s2"));
                assert_int_equal(intcmd("EXISTS", key), 0);
                r = tl_cmdv(rc, "GET", "fc:idem:{r:rq}:del", NULL);
                assert_string_equal(r->str, "70000000000@s2");
                freeReplyObject(r);
        }
        cdc_apply_destroy(ap);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup(test_sources_union, setup),
                cmocka_unit_test_setup(test_move_between_sources_all_orders,
                                       setup),
                cmocka_unit_test_setup(test_pair_basic, setup),
                cmocka_unit_test_setup(test_pair_all_orders, setup),
                cmocka_unit_test_setup(test_idem_sources, setup),
                cmocka_unit_test_setup(test_follow_basic, setup),
                cmocka_unit_test_setup(test_stale_and_duplicate, setup),
                cmocka_unit_test_setup(test_mutual_follow_all_orders, setup),
                cmocka_unit_test_setup(test_follow_unfollow_race, setup),
                cmocka_unit_test_setup(test_soft_hard_delete_refollow, setup),
                cmocka_unit_test_setup(test_edge_moved_by_update, setup),
                cmocka_unit_test_setup(test_big_ids_and_snapshot, setup),
                cmocka_unit_test_setup(test_bad_events, setup),
                cmocka_unit_test_setup(test_noscript_reload, setup),
                cmocka_unit_test_setup(test_script_error_keeps_queue, setup),
                cmocka_unit_test_setup(test_unreachable, setup),
                cmocka_unit_test_setup(test_wait_replicas_short, setup),
                cmocka_unit_test_setup(test_auth_and_db, setup),
                cmocka_unit_test_setup(test_idem, setup),
                cmocka_unit_test_setup(test_idem_binary_request_id, setup),
        };
        int rcode;

        rc    = tl_redis_connect();
        rcode = cmocka_run_group_tests(tests, NULL, NULL);
        redisFree(rc);
        return rcode;
}
