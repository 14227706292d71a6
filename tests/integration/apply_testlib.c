/* Helpers of the cdc_apply integration programs (see apply_testlib.h). */
#include "apply_testlib.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void tl_die(const char *what) {
        fprintf(stderr, "FATAL: %s\n", what);
        abort();
}

void tl_buf_add(tl_buf_t *b, const void *data, size_t len) {
        if (b->len + len + 1 > b->cap) {
                size_t cap = b->cap ? b->cap : 256;

                while (cap < b->len + len + 1)
                        cap *= 2;
                b->p = realloc(b->p, cap);
                if (!b->p)
                        tl_die("out of memory");
                b->cap = cap;
        }
        memcpy(b->p + b->len, data, len);
        b->len += len;
        b->p[b->len] = '\0';
}

void tl_buf_piece(tl_buf_t *b, const void *data, size_t len) {
        char hdr[32];
        int n = snprintf(hdr, sizeof(hdr), "%zu:", len);

        tl_buf_add(b, hdr, (size_t)n);
        tl_buf_add(b, data, len);
}

void tl_buf_free(tl_buf_t *b) {
        free(b->p);
        memset(b, 0, sizeof(*b));
}

int tl_redis_port(void) {
        const char *p = getenv("H_REDIS_PORT");
        long v;
        char *end;

        if (!p || !*p) {
                fprintf(stderr, "H_REDIS_PORT not set: run me from "
                                "tests/integration/003x-*.sh\n");
                exit(77);
        }
        v = strtol(p, &end, 10);
        if (*end || v <= 0 || v > 65535)
                tl_die("bad H_REDIS_PORT");
        return (int)v;
}

redisContext *tl_redis_connect(void) {
        struct timeval tv = { 10, 0 };
        redisContext *rc =
                redisConnectWithTimeout("127.0.0.1", tl_redis_port(), tv);

        if (!rc || rc->err)
                tl_die("cannot connect to the test redis");
        redisSetTimeout(rc, tv);
        return rc;
}

redisReply *tl_cmd(redisContext *rc, int argc, const char **argv,
                   const size_t *lens) {
        redisReply *r = redisCommandArgv(rc, argc, argv, lens);

        if (!r) {
                fprintf(stderr, "redis: %s\n", rc->errstr);
                tl_die("redis command failed");
        }
        return r;
}

redisReply *tl_cmdv(redisContext *rc, const char *first, ...) {
        const char *argv[32];
        size_t lens[32];
        int argc = 0;
        va_list ap;
        const char *a;

        va_start(ap, first);
        for (a = first; a && argc < 32; a = va_arg(ap, const char *)) {
                argv[argc] = a;
                lens[argc] = strlen(a);
                argc++;
        }
        va_end(ap);
        return tl_cmd(rc, argc, argv, lens);
}

static void tl_set_source(cdc_event_t *ev, const char *table, uint64_t seq) {
        snprintf(ev->source.name, sizeof(ev->source.name), "followcdc");
        snprintf(ev->source.db, sizeof(ev->source.db), "followcdc");
        snprintf(ev->source.table, sizeof(ev->source.table), "%s", table);
        ev->source.server_id = 1;
        ev->source.epoch     = 0;
        ev->source.seq       = seq;
        ev->source.row       = 0;
        ev->source.ts_ms     = 1795000000000LL;
        ev->source.snapshot  = ev->op == CDC_OP_READ;
}

static json_t *tl_time(int64_t ms) {
        char buf[40];

        if (cdc_time_format_us(buf, sizeof(buf), ms * 1000) < 0)
                tl_die("time format");
        return json_string(buf);
}

cdc_event_t *tl_ev_follow(cdc_op_t op, uint64_t seq, uint64_t follower,
                          uint64_t followee, int status, int64_t time_ms) {
        cdc_event_t *ev = cdc_event_new(op);
        json_t *row;

        if (!ev)
                tl_die("cdc_event_new");
        tl_set_source(ev, "follow", seq);
        row = json_pack("{s:I, s:I, s:I, s:i, s:I, s:o, s:o}", "id",
                        (json_int_t)(follower * 100000 + followee),
                        "follower_id", (json_int_t)follower, "followee_id",
                        (json_int_t)followee, "status", status, "version",
                        (json_int_t)seq, "created_at", tl_time(time_ms),
                        "updated_at", tl_time(time_ms));
        if (!row)
                tl_die("json_pack");
        if (op == CDC_OP_DELETE)
                ev->before = row;
        else
                ev->after = row;
        return ev;
}

cdc_event_t *tl_ev_idem(cdc_op_t op, uint64_t seq, const char *rid,
                        size_t ridlen, const char *biz, int status,
                        int64_t created_ms) {
        cdc_event_t *ev = cdc_event_new(op);
        json_t *row;

        if (!ev)
                tl_die("cdc_event_new");
        tl_set_source(ev, "idempotent_log", seq);
        row = json_pack("{s:I, s:s#, s:s, s:i, s:I, s:o, s:o}", "id",
                        (json_int_t)seq, "request_id", rid, ridlen, "biz_key",
                        biz, "status", status, "version", (json_int_t)seq,
                        "created_at", tl_time(created_ms), "updated_at",
                        tl_time(created_ms));
        if (!row)
                tl_die("json_pack");
        if (op == CDC_OP_DELETE)
                ev->before = row;
        else
                ev->after = row;
        return ev;
}

cdc_event_t *tl_ev_pair(cdc_op_t op, uint64_t seq, uint64_t a, uint64_t b,
                        int relation, int64_t time_ms) {
        cdc_event_t *ev = cdc_event_new(op);
        json_t *row;

        if (!ev)
                tl_die("cdc_event_new");
        tl_set_source(ev, "friendship", seq);
        row = json_pack("{s:I, s:I, s:I, s:i, s:I, s:o, s:o}", "id",
                        (json_int_t)(a * 100000 + b), "user_a", (json_int_t)a,
                        "user_b", (json_int_t)b, "relation", relation,
                        "version", (json_int_t)seq, "created_at",
                        tl_time(time_ms), "updated_at", tl_time(time_ms));
        if (!row)
                tl_die("json_pack");
        if (op == CDC_OP_DELETE)
                ev->before = row;
        else
                ev->after = row;
        return ev;
}

cdc_event_t *tl_ev_source(cdc_event_t *ev, const char *name) {
        snprintf(ev->source.name, sizeof(ev->source.name), "%s", name);
        return ev;
}

static cdc_apply_t *tl_apply_new_model(const char *prefix, int max_batch,
                                       int64_t ttl_ms, int pair) {
        cdc_apply_conf_t conf;
        cdc_apply_t *ap;
        char errstr[256];

        memset(&conf, 0, sizeof(conf));
        if (pair) {
                conf.follow_model = CDC_APPLY_MODEL_PAIR;
                conf.follow_table = "friendship";
        }
        conf.redis_host       = "127.0.0.1";
        conf.redis_port       = tl_redis_port();
        conf.redis_timeout_ms = 5000;
        conf.key_prefix       = prefix;
        conf.max_batch        = max_batch ? max_batch : 256;
        conf.idem_ttl_ms      = ttl_ms;
        ap                    = cdc_apply_new(&conf, errstr, sizeof(errstr));
        if (!ap) {
                fprintf(stderr, "cdc_apply_new: %s\n", errstr);
                tl_die("cdc_apply_new");
        }
        return ap;
}

cdc_apply_t *tl_apply_new(const char *prefix, int max_batch, int64_t ttl_ms) {
        return tl_apply_new_model(prefix, max_batch, ttl_ms, 0);
}

cdc_apply_t *tl_apply_new_pair(const char *prefix, int max_batch) {
        return tl_apply_new_model(prefix, max_batch, 0, 1);
}

void tl_apply_add(cdc_apply_t *ap, cdc_event_t *ev) {
        char errstr[256];
        cdc_err_t err = cdc_apply_add(ap, ev, errstr, sizeof(errstr));

        if (err == CDC_ERR__QUEUE_FULL) {
                if (cdc_apply_flush(ap) != CDC_ERR_NO_ERROR) {
                        fprintf(stderr, "flush: %s\n", cdc_apply_errstr(ap));
                        tl_die("flush");
                }
                err = cdc_apply_add(ap, ev, errstr, sizeof(errstr));
        }
        if (err != CDC_ERR_NO_ERROR) {
                fprintf(stderr, "add: %s: %s\n", cdc_err2str(err), errstr);
                tl_die("add");
        }
}

/* ---- canonical listings ---- */

static int tl_pair_cmp(const void *x, const void *y) {
        const tl_pair_t *a = x, *b = y;
        size_t n = a->alen < b->alen ? a->alen : b->alen;
        int c    = memcmp(a->a, b->a, n);

        if (c)
                return c;
        return a->alen < b->alen ? -1 : a->alen > b->alen;
}

void tl_body(tl_buf_t *body, const char *type, long long pexpiretime,
             tl_pair_t *pairs, size_t n) {
        char num[32];
        size_t i;

        tl_buf_piece(body, type, strlen(type));
        snprintf(num, sizeof(num), "%lld", pexpiretime);
        tl_buf_piece(body, num, strlen(num));
        qsort(pairs, n, sizeof(*pairs), tl_pair_cmp);
        snprintf(num, sizeof(num), "%zu", n);
        tl_buf_piece(body, num, strlen(num));
        for (i = 0; i < n; i++) {
                tl_buf_piece(body, pairs[i].a, pairs[i].alen);
                tl_buf_piece(body, pairs[i].b, pairs[i].blen);
        }
}

static int tl_entry_cmp(const void *x, const void *y) {
        const tl_entry_t *a = x, *b = y;
        tl_pair_t pa = { a->key, a->keylen, NULL, 0 };
        tl_pair_t pb = { b->key, b->keylen, NULL, 0 };

        return tl_pair_cmp(&pa, &pb);
}

void tl_entries_join(tl_entry_t *ents, size_t n, tl_buf_t *out) {
        size_t i;

        qsort(ents, n, sizeof(*ents), tl_entry_cmp);
        for (i = 0; i < n; i++) {
                tl_buf_piece(out, ents[i].key, ents[i].keylen);
                tl_buf_add(out, ents[i].body.p, ents[i].body.len);
                tl_buf_free(&ents[i].body);
        }
}

/* Body of one live key read from Redis. */
static void tl_key_body(redisContext *rc, const char *key, size_t keylen,
                        tl_buf_t *body) {
        const char *argv[5];
        size_t lens[5];
        redisReply *rt, *re, *rv = NULL;
        tl_pair_t *pairs  = NULL;
        char(*scores)[32] = NULL;
        size_t n          = 0, i;

        argv[0] = "TYPE", lens[0] = 4;
        argv[1] = key, lens[1] = keylen;
        rt      = tl_cmd(rc, 2, argv, lens);
        argv[0] = "PEXPIRETIME", lens[0] = 11;
        re = tl_cmd(rc, 2, argv, lens);
        if (rt->type != REDIS_REPLY_STATUS || re->type != REDIS_REPLY_INTEGER)
                tl_die("TYPE/PEXPIRETIME reply");
        if (strcmp(rt->str, "zset") == 0) {
                argv[0] = "ZRANGE", lens[0] = 6;
                argv[2] = "0", lens[2] = 1;
                argv[3] = "-1", lens[3] = 2;
                argv[4] = "WITHSCORES", lens[4] = 10;
                rv = tl_cmd(rc, 5, argv, lens);
        } else if (strcmp(rt->str, "hash") == 0) {
                argv[0] = "HGETALL", lens[0] = 7;
                rv = tl_cmd(rc, 2, argv, lens);
        } else if (strcmp(rt->str, "string") == 0) {
                argv[0] = "GET", lens[0] = 3;
                rv = tl_cmd(rc, 2, argv, lens);
        }
        if (rv && rv->type == REDIS_REPLY_ARRAY) {
                n      = rv->elements / 2;
                pairs  = calloc(n + 1, sizeof(*pairs));
                scores = calloc(n + 1, sizeof(*scores));
                for (i = 0; i < n; i++) {
                        redisReply *a = rv->element[2 * i];
                        redisReply *b = rv->element[2 * i + 1];

                        pairs[i].a = a->str, pairs[i].alen = a->len;
                        if (strcmp(rt->str, "zset") == 0) {
                                snprintf(scores[i], 32, "%.0f",
                                         strtod(b->str, NULL));
                                pairs[i].b    = scores[i];
                                pairs[i].blen = strlen(scores[i]);
                        } else {
                                pairs[i].b = b->str, pairs[i].blen = b->len;
                        }
                }
        } else if (rv && rv->type == REDIS_REPLY_STRING) {
                n          = 1;
                pairs      = calloc(1, sizeof(*pairs));
                pairs[0].a = "", pairs[0].alen = 0;
                pairs[0].b = rv->str, pairs[0].blen = rv->len;
        }
        tl_body(body, rt->str, re->integer, pairs, n);
        free(pairs);
        free(scores);
        if (rv)
                freeReplyObject(rv);
        freeReplyObject(rt);
        freeReplyObject(re);
}

void tl_listing(redisContext *rc, const char *prefix, tl_buf_t *out) {
        tl_entry_t *ents = NULL;
        size_t n = 0, cap = 0;
        char cursor[32] = "0", match[128];
        const char *argv[6];
        size_t lens[6];

        snprintf(match, sizeof(match), "%s:*", prefix);
        do {
                redisReply *r;
                size_t i;

                argv[0] = "SCAN", lens[0] = 4;
                argv[1] = cursor, lens[1] = strlen(cursor);
                argv[2] = "MATCH", lens[2] = 5;
                argv[3] = match, lens[3] = strlen(match);
                argv[4] = "COUNT", lens[4] = 5;
                argv[5] = "1000", lens[5] = 4;
                r = tl_cmd(rc, 6, argv, lens);
                if (r->type != REDIS_REPLY_ARRAY || r->elements != 2)
                        tl_die("SCAN reply");
                snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
                for (i = 0; i < r->element[1]->elements; i++) {
                        redisReply *k = r->element[1]->element[i];

                        if (n == cap) {
                                cap  = cap ? cap * 2 : 1024;
                                ents = realloc(ents, cap * sizeof(*ents));
                                if (!ents)
                                        tl_die("out of memory");
                        }
                        memset(&ents[n], 0, sizeof(ents[n]));
                        ents[n].key = malloc(k->len + 1);
                        memcpy(ents[n].key, k->str, k->len + 1);
                        ents[n].keylen = k->len;
                        n++;
                }
                freeReplyObject(r);
        } while (strcmp(cursor, "0") != 0);
        /* SCAN may return a key twice: drop repeats after sorting */
        {
                size_t i, m = 0;

                qsort(ents, n, sizeof(*ents), tl_entry_cmp);
                for (i = 0; i < n; i++) {
                        if (m > 0 &&
                            tl_entry_cmp(&ents[m - 1], &ents[i]) == 0) {
                                free(ents[i].key);
                                continue;
                        }
                        ents[m++] = ents[i];
                }
                n = m;
                for (i = 0; i < n; i++)
                        tl_key_body(rc, ents[i].key, ents[i].keylen,
                                    &ents[i].body);
                tl_entries_join(ents, n, out);
                for (i = 0; i < n; i++)
                        free(ents[i].key);
        }
        free(ents);
}

void tl_listing_diff(const tl_buf_t *want, const tl_buf_t *got) {
        size_t i = 0, from;

        while (i < want->len && i < got->len && want->p[i] == got->p[i])
                i++;
        size_t wl, gl;

        from = i > 80 ? i - 80 : 0;
        wl   = want->len > from ? want->len - from : 0;
        gl   = got->len > from ? got->len - from : 0;
        fprintf(stderr,
                "listings differ at byte %zu (want %zu bytes, got "
                "%zu)\n  want: ...%.*s\n  got:  ...%.*s\n",
                i, want->len, got->len, (int)(wl < 240 ? wl : 240),
                wl ? want->p + from : "", (int)(gl < 240 ? gl : 240),
                gl ? got->p + from : "");
}

uint64_t tl_rand(uint64_t *s) {
        uint64_t x = *s;

        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        *s = x;
        return x * 0x2545F4914F6CDD1DULL;
}
