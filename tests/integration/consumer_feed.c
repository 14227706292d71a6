/**
 * @file consumer_feed.c
 * @brief Test and benchmark feeder: produces a deterministic stream of
 *        follow-table change events (built with cdc_event_encode, keyed
 *        with cdc_key_from_row, tombstones after deletes) straight into
 *        Kafka, optionally with poison messages, idempotency-log events
 *        and a rate limit, and writes the state Redis must converge to.
 *
 * Usage: consumer_feed -b BOOTSTRAP [options]
 *   -p PREFIX  topic prefix (followcdc)
 *   -d DB      database (followcdc)
 *   -n N       follow events (1000)
 *   -u USERS   user ids 1..USERS (50)
 *   -s SEED    random seed (1)
 *   -q SEQ     first seq (1)
 *   -r RATE    events per second (0: as fast as possible)
 *   -P K       every K-th message is poison (0: none)
 *   -i N       idempotency-log events (0)
 *   -e PREFIX  write PREFIX.following / PREFIX.friends (live edges "a b")
 *   -S FILE    load/save the generator state (continue a stream)
 *   -B BYTES   one more poison message of BYTES bytes (not JSON), first
 *   -W BYTES   pad every follow row with extra columns (valid, ignored by
 *              the mapping) to about BYTES bytes ...
 *   -C COLS    ... spread over COLS columns (1)
 *   -U N       N events of table "users" (not mapped by default) into
 *              <prefix>.<db>.users, after the follow events
 * Prints `produced=<events> poison=<n> tombstones=<n> idem=<n>
 * unmapped=<n> seq=<n>` on stdout.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <librdkafka/rdkafka.h>

#include "cdc_backoff.h"
#include "cdc_event.h"

typedef struct edge_s {
        uint64_t key;  /* follower << 32 | followee, 0: empty slot */
        uint8_t state; /* 0 no row, 1 following, 2 row with status 0 */
        uint64_t version;
} edge_t;

typedef struct feed_s {
        rd_kafka_t *rk;
        const char *prefix, *db;
        char follow_topic[256], idem_topic[256];
        edge_t *edges;
        size_t cap, used;
        uint64_t rnd;
        uint64_t seq;
        uint64_t produced, poison, tombstones, idem, unmapped, failed;
        long pad_bytes, pad_cols; /* -W, -C */
        char *pad;                /* pad_bytes / pad_cols of 'x' */
} feed_t;

static uint64_t feed_rand(feed_t *f) {
        uint64_t x = f->rnd;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        f->rnd = x;
        return x;
}

static edge_t *feed_edge(feed_t *f, uint64_t key) {
        size_t i = (size_t)((key * 0x9e3779b97f4a7c15ull) >> 20) & (f->cap - 1);
        while (f->edges[i].key && f->edges[i].key != key)
                i = (i + 1) & (f->cap - 1);
        if (!f->edges[i].key) {
                f->edges[i].key = key;
                f->used++;
        }
        return &f->edges[i];
}

static const edge_t *feed_find(const feed_t *f, uint64_t key) {
        size_t i = (size_t)((key * 0x9e3779b97f4a7c15ull) >> 20) & (f->cap - 1);
        while (f->edges[i].key && f->edges[i].key != key)
                i = (i + 1) & (f->cap - 1);
        return f->edges[i].key ? &f->edges[i] : NULL;
}

static void feed_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *rkm,
                       void *opaque) {
        feed_t *f = opaque;
        (void)rk;
        if (rkm->err) {
                f->failed++;
                fprintf(stderr, "consumer_feed: delivery failed: %s\n",
                        rd_kafka_err2str(rkm->err));
        }
}

static void feed_produce(feed_t *f, const char *topic, const void *key,
                         size_t klen, const void *val, size_t vlen) {
        rd_kafka_resp_err_t err;
        for (;;) {
                err = rd_kafka_producev(
                        f->rk, RD_KAFKA_V_TOPIC(topic),
                        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                        RD_KAFKA_V_KEY(key, klen),
                        RD_KAFKA_V_VALUE((void *)val, vlen), RD_KAFKA_V_END);
                if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
                        break;
                rd_kafka_poll(f->rk, 50);
        }
        if (err) {
                fprintf(stderr, "consumer_feed: produce: %s\n",
                        rd_kafka_err2str(err));
                f->failed++;
        }
        rd_kafka_poll(f->rk, 0);
}

static json_t *feed_row(const feed_t *f, uint32_t a, uint32_t b, int status,
                        uint64_t version, int64_t ms) {
        char ts[40], col[32];
        json_t *row;
        long i;

        cdc_time_format_us(ts, sizeof(ts), ms * 1000);
        row = json_pack("{s:I,s:I,s:I,s:i,s:I,s:s,s:s}", "id",
                        (json_int_t)(((uint64_t)a << 20) | b), "follower_id",
                        (json_int_t)a, "followee_id", (json_int_t)b, "status",
                        status, "version", (json_int_t)version, "created_at",
                        ts, "updated_at", ts);
        for (i = 0; row && f->pad && i < f->pad_cols; i++) {
                snprintf(col, sizeof(col), "pad_%ld", i);
                json_object_set_new(row, col, json_string(f->pad));
        }
        return row;
}

static void feed_source(feed_t *f, cdc_event_t *ev, const char *table,
                        int64_t ms) {
        cdc_source_t *s = &ev->source;
        f->seq++;
        snprintf(s->name, sizeof(s->name), "%s", f->prefix);
        s->server_id = 1;
        snprintf(s->db, sizeof(s->db), "%s", f->db);
        snprintf(s->table, sizeof(s->table), "%s", table);
        snprintf(s->gtid, sizeof(s->gtid), "0-1-%" PRIu64, f->seq);
        s->seq = f->seq;
        snprintf(s->file, sizeof(s->file), "mysql-bin.000001");
        s->pos    = 4 + f->seq * 100;
        s->row    = 0;
        s->ts_ms  = ms;
        ev->ts_ms = ms;
}

/* One follow change; returns 0 or -1. */
static int feed_one(feed_t *f, uint32_t users, int64_t ms) {
        uint32_t a = 1 + (uint32_t)(feed_rand(f) % users);
        uint32_t b = 1 + (uint32_t)(feed_rand(f) % users);
        edge_t *e;
        cdc_event_t *ev;
        const char *cols[2] = { "follower_id", "followee_id" };
        char *val = NULL, *key = NULL, es[128];
        size_t vlen = 0, klen = 0;
        int r = (int)(feed_rand(f) % 100);
        cdc_op_t op;

        if (a == b)
                b = b % users + 1;
        if (a == b)
                return 0;
        e = feed_edge(f, ((uint64_t)a << 32) | b);
        if (e->state == 0)
                op = CDC_OP_CREATE;
        else if (r < 15)
                op = CDC_OP_DELETE;
        else
                op = CDC_OP_UPDATE;
        ev = cdc_event_new(op);
        if (!ev)
                return -1;
        feed_source(f, ev, "follow", ms);
        switch (op) {
        case CDC_OP_CREATE:
                e->version = 1;
                e->state   = r < 90 ? 1 : 2;
                ev->after  = feed_row(f, a, b, e->state == 1, e->version, ms);
                break;
        case CDC_OP_UPDATE:
                ev->before = feed_row(f, a, b, e->state == 1, e->version, ms);
                e->version++;
                e->state  = e->state == 1 ? 2 : 1;
                ev->after = feed_row(f, a, b, e->state == 1, e->version, ms);
                break;
        default:
                ev->before = feed_row(f, a, b, e->state == 1, e->version, ms);
                e->state   = 0;
                e->version = 0;
                break;
        }
        val = cdc_event_encode(ev, &vlen);
        key = cdc_key_from_row(cdc_event_row(ev), cols, 2, &klen, es,
                               sizeof(es));
        if (!val || !key) {
                fprintf(stderr, "consumer_feed: encode: %s\n", es);
                free(val);
                free(key);
                cdc_event_destroy(ev);
                return -1;
        }
        feed_produce(f, f->follow_topic, key, klen, val, vlen);
        f->produced++;
        if (op == CDC_OP_DELETE) {
                feed_produce(f, f->follow_topic, key, klen, NULL, 0);
                f->tombstones++;
        }
        free(val);
        free(key);
        cdc_event_destroy(ev);
        return 0;
}

/* Poison of three kinds, rotating: not JSON, not the envelope, and an
 * envelope whose row can't be mapped (no follower_id). */
static void feed_poison(feed_t *f, int64_t ms) {
        static const char *bad[] = {
                "{\"this is\": not json",
                "{\"schema_version\":1,\"op\":\"x\",\"before\":null}",
        };
        int kind = (int)(f->poison % 3);
        char key[32];

        snprintf(key, sizeof(key), "[%" PRIu64 ",0]", 900000 + f->poison);
        if (kind < 2) {
                feed_produce(f, f->follow_topic, key, strlen(key), bad[kind],
                             strlen(bad[kind]));
        } else {
                cdc_event_t *ev = cdc_event_new(CDC_OP_CREATE);
                char *val;
                size_t vlen = 0;
                if (!ev)
                        return;
                feed_source(f, ev, "follow", ms);
                ev->after = json_pack("{s:I,s:s,s:i}", "id", (json_int_t)1,
                                      "followee", "nobody", "status", 1);
                val       = cdc_event_encode(ev, &vlen);
                if (val)
                        feed_produce(f, f->follow_topic, key, strlen(key), val,
                                     vlen);
                free(val);
                cdc_event_destroy(ev);
        }
        f->poison++;
}

/* One message of BYTES bytes that is not JSON (a value too large for a
 * default dead-letter producer). */
static void feed_big_poison(feed_t *f, long bytes) {
        char *val = malloc((size_t)bytes);
        char key[32];

        if (!val)
                return;
        memset(val, 'x', (size_t)bytes);
        memcpy(val, "{\"big poison\": ", bytes > 16 ? 15 : 0);
        snprintf(key, sizeof(key), "[%" PRIu64 ",0]", 800000 + f->poison);
        feed_produce(f, f->follow_topic, key, strlen(key), val, (size_t)bytes);
        free(val);
        f->poison++;
}

/* A valid event of a table the consumer does not map by default. */
static void feed_unmapped(feed_t *f, const char *topic, uint64_t i,
                          int64_t ms) {
        cdc_event_t *ev = cdc_event_new(CDC_OP_CREATE);
        char key[32], *val;
        size_t vlen = 0;

        if (!ev)
                return;
        feed_source(f, ev, "users", ms);
        ev->after = json_pack("{s:I,s:s}", "id", (json_int_t)i + 1, "name",
                              "someone");
        val       = cdc_event_encode(ev, &vlen);
        snprintf(key, sizeof(key), "[%" PRIu64 "]", i + 1);
        if (val)
                feed_produce(f, topic, key, strlen(key), val, vlen);
        free(val);
        cdc_event_destroy(ev);
        f->unmapped++;
}

static void feed_idem(feed_t *f, uint64_t i, int64_t ms) {
        cdc_event_t *ev = cdc_event_new(CDC_OP_CREATE);
        char rid[64], ts[40], *val, *key;
        const char *cols[1] = { "request_id" };
        size_t vlen = 0, klen = 0;

        if (!ev)
                return;
        feed_source(f, ev, "idempotent_log", ms);
        snprintf(rid, sizeof(rid), "req-%" PRIu64 "-%" PRIu64, f->rnd & 0xffff,
                 i);
        cdc_time_format_us(ts, sizeof(ts), ms * 1000);
        ev->after = json_pack("{s:I,s:s,s:s,s:i,s:i,s:s,s:s}", "id",
                              (json_int_t)i + 1, "request_id", rid, "biz_key",
                              "order:1", "status", 2, "version", 1,
                              "created_at", ts, "updated_at", ts);
        val       = cdc_event_encode(ev, &vlen);
        key       = cdc_key_from_row(ev->after, cols, 1, &klen, NULL, 0);
        if (val && key)
                feed_produce(f, f->idem_topic, key, klen, val, vlen);
        free(val);
        free(key);
        cdc_event_destroy(ev);
        f->idem++;
}

static int feed_expect(feed_t *f, const char *prefix) {
        char path[1024];
        FILE *fo, *ff;
        size_t i;

        snprintf(path, sizeof(path), "%s.following", prefix);
        fo = fopen(path, "w");
        snprintf(path, sizeof(path), "%s.friends", prefix);
        ff = fopen(path, "w");
        if (!fo || !ff)
                return -1;
        for (i = 0; i < f->cap; i++) {
                const edge_t *e = &f->edges[i], *r;
                uint32_t a, b;
                if (!e->key || e->state != 1)
                        continue;
                a = (uint32_t)(e->key >> 32);
                b = (uint32_t)e->key;
                fprintf(fo, "%u %u\n", a, b);
                r = feed_find(f, ((uint64_t)b << 32) | a);
                if (r && r->state == 1)
                        fprintf(ff, "%u %u\n", a, b);
        }
        fclose(fo);
        fclose(ff);
        return 0;
}

/* State file: seq, rnd, then "key state version" lines. */
static int feed_state_load(feed_t *f, const char *path) {
        FILE *fp = fopen(path, "r");
        char line[128];
        if (!fp)
                return errno == ENOENT ? 0 : -1;
        if (fgets(line, sizeof(line), fp)) {
                char *end;
                f->seq = strtoull(line, &end, 10);
                f->rnd = strtoull(end, &end, 10);
        }
        while (fgets(line, sizeof(line), fp)) {
                char *end;
                uint64_t k = strtoull(line, &end, 10);
                edge_t *e;
                if (!k)
                        continue;
                e          = feed_edge(f, k);
                e->state   = (uint8_t)strtoul(end, &end, 10);
                e->version = strtoull(end, &end, 10);
        }
        fclose(fp);
        return 0;
}

static int feed_state_save(feed_t *f, const char *path) {
        FILE *fp = fopen(path, "w");
        size_t i;
        if (!fp)
                return -1;
        fprintf(fp, "%" PRIu64 " %" PRIu64 "\n", f->seq, f->rnd);
        for (i = 0; i < f->cap; i++)
                if (f->edges[i].key)
                        fprintf(fp, "%" PRIu64 " %u %" PRIu64 "\n",
                                f->edges[i].key, f->edges[i].state,
                                f->edges[i].version);
        return fclose(fp);
}

static long feed_num(const char *s) {
        char *end = NULL;
        long v    = strtol(s, &end, 10);
        if (!end || *end || v < 0) {
                fprintf(stderr, "consumer_feed: bad number %s\n", s);
                return -1;
        }
        return v;
}

int main(int argc, char **argv) {
        feed_t f;
        rd_kafka_conf_t *conf;
        char es[512];
        const char *bootstrap = NULL, *expect = NULL, *state = NULL;
        long n = 1000, users = 50, seed = 1, rate = 0, poison_every = 0;
        long idem = 0, seq0 = 0, big = 0, unmapped = 0, maxmsg;
        char users_topic[256], mmb[32];
        int64_t start_us, ms;
        long i;
        int opt, ret = 1;

        memset(&f, 0, sizeof(f));
        f.prefix = "followcdc";
        f.db     = "followcdc";
        while ((opt = getopt(argc, argv, "b:p:d:n:u:s:q:r:P:i:e:S:B:W:C:U:")) !=
               -1) {
                switch (opt) {
                case 'b':
                        bootstrap = optarg;
                        break;
                case 'p':
                        f.prefix = optarg;
                        break;
                case 'd':
                        f.db = optarg;
                        break;
                case 'n':
                        n = feed_num(optarg);
                        break;
                case 'u':
                        users = feed_num(optarg);
                        break;
                case 's':
                        seed = feed_num(optarg);
                        break;
                case 'q':
                        seq0 = feed_num(optarg);
                        break;
                case 'r':
                        rate = feed_num(optarg);
                        break;
                case 'P':
                        poison_every = feed_num(optarg);
                        break;
                case 'i':
                        idem = feed_num(optarg);
                        break;
                case 'e':
                        expect = optarg;
                        break;
                case 'S':
                        state = optarg;
                        break;
                case 'B':
                        big = feed_num(optarg);
                        break;
                case 'W':
                        f.pad_bytes = feed_num(optarg);
                        break;
                case 'C':
                        f.pad_cols = feed_num(optarg);
                        break;
                case 'U':
                        unmapped = feed_num(optarg);
                        break;
                default:
                        return 2;
                }
        }
        if (!bootstrap || n < 0 || users < 2 || seed < 0 || rate < 0 ||
            poison_every < 0 || idem < 0 || seq0 < 0 || big < 0 ||
            f.pad_bytes < 0 || f.pad_cols < 0 || unmapped < 0) {
                fprintf(stderr, "usage: consumer_feed -b BOOTSTRAP [-p PREFIX] "
                                "[-d DB] [-n N] [-u USERS] [-s SEED] [-q SEQ] "
                                "[-r RATE] [-P K] [-i N] [-e PREFIX] "
                                "[-S STATE] [-B BYTES] [-W BYTES [-C COLS]] "
                                "[-U N]\n");
                return 2;
        }
        if (f.pad_bytes) {
                size_t each;
                if (!f.pad_cols)
                        f.pad_cols = 1;
                each  = (size_t)(f.pad_bytes / f.pad_cols);
                f.pad = malloc(each + 1);
                if (!f.pad)
                        return 1;
                memset(f.pad, 'x', each);
                f.pad[each] = '\0';
        }
        f.rnd = (uint64_t)seed * 0x2545F4914F6CDD1Dull + 1;
        f.seq = (uint64_t)seq0;
        for (f.cap = 1024; f.cap < (size_t)n * 2 + 1024; f.cap *= 2)
                ;
        f.edges = calloc(f.cap, sizeof(*f.edges));
        if (!f.edges)
                return 1;
        if (state && feed_state_load(&f, state)) {
                fprintf(stderr, "consumer_feed: cannot read %s\n", state);
                goto out;
        }
        cdc_topic_name(f.follow_topic, sizeof(f.follow_topic), f.prefix, f.db,
                       "follow");
        cdc_topic_name(f.idem_topic, sizeof(f.idem_topic), f.prefix, f.db,
                       "idempotent_log");
        cdc_topic_name(users_topic, sizeof(users_topic), f.prefix, f.db,
                       "users");
        /* room for the -B message and the -W events (before + after) */
        maxmsg = f.pad_bytes * 2 + f.pad_cols * 2 * 32;
        if (big > maxmsg)
                maxmsg = big;
        snprintf(mmb, sizeof(mmb), "%ld",
                 maxmsg + 100000 > 1000000 ? maxmsg + 100000 : 1000000);

        conf = rd_kafka_conf_new();
        if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, es,
                              sizeof(es)) ||
            rd_kafka_conf_set(conf, "linger.ms", "5", es, sizeof(es)) ||
            rd_kafka_conf_set(conf, "acks", "all", es, sizeof(es)) ||
            rd_kafka_conf_set(conf, "queue.buffering.max.messages", "200000",
                              es, sizeof(es)) ||
            rd_kafka_conf_set(conf, "message.max.bytes", mmb, es, sizeof(es))) {
                fprintf(stderr, "consumer_feed: %s\n", es);
                rd_kafka_conf_destroy(conf);
                goto out;
        }
        rd_kafka_conf_set_dr_msg_cb(conf, feed_dr_cb);
        rd_kafka_conf_set_opaque(conf, &f);
        f.rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, es, sizeof(es));
        if (!f.rk) {
                fprintf(stderr, "consumer_feed: %s\n", es);
                rd_kafka_conf_destroy(conf);
                goto out;
        }

        if (big)
                feed_big_poison(&f, big);
        start_us = cdc_now_us();
        for (i = 0; i < n; i++) {
                ms = cdc_wallclock_ms();
                if (feed_one(&f, (uint32_t)users, ms))
                        goto out;
                if (poison_every && (i + 1) % poison_every == 0)
                        feed_poison(&f, ms);
                if (rate && (i + 1) % 10 == 0) {
                        int64_t due = start_us + (i + 1) * 1000000LL / rate;
                        int64_t now = cdc_now_us();
                        if (due > now) {
                                rd_kafka_poll(f.rk, 0);
                                usleep((useconds_t)(due - now));
                        }
                }
        }
        for (i = 0; i < idem; i++)
                feed_idem(&f, (uint64_t)i, cdc_wallclock_ms());
        for (i = 0; i < unmapped; i++)
                feed_unmapped(&f, users_topic, (uint64_t)i, cdc_wallclock_ms());
        while (rd_kafka_flush(f.rk, 1000) == RD_KAFKA_RESP_ERR__TIMED_OUT)
                ;
        if (f.failed) {
                fprintf(stderr, "consumer_feed: %" PRIu64 " failed\n",
                        f.failed);
                goto out;
        }
        if (expect && feed_expect(&f, expect)) {
                fprintf(stderr, "consumer_feed: cannot write %s.*\n", expect);
                goto out;
        }
        if (state && feed_state_save(&f, state)) {
                fprintf(stderr, "consumer_feed: cannot write %s\n", state);
                goto out;
        }
        printf("produced=%" PRIu64 " poison=%" PRIu64 " tombstones=%" PRIu64
               " idem=%" PRIu64 " unmapped=%" PRIu64 " seq=%" PRIu64 "\n",
               f.produced, f.poison, f.tombstones, f.idem, f.unmapped, f.seq);
        ret = 0;
out:
        if (f.rk)
                rd_kafka_destroy(f.rk);
        free(f.edges);
        free(f.pad);
        return ret;
}
