/**
 * @file redis_roundtrip.c
 * @brief Integration check of hiredis against a private redis-server
 *        started by tests/lib/harness.sh (see 0002-redis-roundtrip.sh):
 *        SET/GET, EVAL of a small script with KEYS and ARGV, and a
 *        pipeline (redisAppendCommandArgv N times, redisGetReply N times)
 *        with a NULL check on every reply.
 *
 * Environment: H_REDIS_PORT. Exit status 0 on success, 1 on failure.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <hiredis/hiredis.h>

#define RT_PIPELINE 100

/* A small version-checked write, the shape the consumer's scripts take:
 * store ARGV[2] only when ARGV[1] is newer than the stored version. */
static const char rt_script[] =
        "local cur = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')\n"
        "if tonumber(ARGV[1]) <= cur then return 0 end\n"
        "redis.call('HSET', KEYS[1], 'v', ARGV[1], 'data', ARGV[2])\n"
        "return 1\n";

/* Run one command; on a transport error (NULL) or an unexpected reply
 * type print why and return NULL. */
static redisReply *rt_cmd(redisContext *rc, int want_type, int argc,
                          const char **argv) {
        redisReply *r = redisCommandArgv(rc, argc, argv, NULL);
        if (!r) {
                fprintf(stderr, "FAIL: %s: connection error: %s\n", argv[0],
                        rc->errstr);
                return NULL;
        }
        if (r->type != want_type) {
                fprintf(stderr, "FAIL: %s: reply type %d (%s), want %d\n",
                        argv[0], r->type,
                        r->type == REDIS_REPLY_ERROR ? r->str : "-", want_type);
                freeReplyObject(r);
                return NULL;
        }
        return r;
}

static int rt_eval(redisContext *rc, const char *ver, const char *data,
                   long long want) {
        const char *argv[] = {
                "EVAL", rt_script, "1", "rt:{u1}:edge", ver, data
        };
        redisReply *r = rt_cmd(rc, REDIS_REPLY_INTEGER, 6, argv);
        int ok;
        if (!r)
                return -1;
        ok = r->integer == want;
        if (!ok)
                fprintf(stderr, "FAIL: EVAL v=%s returned %lld, want %lld\n",
                        ver, r->integer, want);
        freeReplyObject(r);
        return ok ? 0 : -1;
}

int main(void) {
        const char *portstr = getenv("H_REDIS_PORT");
        redisContext *rc    = NULL;
        redisReply *r       = NULL;
        struct timeval tv   = { 10, 0 };
        char *end;
        long port;
        int i, rcode = 1;

        if (!portstr || !*portstr) {
                fprintf(stderr, "FAIL: H_REDIS_PORT is not set\n");
                goto out;
        }
        errno = 0;
        port  = strtol(portstr, &end, 10);
        if (errno || *end || port <= 0 || port > 65535) {
                fprintf(stderr, "FAIL: bad H_REDIS_PORT '%s'\n", portstr);
                goto out;
        }
        rc = redisConnectWithTimeout("127.0.0.1", (int)port, tv);
        if (!rc || rc->err) {
                fprintf(stderr, "FAIL: connect: %s\n",
                        rc ? rc->errstr : "out of memory");
                goto out;
        }
        if (redisSetTimeout(rc, tv) != REDIS_OK) {
                fprintf(stderr, "FAIL: redisSetTimeout\n");
                goto out;
        }

        /* start from a clean slate, so the program can run twice */
        {
                const char *argv[] = { "DEL", "rt:key", "rt:{u1}:edge",
                                       "rt:counter" };
                r                  = rt_cmd(rc, REDIS_REPLY_INTEGER, 4, argv);
                if (!r)
                        goto out;
                freeReplyObject(r);
                r = NULL;
        }

        /* SET / GET with a binary-safe value (embedded NUL) */
        {
                static const char val[] = { 'a', '\0', 'b' };
                const char *argv[]      = { "SET", "rt:key", val };
                size_t lens[]           = { 3, 6, sizeof(val) };
                const char *gargv[]     = { "GET", "rt:key" };
                r                       = redisCommandArgv(rc, 3, argv, lens);
                if (!r || r->type != REDIS_REPLY_STATUS ||
                    strcmp(r->str, "OK") != 0) {
                        fprintf(stderr, "FAIL: SET: %s\n",
                                r ? r->str : rc->errstr);
                        goto out;
                }
                freeReplyObject(r);
                r = rt_cmd(rc, REDIS_REPLY_STRING, 2, gargv);
                if (!r)
                        goto out;
                if (r->len != sizeof(val) ||
                    memcmp(r->str, val, sizeof(val)) != 0) {
                        fprintf(stderr, "FAIL: GET returned other bytes\n");
                        goto out;
                }
                freeReplyObject(r);
                r = NULL;
                printf("SET/GET: ok\n");
        }

        /* a missing key is a NIL reply, not NULL */
        {
                const char *argv[] = { "GET", "rt:missing" };
                r                  = rt_cmd(rc, REDIS_REPLY_NIL, 2, argv);
                if (!r)
                        goto out;
                freeReplyObject(r);
                r = NULL;
        }

        /* EVAL: newer version applies, same or older is a no-op */
        if (rt_eval(rc, "5", "five", 1) != 0 ||
            rt_eval(rc, "5", "again", 0) != 0 ||
            rt_eval(rc, "3", "older", 0) != 0 ||
            rt_eval(rc, "7", "seven", 1) != 0)
                goto out;
        {
                const char *argv[] = { "HGET", "rt:{u1}:edge", "data" };
                r                  = rt_cmd(rc, REDIS_REPLY_STRING, 3, argv);
                if (!r)
                        goto out;
                if (strcmp(r->str, "seven") != 0) {
                        fprintf(stderr, "FAIL: HGET data = '%s'\n", r->str);
                        goto out;
                }
                freeReplyObject(r);
                r = NULL;
                printf("EVAL: ok\n");
        }

        /* pipeline: N INCRs then one deliberate error, then the replies */
        for (i = 0; i < RT_PIPELINE; i++) {
                const char *argv[] = { "INCR", "rt:counter" };
                if (redisAppendCommandArgv(rc, 2, argv, NULL) != REDIS_OK) {
                        fprintf(stderr, "FAIL: append: %s\n", rc->errstr);
                        goto out;
                }
        }
        {
                const char *argv[] = { "HGET", "rt:key", "f" }; /* WRONGTYPE */
                if (redisAppendCommandArgv(rc, 3, argv, NULL) != REDIS_OK) {
                        fprintf(stderr, "FAIL: append: %s\n", rc->errstr);
                        goto out;
                }
        }
        for (i = 0; i <= RT_PIPELINE; i++) {
                void *reply = NULL;
                if (redisGetReply(rc, &reply) != REDIS_OK || !reply) {
                        /* NULL: the connection is dead */
                        fprintf(stderr, "FAIL: pipelined reply %d: %s\n", i,
                                rc->errstr);
                        goto out;
                }
                r = reply;
                if (i < RT_PIPELINE) {
                        if (r->type != REDIS_REPLY_INTEGER ||
                            r->integer != i + 1) {
                                fprintf(stderr,
                                        "FAIL: reply %d: type %d value "
                                        "%lld\n",
                                        i, r->type, r->integer);
                                goto out;
                        }
                } else if (r->type != REDIS_REPLY_ERROR ||
                           strncmp(r->str, "WRONGTYPE", 9) != 0) {
                        /* one failed command is an error reply; the
                         * connection stays usable */
                        fprintf(stderr, "FAIL: expected WRONGTYPE, got %d\n",
                                r->type);
                        goto out;
                }
                freeReplyObject(r);
                r = NULL;
        }
        {
                const char *argv[] = { "PING" };
                r                  = rt_cmd(rc, REDIS_REPLY_STATUS, 1, argv);
                if (!r)
                        goto out;
                freeReplyObject(r);
                r = NULL;
        }
        printf("pipeline: %d replies ok\n", RT_PIPELINE + 1);
        printf("OK\n");
        rcode = 0;
out:
        if (r)
                freeReplyObject(r);
        if (rc)
                redisFree(rc);
        return rcode;
}
