/**
 * @file consumer_latency.c
 * @brief Latency probe for bench/consumer-latency.sh: produces follow
 *        events one at a time (each a new edge of fresh users) and
 *        measures, for each, the time from the produce call until Redis
 *        shows the edge (ZSCORE on the follower's following set).
 *
 * Usage: consumer_latency -b BOOTSTRAP -R REDIS_PORT [-n N (200)]
 *                         [-g GAP_MS (20)] [-p PREFIX] [-d DB] [-k KEYPFX]
 * Prints `latency n=<n> p50_ms=<x> p90_ms=<x> p99_ms=<x> max_ms=<x>`.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <jansson.h>
#include <librdkafka/rdkafka.h>

#include "cdc_backoff.h"
#include "cdc_event.h"

static int lat_cmp(const void *a, const void *b) {
        double x = *(const double *)a, y = *(const double *)b;
        return x < y ? -1 : x > y;
}

/* Produce the create of edge a -> b. @returns 0 or -1. */
static int lat_produce(rd_kafka_t *rk, const char *topic, uint32_t a,
                       uint32_t b, uint64_t seq) {
        const char *cols[2] = { "follower_id", "followee_id" };
        cdc_event_t *ev     = cdc_event_new(CDC_OP_CREATE);
        char ts[40], *val = NULL, *key = NULL, es[128];
        size_t vlen = 0, klen = 0;
        int64_t ms = cdc_wallclock_ms();
        int ret    = -1;

        if (!ev)
                return -1;
        cdc_time_format_us(ts, sizeof(ts), ms * 1000);
        snprintf(ev->source.name, sizeof(ev->source.name), "followcdc");
        snprintf(ev->source.db, sizeof(ev->source.db), "followcdc");
        snprintf(ev->source.table, sizeof(ev->source.table), "follow");
        snprintf(ev->source.file, sizeof(ev->source.file), "mysql-bin.000001");
        ev->source.server_id = 1;
        ev->source.seq       = seq;
        ev->source.pos       = seq * 100;
        ev->source.ts_ms     = ms;
        ev->ts_ms            = ms;
        ev->after            = json_pack("{s:I,s:I,s:I,s:i,s:i,s:s,s:s}", "id",
                                         (json_int_t)seq, "follower_id", (json_int_t)a,
                                         "followee_id", (json_int_t)b, "status", 1,
                                         "version", 1, "created_at", ts, "updated_at", ts);
        val                  = cdc_event_encode(ev, &vlen);
        key = cdc_key_from_row(ev->after, cols, 2, &klen, es, sizeof(es));
        if (val && key &&
            !rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic),
                               RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                               RD_KAFKA_V_KEY(key, klen),
                               RD_KAFKA_V_VALUE(val, vlen), RD_KAFKA_V_END))
                ret = 0;
        rd_kafka_poll(rk, 0);
        free(val);
        free(key);
        cdc_event_destroy(ev);
        return ret;
}

int main(int argc, char **argv) {
        const char *bootstrap = NULL, *prefix = "followcdc", *db = "followcdc";
        const char *kp = "fc";
        char topic[256], es[512], zkey[128], member[32];
        long n = 200, gap = 20, port = 0, i, got = 0;
        double *lat;
        rd_kafka_conf_t *conf;
        rd_kafka_t *rk;
        redisContext *rc;
        uint64_t base = (uint64_t)cdc_wallclock_ms() * 1000;
        int opt;

        while ((opt = getopt(argc, argv, "b:R:n:g:p:d:k:")) != -1) {
                switch (opt) {
                case 'b':
                        bootstrap = optarg;
                        break;
                case 'R':
                        port = strtol(optarg, NULL, 10);
                        break;
                case 'n':
                        n = strtol(optarg, NULL, 10);
                        break;
                case 'g':
                        gap = strtol(optarg, NULL, 10);
                        break;
                case 'p':
                        prefix = optarg;
                        break;
                case 'd':
                        db = optarg;
                        break;
                case 'k':
                        kp = optarg;
                        break;
                default:
                        return 2;
                }
        }
        if (!bootstrap || port <= 0 || n <= 0 || gap < 0) {
                fprintf(stderr, "usage: consumer_latency -b BOOTSTRAP -R "
                                "REDIS_PORT [-n N] [-g GAP_MS]\n");
                return 2;
        }
        cdc_topic_name(topic, sizeof(topic), prefix, db, "follow");
        lat  = calloc((size_t)n, sizeof(*lat));
        conf = rd_kafka_conf_new();
        if (!lat ||
            rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, es,
                              sizeof(es)) ||
            rd_kafka_conf_set(conf, "linger.ms", "0", es, sizeof(es)) ||
            rd_kafka_conf_set(conf, "acks", "all", es, sizeof(es))) {
                fprintf(stderr, "consumer_latency: %s\n", es);
                return 1;
        }
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, es, sizeof(es));
        rc = redisConnect("127.0.0.1", (int)port);
        if (!rk || !rc || rc->err) {
                fprintf(stderr, "consumer_latency: cannot connect\n");
                return 1;
        }
        for (i = 0; i < n; i++) {
                /* fresh users each time: the edge is new, never stale */
                uint32_t a = 100000000u + (uint32_t)(base % 1000000) * 10 +
                             (uint32_t)i * 2;
                uint32_t b = a + 1;
                int64_t t0, t1;
                int seen = 0;

                snprintf(zkey, sizeof(zkey), "%s:{u:%u}:following", kp, a);
                snprintf(member, sizeof(member), "%u", b);
                t0 = cdc_now_us();
                if (lat_produce(rk, topic, a, b, base + (uint64_t)i)) {
                        fprintf(stderr, "consumer_latency: produce failed\n");
                        return 1;
                }
                for (;;) {
                        redisReply *r =
                                redisCommand(rc, "ZSCORE %s %s", zkey, member);
                        if (!r) {
                                fprintf(stderr, "consumer_latency: redis\n");
                                return 1;
                        }
                        seen = r->type == REDIS_REPLY_STRING;
                        freeReplyObject(r);
                        t1 = cdc_now_us();
                        if (seen || t1 - t0 > 10 * 1000000)
                                break;
                        rd_kafka_poll(rk, 0);
                        usleep(200);
                }
                if (seen)
                        lat[got++] = (double)(t1 - t0) / 1000.0;
                usleep((useconds_t)gap * 1000);
        }
        rd_kafka_flush(rk, 5000);
        rd_kafka_destroy(rk);
        redisFree(rc);
        if (!got) {
                fprintf(stderr, "consumer_latency: nothing became visible\n");
                return 1;
        }
        qsort(lat, (size_t)got, sizeof(*lat), lat_cmp);
        printf("latency n=%ld lost=%ld p50_ms=%.1f p90_ms=%.1f p99_ms=%.1f "
               "max_ms=%.1f\n",
               got, n - got, lat[got / 2], lat[got * 9 / 10],
               lat[got * 99 / 100], lat[got - 1]);
        free(lat);
        return 0;
}
