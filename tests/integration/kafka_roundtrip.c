/*
 * kafka_roundtrip: producer and consumer-group halves of the Kafka round
 * trip test (0003-kafka-group.sh), run as separate processes against
 * followcdc-devbroker.
 *
 *   kafka_roundtrip produce --bootstrap B --topic T --count N
 *                   [--keys K] [--control PATH] [--fault-down-leader]
 *                   [--fault-request-errors]
 *   kafka_roundtrip consume --bootstrap B --topic T --group G --out FILE
 *                   (--max M --committed-out FILE | --until-eof)
 *
 * Message i has key "key-<i % K>" and value "<i>". Consumers write one line
 * per message: "<partition> <offset> <key> <value>". The script checks the
 * files; this program fails (exit 1) on any client error or timeout.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#define RT_TIMEOUT_MS (40 * 1000)
#define RT_MAX_PARTS  256

static volatile sig_atomic_t run = 1;

static void rt_term(int sig) {
        (void)sig;
        run = 0;
}

struct rt_args {
        const char *mode;
        const char *bootstrap;
        const char *topic;
        const char *group;
        const char *out;
        const char *committed_out;
        const char *control;
        long count;
        long keys;
        long max;
        int until_eof;
        int fault_down_leader;
        int fault_request_errors;
};

struct rt_dr_stats {
        long ok;
        long failed;
        rd_kafka_resp_err_t first_err;
};

static int64_t rt_now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void rt_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void rt_log(const char *fmt, ...) {
        char line[1024];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(line, sizeof(line), fmt, ap);
        va_end(ap);
        fprintf(stderr, "kafka_roundtrip[%ld]: %s\n", (long)getpid(), line);
}

static int rt_long(const char *s, long min, long max, long *valp) {
        char *end = NULL;
        long v;

        errno = 0;
        v     = strtol(s, &end, 10);
        if (!*s || errno || *end || v < min || v > max)
                return -1;
        *valp = v;
        return 0;
}

static int rt_set(rd_kafka_conf_t *conf, const char *name, const char *val) {
        char errstr[256];

        if (rd_kafka_conf_set(conf, name, val, errstr, sizeof(errstr)) !=
            RD_KAFKA_CONF_OK) {
                rt_log("%s=%s: %s", name, val, errstr);
                return -1;
        }
        return 0;
}

/* One command on the dev broker's control socket; 0 if it replied OK. */
static int rt_ctl(const char *control, const char *cmd) {
        struct sockaddr_un sun = { .sun_family = AF_UNIX };
        struct timeval tv      = { .tv_sec = 10 };
        char reply[256];
        size_t rlen = 0;
        int fd, r = -1;

        if (strlen(control) >= sizeof(sun.sun_path))
                return -1;
        memcpy(sun.sun_path, control, strlen(control) + 1);
        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (fd == -1)
                return -1;
        if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1 ||
            connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
            send(fd, cmd, strlen(cmd), MSG_NOSIGNAL) == -1 ||
            send(fd, "\n", 1, MSG_NOSIGNAL) == -1) {
                rt_log("control %s: %s", control, strerror(errno));
                goto out;
        }
        while (rlen < sizeof(reply) - 1) {
                ssize_t n = recv(fd, reply + rlen, sizeof(reply) - 1 - rlen, 0);

                if (n <= 0)
                        break;
                rlen += (size_t)n;
                if (memchr(reply, '\n', rlen))
                        break;
        }
        reply[rlen]                 = '\0';
        reply[strcspn(reply, "\n")] = '\0';
        rt_log("ctl '%s' -> '%s'", cmd, reply);
        if (!strncmp(reply, "OK", 2))
                r = 0;
out:
        close(fd);
        return r;
}

/* Leader of partition 0 of \p topic, or -1. */
static int32_t rt_leader(rd_kafka_t *rk, const char *topic) {
        const struct rd_kafka_metadata *md = NULL;
        rd_kafka_topic_t *rkt;
        int32_t leader = -1;
        int i;

        rkt = rd_kafka_topic_new(rk, topic, NULL);
        if (!rkt)
                return -1;
        if (rd_kafka_metadata(rk, 0, rkt, &md, 5000) ==
            RD_KAFKA_RESP_ERR_NO_ERROR) {
                for (i = 0;
                     md->topic_cnt == 1 && i < md->topics[0].partition_cnt; i++)
                        if (md->topics[0].partitions[i].id == 0)
                                leader = md->topics[0].partitions[i].leader;
                rd_kafka_metadata_destroy(md);
        }
        rd_kafka_topic_destroy(rkt);
        return leader;
}

/* Number of partitions of \p topic, or -1. */
static int rt_partition_cnt(rd_kafka_t *rk, const char *topic) {
        const struct rd_kafka_metadata *md = NULL;
        rd_kafka_topic_t *rkt;
        int cnt = -1;

        rkt = rd_kafka_topic_new(rk, topic, NULL);
        if (!rkt)
                return -1;
        if (rd_kafka_metadata(rk, 0, rkt, &md, 5000) ==
            RD_KAFKA_RESP_ERR_NO_ERROR) {
                if (md->topic_cnt == 1 && !md->topics[0].err)
                        cnt = md->topics[0].partition_cnt;
                rd_kafka_metadata_destroy(md);
        }
        rd_kafka_topic_destroy(rkt);
        return cnt;
}

/* ---- produce ---- */

static void rt_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *rkm,
                     void *opaque) {
        struct rt_dr_stats *st = opaque;

        (void)rk;
        if (rkm->err) {
                if (!st->failed)
                        st->first_err = rkm->err;
                st->failed++;
        } else {
                st->ok++;
        }
}

static int rt_produce_range(rd_kafka_t *rk, const struct rt_args *a, long from,
                            long to) {
        char key[32], val[32];
        long i;

        for (i = from; i < to && run; i++) {
                rd_kafka_resp_err_t err;

                snprintf(key, sizeof(key), "key-%ld", i % a->keys);
                snprintf(val, sizeof(val), "%ld", i);
retry:
                err = rd_kafka_producev(
                        rk, RD_KAFKA_V_TOPIC(a->topic),
                        RD_KAFKA_V_KEY(key, strlen(key)),
                        RD_KAFKA_V_VALUE(val, strlen(val)),
                        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                        RD_KAFKA_V_END);
                if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                        rd_kafka_poll(rk, 100);
                        goto retry;
                }
                if (err) {
                        rt_log("produce #%ld: %s", i, rd_kafka_err2str(err));
                        return -1;
                }
                rd_kafka_poll(rk, 0);
        }
        return run ? 0 : -1;
}

static int rt_produce(const struct rt_args *a) {
        struct rt_dr_stats st = { 0 };
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_t *rk        = NULL;
        char errstr[256];
        char cmd[64];
        int32_t down = -1;
        int64_t t0   = rt_now_ms();
        long half    = a->count / 2;
        int r        = 1;

        rd_kafka_conf_set_opaque(conf, &st);
        rd_kafka_conf_set_dr_msg_cb(conf, rt_dr_cb);
        if (rt_set(conf, "bootstrap.servers", a->bootstrap) ||
            rt_set(conf, "enable.idempotence", "true") ||
            rt_set(conf, "acks", "all") || rt_set(conf, "linger.ms", "5") ||
            rt_set(conf, "message.timeout.ms", "30000") ||
            /* reconnect soon after broker-up: keeps the test short */
            rt_set(conf, "reconnect.backoff.max.ms", "1000")) {
                rd_kafka_conf_destroy(conf);
                return 1;
        }
        /* The dev broker checks no sequence numbers: a Produce error it
         * injects while a later request of the same partition succeeds
         * makes librdkafka count the failed batch as "implicitly acked"
         * and lose it (docs/devbroker.md). One request in flight at a
         * time keeps injected errors safe. */
        if (a->fault_request_errors &&
            rt_set(conf, "max.in.flight.requests.per.connection", "1")) {
                rd_kafka_conf_destroy(conf);
                return 1;
        }
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        if (!rk) {
                rd_kafka_conf_destroy(conf);
                rt_log("rd_kafka_new: %s", errstr);
                return 1;
        }

        if (a->fault_request_errors &&
            rt_ctl(a->control, "request-errors Produce "
                               "NOT_ENOUGH_REPLICAS,REQUEST_TIMED_OUT") == -1)
                goto out;

        /* First half, all delivered before the fault. */
        if (rt_produce_range(rk, a, 0, half) == -1)
                goto out;
        rd_kafka_flush(rk, RT_TIMEOUT_MS);
        rt_log("first half: %ld delivered, %ld failed", st.ok, st.failed);

        if (a->fault_down_leader) {
                down = rt_leader(rk, a->topic);
                if (down < 0) {
                        rt_log("no leader found for %s [0]", a->topic);
                        goto out;
                }
                snprintf(cmd, sizeof(cmd), "broker-down %d", (int)down);
                if (rt_ctl(a->control, cmd) == -1)
                        goto out;
        }
        if (rt_produce_range(rk, a, half, a->count) == -1)
                goto out;
        if (down > 0) {
                int64_t until = rt_now_ms() + 2000;

                /* Keep the leader away for a while so requests to it fail
                 * and are retried, then bring it back. */
                while (run && rt_now_ms() < until)
                        rd_kafka_poll(rk, 100);
                snprintf(cmd, sizeof(cmd), "broker-up %d", (int)down);
                if (rt_ctl(a->control, cmd) == -1)
                        goto out;
        }
        if (rd_kafka_flush(rk, RT_TIMEOUT_MS) != RD_KAFKA_RESP_ERR_NO_ERROR) {
                rt_log("flush timed out with %d message(s) in queue",
                       rd_kafka_outq_len(rk));
                goto out;
        }
        rt_log("produced %ld: %ld delivered, %ld failed (%s) in %" PRId64 " ms",
               a->count, st.ok, st.failed,
               st.failed ? rd_kafka_err2name(st.first_err) : "-",
               rt_now_ms() - t0);
        if (st.ok == a->count && st.failed == 0)
                r = 0;
        else
                rt_log("FAIL: not every message was delivered");
out:
        if (rk && rd_kafka_fatal_error(rk, errstr, sizeof(errstr))) {
                rt_log("fatal producer error: %s", errstr);
                r = 1;
        }
        rd_kafka_destroy(rk);
        return r;
}

/* ---- consume ---- */

static int rt_consume(const struct rt_args *a) {
        rd_kafka_conf_t *conf                   = rd_kafka_conf_new();
        rd_kafka_topic_partition_list_t *topics = NULL, *parts = NULL;
        rd_kafka_t *rk = NULL;
        FILE *out = NULL, *cout = NULL;
        char errstr[256];
        char eof[RT_MAX_PARTS] = { 0 };
        int eof_cnt = 0, part_cnt = -1, r = 1, i;
        long got   = 0;
        int64_t t0 = rt_now_ms(), t_first = -1;
        rd_kafka_resp_err_t err;

        if (rt_set(conf, "bootstrap.servers", a->bootstrap) ||
            rt_set(conf, "group.id", a->group) ||
            rt_set(conf, "session.timeout.ms", "6000") ||
            rt_set(conf, "heartbeat.interval.ms", "500") ||
            rt_set(conf, "enable.auto.commit", "false") ||
            rt_set(conf, "auto.offset.reset", "earliest") ||
            rt_set(conf, "enable.partition.eof", "true")) {
                rd_kafka_conf_destroy(conf);
                return 1;
        }
        rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
        if (!rk) {
                rd_kafka_conf_destroy(conf);
                rt_log("rd_kafka_new: %s", errstr);
                return 1;
        }
        rd_kafka_poll_set_consumer(rk);
        out = fopen(a->out, "w");
        if (!out) {
                rt_log("%s: %s", a->out, strerror(errno));
                goto out;
        }
        part_cnt = rt_partition_cnt(rk, a->topic);
        if (part_cnt < 1 || part_cnt > RT_MAX_PARTS) {
                rt_log("topic %s: no usable metadata", a->topic);
                goto out;
        }
        topics = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(topics, a->topic,
                                          RD_KAFKA_PARTITION_UA);
        err = rd_kafka_subscribe(rk, topics);
        if (err) {
                rt_log("subscribe: %s", rd_kafka_err2str(err));
                goto out;
        }

        while (run) {
                rd_kafka_message_t *rkm;

                if (a->max > 0 && got >= a->max)
                        break;
                if (a->until_eof && eof_cnt == part_cnt)
                        break;
                if (rt_now_ms() - t0 > RT_TIMEOUT_MS) {
                        rt_log("FAIL: timed out after %ld message(s), "
                               "%d/%d partition(s) at end",
                               got, eof_cnt, part_cnt);
                        goto out;
                }
                rkm = rd_kafka_consumer_poll(rk, 500);
                if (!rkm)
                        continue;
                if (rkm->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                        if (rkm->partition >= 0 &&
                            rkm->partition < RT_MAX_PARTS &&
                            !eof[rkm->partition]) {
                                eof[rkm->partition] = 1;
                                eof_cnt++;
                        }
                } else if (rkm->err) {
                        rt_log("consumer error: %s",
                               rd_kafka_message_errstr(rkm));
                } else {
                        if (t_first == -1) {
                                t_first = rt_now_ms();
                                rt_log("first message after %" PRId64 " ms "
                                       "(group join)",
                                       t_first - t0);
                        }
                        fprintf(out, "%d %" PRId64 " %.*s %.*s\n",
                                (int)rkm->partition, rkm->offset,
                                (int)rkm->key_len, (const char *)rkm->key,
                                (int)rkm->len, (const char *)rkm->payload);
                        got++;
                }
                rd_kafka_message_destroy(rkm);
        }
        if (!run)
                goto out;

        if (a->committed_out) {
                /* Synchronous commit of what this process has consumed. */
                err = rd_kafka_commit(rk, NULL, 0);
                if (err) {
                        rt_log("commit: %s", rd_kafka_err2str(err));
                        goto out;
                }
                parts = rd_kafka_topic_partition_list_new(part_cnt);
                for (i = 0; i < part_cnt; i++)
                        rd_kafka_topic_partition_list_add(parts, a->topic, i);
                err = rd_kafka_committed(rk, parts, 10000);
                if (err) {
                        rt_log("committed: %s", rd_kafka_err2str(err));
                        goto out;
                }
                cout = fopen(a->committed_out, "w");
                if (!cout) {
                        rt_log("%s: %s", a->committed_out, strerror(errno));
                        goto out;
                }
                for (i = 0; i < parts->cnt; i++)
                        fprintf(cout, "%d %" PRId64 "\n",
                                (int)parts->elems[i].partition,
                                parts->elems[i].offset);
        }
        rt_log("consumed %ld message(s) in %" PRId64 " ms", got,
               rt_now_ms() - t0);
        r = 0;
out:
        if (cout && fclose(cout) != 0)
                r = 1;
        if (out && fclose(out) != 0)
                r = 1;
        if (parts)
                rd_kafka_topic_partition_list_destroy(parts);
        if (topics)
                rd_kafka_topic_partition_list_destroy(topics);
        /* Leave the group cleanly so the next member joins quickly. */
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
        return r;
}

/* ---- main ---- */

static void rt_usage(const char *prog) {
        fprintf(stderr,
                "Usage: %s produce --bootstrap B --topic T --count N "
                "[--keys K]\n"
                "          [--control PATH --fault-down-leader] "
                "[--fault-request-errors]\n"
                "       %s consume --bootstrap B --topic T --group G --out "
                "FILE\n"
                "          (--max M --committed-out FILE | --until-eof)\n",
                prog, prog);
}

int main(int argc, char **argv) {
        static const struct option opts[] = {
                { "bootstrap", required_argument, NULL, 'b' },
                { "topic", required_argument, NULL, 't' },
                { "count", required_argument, NULL, 'n' },
                { "keys", required_argument, NULL, 'k' },
                { "group", required_argument, NULL, 'g' },
                { "out", required_argument, NULL, 'o' },
                { "committed-out", required_argument, NULL, 'C' },
                { "max", required_argument, NULL, 'm' },
                { "until-eof", no_argument, NULL, 'E' },
                { "control", required_argument, NULL, 'c' },
                { "fault-down-leader", no_argument, NULL, 'D' },
                { "fault-request-errors", no_argument, NULL, 'R' },
                { NULL, 0, NULL, 0 }
        };
        struct rt_args a = { .count = 1000, .keys = 50 };
        struct sigaction sa;
        int c;

        if (argc < 2) {
                rt_usage(argv[0]);
                return 2;
        }
        a.mode = argv[1];
        optind = 2;
        while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
                switch (c) {
                case 'b':
                        a.bootstrap = optarg;
                        break;
                case 't':
                        a.topic = optarg;
                        break;
                case 'g':
                        a.group = optarg;
                        break;
                case 'o':
                        a.out = optarg;
                        break;
                case 'C':
                        a.committed_out = optarg;
                        break;
                case 'c':
                        a.control = optarg;
                        break;
                case 'E':
                        a.until_eof = 1;
                        break;
                case 'D':
                        a.fault_down_leader = 1;
                        break;
                case 'R':
                        a.fault_request_errors = 1;
                        break;
                case 'n':
                        if (rt_long(optarg, 1, 10000000, &a.count))
                                return 2;
                        break;
                case 'k':
                        if (rt_long(optarg, 1, 10000000, &a.keys))
                                return 2;
                        break;
                case 'm':
                        if (rt_long(optarg, 1, 10000000, &a.max))
                                return 2;
                        break;
                default:
                        rt_usage(argv[0]);
                        return 2;
                }
        }
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = rt_term;
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);

        if (!a.bootstrap || !a.topic) {
                rt_usage(argv[0]);
                return 2;
        }
        if (!strcmp(a.mode, "produce")) {
                if ((a.fault_down_leader || a.fault_request_errors) &&
                    !a.control) {
                        rt_log("faults need --control");
                        return 2;
                }
                return rt_produce(&a);
        }
        if (!strcmp(a.mode, "consume")) {
                if (!a.group || !a.out || (a.max > 0) == (a.until_eof != 0) ||
                    (a.max > 0 && !a.committed_out)) {
                        rt_usage(argv[0]);
                        return 2;
                }
                return rt_consume(&a);
        }
        rt_usage(argv[0]);
        return 2;
}
