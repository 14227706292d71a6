/* cdc_apply integration tool (H_REDIS_PORT):
 *
 *   apply_tool restart          Redis killed (kill -9) and restarted empty
 *                               mid-stream; driven by 0032-apply-restart.sh:
 *                               prints READY, waits for a line on stdin.
 *   apply_tool bench EDGES USERS IDEMS [SOURCE [SOURCE2]]
 *                               scripts/s through cdc_apply, pipelined, and
 *                               Redis memory per edge and per request id.
 *                               SOURCE: the edges' source name (default the
 *                               home source "followcdc"); SOURCE2: then
 *                               every edge moves to SOURCE2 (a copy there,
 *                               a delete on SOURCE) and the memory per
 *                               edge after the move is printed too.
 *   apply_tool failover-write N NOW_MS / failover-check N NOW_MS
 *                               N changes written with WAIT 1 to a primary;
 *                               after a kill -9 and promotion of its
 *                               replica, the replica must hold them all
 *                               (0034-apply-failover.sh).
 *   apply_tool script NAME      print a script's Lua source (edge|idem),
 *                               for redis-benchmark / redis-cli --eval.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "apply_testlib.h"
#include "cdc_backoff.h"
#include "cdc_scripts.h"

#define T0  1795000000000LL
#define DAY (24LL * 3600 * 1000)

static long long used_memory(redisContext *rc) {
        redisReply *r = tl_cmdv(rc, "INFO", "memory", NULL);
        const char *p;
        long long v = -1;

        if (r->type == REDIS_REPLY_STRING) {
                p = strstr(r->str, "used_memory:");
                if (p)
                        v = strtoll(p + 12, NULL, 10);
        }
        freeReplyObject(r);
        return v;
}

static void flush_or_die(cdc_apply_t *ap) {
        if (cdc_apply_flush(ap) != CDC_ERR_NO_ERROR) {
                fprintf(stderr, "flush: %s\n", cdc_apply_errstr(ap));
                exit(1);
        }
}

/* ---- restart ---- */

/* Event i of the restart stream: follows among 100 users, unfollows of
 * earlier edges, and idempotency rows. */
static cdc_event_t *restart_event(int i, int64_t now) {
        uint64_t seq = (uint64_t)i + 1;
        char rid[32];
        int n;

        switch (i % 5) {
        case 0:
        case 1:
        case 2:
                return tl_ev_follow(CDC_OP_CREATE, seq, 1 + (uint64_t)(i % 100),
                                    1 + (uint64_t)((i / 100 + i) % 100) + 100,
                                    1, T0 + i);
        case 3: /* the reverse edge of an earlier follow: friends */
                return tl_ev_follow(
                        CDC_OP_CREATE, seq,
                        1 + (uint64_t)(((i - 3) / 100 + i - 3) % 100) + 100,
                        1 + (uint64_t)((i - 3) % 100), 1, T0 + i);
        default:
                n = snprintf(rid, sizeof(rid), "r-%d", i);
                return tl_ev_idem(CDC_OP_CREATE, seq, rid, (size_t)n, "b", 2,
                                  now);
        }
}

static redisContext *connect_db(int db) {
        redisContext *rc = tl_redis_connect();
        char dbt[8];
        redisReply *r;

        snprintf(dbt, sizeof(dbt), "%d", db);
        r = tl_cmdv(rc, "SELECT", dbt, NULL);
        freeReplyObject(r);
        return rc;
}

static int run_restart(void) {
        const int total = 2000, first = 1000, held = 100;
        int64_t now     = cdc_wallclock_ms();
        cdc_apply_t *ap = tl_apply_new("rs", 512, 0);
        cdc_apply_t *ref;
        cdc_apply_conf_t conf;
        cdc_apply_stats_t st;
        cdc_backoff_t *bo = cdc_backoff_new(50, 1000);
        char line[64], errstr[256];
        tl_buf_t a = { 0 }, b = { 0 };
        redisContext *rc0, *rc1;
        cdc_err_t err;
        size_t pending;
        int i, tries = 0;

        /* 1. the first part, acknowledged */
        for (i = 0; i < first; i++) {
                cdc_event_t *ev = restart_event(i, now);

                tl_apply_add(ap, ev);
                cdc_event_destroy(ev);
        }
        flush_or_die(ap);
        /* 2. a batch queued but not flushed when Redis dies */
        for (i = first; i < first + held; i++) {
                cdc_event_t *ev = restart_event(i, now);

                tl_apply_add(ap, ev);
                cdc_event_destroy(ev);
        }
        pending = cdc_apply_pending(ap);
        printf("READY pending=%zu\n", pending);
        fflush(stdout);
        if (!fgets(line, sizeof(line), stdin)) {
                fprintf(stderr, "restart: no go line\n");
                return 1;
        }
        /* 3. the flush sees the dead connection and keeps the batch */
        err = cdc_apply_flush(ap);
        if (err != CDC_ERR__TRANSPORT) {
                fprintf(stderr, "FAIL: flush after kill returned %s\n",
                        cdc_err2str(err));
                return 1;
        }
        printf("flush after kill: %s (%s), pending %zu\n", cdc_err2str(err),
               cdc_apply_errstr(ap), cdc_apply_pending(ap));
        if (cdc_apply_pending(ap) != pending) {
                fprintf(stderr, "FAIL: the batch was not kept\n");
                return 1;
        }
        /* 4. reconnect with backoff */
        while ((err = cdc_apply_connect(ap)) != CDC_ERR_NO_ERROR) {
                int ms = cdc_backoff_next_ms(bo, cdc_now_us());

                if (++tries > 40) {
                        fprintf(stderr, "FAIL: no reconnect: %s\n",
                                cdc_apply_errstr(ap));
                        return 1;
                }
                usleep((useconds_t)ms * 1000);
        }
        /* 5. the kept batch, then a replay from the start (Redis lost
         *    everything) and the rest of the stream */
        flush_or_die(ap);
        for (i = 0; i < total; i++) {
                cdc_event_t *ev = restart_event(i, now);

                tl_apply_add(ap, ev);
                cdc_event_destroy(ev);
        }
        flush_or_die(ap);
        cdc_apply_stats(ap, &st);
        printf("recovered: reconnects=%llu scripts=%llu applied=%llu "
               "stale=%llu\n",
               (unsigned long long)st.reconnects,
               (unsigned long long)st.scripts, (unsigned long long)st.applied,
               (unsigned long long)st.stale);
        if (st.reconnects < 1) {
                fprintf(stderr, "FAIL: reconnect not counted\n");
                return 1;
        }

        /* reference: the same stream once, without faults, in db 1 */
        memset(&conf, 0, sizeof(conf));
        conf.redis_host = "127.0.0.1";
        conf.redis_port = tl_redis_port();
        conf.redis_db   = 1;
        conf.key_prefix = "rs";
        conf.max_batch  = 256;
        ref             = cdc_apply_new(&conf, errstr, sizeof(errstr));
        if (!ref) {
                fprintf(stderr, "cdc_apply_new: %s\n", errstr);
                return 1;
        }
        for (i = 0; i < total; i++) {
                cdc_event_t *ev = restart_event(i, now);

                tl_apply_add(ref, ev);
                cdc_event_destroy(ev);
        }
        flush_or_die(ref);
        rc0 = connect_db(0);
        rc1 = connect_db(1);
        tl_listing(rc0, "rs", &a);
        tl_listing(rc1, "rs", &b);
        if (a.len == 0 || a.len != b.len || memcmp(a.p, b.p, a.len) != 0) {
                fprintf(stderr, "FAIL: rebuilt state differs\n");
                tl_listing_diff(&b, &a);
                return 1;
        }
        printf("rebuilt state equals the reference (%zu bytes listed)\n",
               a.len);
        tl_buf_free(&a);
        tl_buf_free(&b);
        redisFree(rc0);
        redisFree(rc1);
        cdc_apply_destroy(ref);
        cdc_apply_destroy(ap);
        cdc_backoff_destroy(bo);
        return 0;
}

/* ---- failover ---- */

/* Flush as the consumer does: a failed flush (here: a WAIT that timed
 * out on a loaded machine) keeps what was not acknowledged, and is
 * retried after a pause. Dies after 60 failures. */
static void flush_retry(cdc_apply_t *ap) {
        struct timespec ts = { 0, 200 * 1000000L };
        int tries;

        for (tries = 0; cdc_apply_flush(ap) != CDC_ERR_NO_ERROR; tries++) {
                fprintf(stderr, "flush (retried): %s\n", cdc_apply_errstr(ap));
                if (tries == 60)
                        exit(1);
                nanosleep(&ts, NULL);
        }
}

/* Write the restart stream with WAIT 1: every flush that succeeds is on
 * the replica too. */
static int run_failover_write(int total, int64_t now) {
        cdc_apply_conf_t conf;
        cdc_apply_t *ap;
        cdc_apply_stats_t st;
        char errstr[256];
        int i;

        memset(&conf, 0, sizeof(conf));
        conf.redis_port            = tl_redis_port();
        conf.key_prefix            = "fo";
        conf.max_batch             = 256;
        conf.redis_wait_replicas   = 1;
        conf.redis_wait_timeout_ms = 2000;
        ap = cdc_apply_new(&conf, errstr, sizeof(errstr));
        if (!ap) {
                fprintf(stderr, "cdc_apply_new: %s\n", errstr);
                return 1;
        }
        for (i = 0; i < total; i++) {
                cdc_event_t *ev = restart_event(i, now);
                cdc_err_t err;

                for (;;) {
                        err = cdc_apply_add(ap, ev, errstr, sizeof(errstr));
                        if (err != CDC_ERR__QUEUE_FULL)
                                break;
                        flush_retry(ap);
                }
                cdc_event_destroy(ev);
                if (err != CDC_ERR_NO_ERROR) {
                        fprintf(stderr, "add: %s\n", errstr);
                        exit(1);
                }
        }
        flush_retry(ap);
        cdc_apply_stats(ap, &st);
        printf("written with WAIT 1: scripts=%llu round_trips=%llu "
               "wait_short=%llu\n",
               (unsigned long long)st.scripts,
               (unsigned long long)st.round_trips,
               (unsigned long long)st.wait_short);
        cdc_apply_destroy(ap);
        return 0;
}

/* On the promoted replica: db 0 must equal the same stream applied
 * afresh into db 1. */
static int run_failover_check(int total, int64_t now) {
        cdc_apply_conf_t conf;
        cdc_apply_t *ref;
        char errstr[256];
        tl_buf_t a = { 0 }, b = { 0 };
        redisContext *rc0, *rc1;
        int i;

        memset(&conf, 0, sizeof(conf));
        conf.redis_port = tl_redis_port();
        conf.redis_db   = 1;
        conf.key_prefix = "fo";
        conf.max_batch  = 256;
        ref             = cdc_apply_new(&conf, errstr, sizeof(errstr));
        if (!ref) {
                fprintf(stderr, "cdc_apply_new: %s\n", errstr);
                return 1;
        }
        for (i = 0; i < total; i++) {
                cdc_event_t *ev = restart_event(i, now);

                tl_apply_add(ref, ev);
                cdc_event_destroy(ev);
        }
        flush_or_die(ref);
        rc0 = connect_db(0);
        rc1 = connect_db(1);
        tl_listing(rc0, "fo", &a);
        tl_listing(rc1, "fo", &b);
        if (a.len == 0 || a.len != b.len || memcmp(a.p, b.p, a.len) != 0) {
                fprintf(stderr, "FAIL: the promoted replica lacks "
                                "acknowledged writes\n");
                tl_listing_diff(&b, &a);
                return 1;
        }
        printf("promoted replica holds every acknowledged write (%zu "
               "bytes listed)\n",
               a.len);
        tl_buf_free(&a);
        tl_buf_free(&b);
        redisFree(rc0);
        redisFree(rc1);
        cdc_apply_destroy(ref);
        return 0;
}

/* ---- bench ---- */

static double elapsed_s(const struct timespec *t0) {
        struct timespec t1;

        clock_gettime(CLOCK_MONOTONIC, &t1);
        return (double)(t1.tv_sec - t0->tv_sec) +
               (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static int run_bench(long edges, long users, long idems, const char *src,
                     const char *src2) {
        redisContext *rc = tl_redis_connect();
        cdc_apply_t *ap  = tl_apply_new("bn", 256, 0);
        cdc_apply_stats_t st;
        struct timespec t0;
        long long m0, m1, m2;
        double secs, isecs;
        int64_t now = cdc_wallclock_ms();
        redisReply *r;
        long i;

        if (users < 2 || edges > users * (users - 1)) {
                fprintf(stderr, "bench: too many edges for %ld users\n", users);
                return 2;
        }
        r = tl_cmdv(rc, "FLUSHALL", NULL);
        freeReplyObject(r);
        if (cdc_apply_connect(ap) != CDC_ERR_NO_ERROR) {
                fprintf(stderr, "connect: %s\n", cdc_apply_errstr(ap));
                return 1;
        }
        m0 = used_memory(rc);
        clock_gettime(CLOCK_MONOTONIC, &t0);
        /* distinct edges, every user following edges/users others; about
         * half of them mutual */
        for (i = 0; i < edges; i++) {
                long f = i % users, k = i / users;
                long e          = (f + 1 + k) % users;
                cdc_event_t *ev = tl_ev_follow(
                        CDC_OP_CREATE, (uint64_t)i + 1, (uint64_t)f + 1000000,
                        (uint64_t)e + 1000000, 1, T0 + i);

                tl_apply_add(ap, tl_ev_source(ev, src));
                cdc_event_destroy(ev);
        }
        flush_or_die(ap);
        secs = elapsed_s(&t0);
        m1   = used_memory(rc);
        cdc_apply_stats(ap, &st);
        printf("apply_bench follow: edges=%ld users=%ld scripts=%llu "
               "round_trips=%llu seconds=%.3f scripts_per_s=%.0f "
               "events_per_s=%.0f\n",
               edges, users, (unsigned long long)st.scripts,
               (unsigned long long)st.round_trips, secs,
               (double)st.scripts / secs, (double)edges / secs);
        printf("apply_bench memory: source=%s used_memory_delta=%lld "
               "bytes_per_edge=%.1f\n",
               src, m1 - m0, (double)(m1 - m0) / (double)edges);
        if (src2) {
                long long mm;

                /* every edge moved to src2: copied there, deleted on src */
                for (i = 0; i < edges; i++) {
                        long f = i % users, k = i / users;
                        long e = (f + 1 + k) % users;
                        cdc_event_t *cp =
                                tl_ev_follow(CDC_OP_CREATE, (uint64_t)i + 1,
                                             (uint64_t)f + 1000000,
                                             (uint64_t)e + 1000000, 1, T0 + i);
                        cdc_event_t *del = tl_ev_follow(
                                CDC_OP_DELETE, (uint64_t)(edges + i + 1),
                                (uint64_t)f + 1000000, (uint64_t)e + 1000000, 1,
                                T0 + i);

                        tl_apply_add(ap, tl_ev_source(cp, src2));
                        tl_apply_add(ap, tl_ev_source(del, src));
                        cdc_event_destroy(cp);
                        cdc_event_destroy(del);
                }
                flush_or_die(ap);
                mm = used_memory(rc);
                printf("apply_bench memory: moved to %s: "
                       "used_memory_delta=%lld bytes_per_edge=%.1f\n",
                       src2, mm - m0, (double)(mm - m0) / (double)edges);
                m1 = mm;
        }

        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (i = 0; i < idems; i++) {
                char rid[48];
                int n = snprintf(rid, sizeof(rid),
                                 "5f0c2a9e-%08lx-4c1d-9a7b-%012lx", i,
                                 i * 7919);
                cdc_event_t *ev =
                        tl_ev_idem(CDC_OP_CREATE, (uint64_t)(edges + i + 1),
                                   rid, (size_t)n, "order:123456", 2, now);

                tl_apply_add(ap, ev);
                cdc_event_destroy(ev);
        }
        flush_or_die(ap);
        isecs = elapsed_s(&t0);
        m2    = used_memory(rc);
        if (idems > 0)
                printf("apply_bench idem: requests=%ld seconds=%.3f "
                       "scripts_per_s=%.0f bytes_per_request=%.1f\n",
                       idems, isecs, (double)idems / isecs,
                       (double)(m2 - m1) / (double)idems);
        cdc_apply_destroy(ap);
        redisFree(rc);
        return 0;
}

int main(int argc, char **argv) {
        /* a write to a connection Redis closed must be an error, not a
         * signal (the consumer ignores SIGPIPE the same way) */
        signal(SIGPIPE, SIG_IGN);
        if (argc >= 2 && strcmp(argv[1], "restart") == 0)
                return run_restart();
        /* failover-*: N and the created_at (ms) of the idempotency rows,
         * the same in both processes */
        if (argc == 4 && strcmp(argv[1], "failover-write") == 0)
                return run_failover_write((int)strtol(argv[2], NULL, 10),
                                          strtoll(argv[3], NULL, 10));
        if (argc == 4 && strcmp(argv[1], "failover-check") == 0)
                return run_failover_check((int)strtol(argv[2], NULL, 10),
                                          strtoll(argv[3], NULL, 10));
        if (argc >= 2 && strcmp(argv[1], "bench") == 0 && argc >= 6)
                return run_bench(strtol(argv[2], NULL, 10),
                                 strtol(argv[3], NULL, 10),
                                 strtol(argv[4], NULL, 10), argv[5],
                                 argc >= 7 ? argv[6] : NULL);
        if (argc >= 2 && strcmp(argv[1], "bench") == 0)
                return run_bench(argc > 2 ? strtol(argv[2], NULL, 10) : 100000,
                                 argc > 3 ? strtol(argv[3], NULL, 10) : 10000,
                                 argc > 4 ? strtol(argv[4], NULL, 10) : 20000,
                                 "followcdc", NULL);
        if (argc == 3 && strcmp(argv[1], "script") == 0) {
                int id;

                for (id = 0; id < CDC_SCRIPT__CNT; id++)
                        if (strcmp(argv[2], cdc_scripts_name(id)) == 0) {
                                fputs(cdc_scripts_source(id, NULL), stdout);
                                return 0;
                        }
        }
        fprintf(stderr,
                "usage: apply_tool restart | failover-write N NOW_MS | "
                "failover-check N NOW_MS |\n"
                "       bench [EDGES [USERS [IDEMS]]] | script edge|idem\n");
        return 2;
}
