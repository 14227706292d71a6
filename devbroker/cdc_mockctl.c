/*
 * cdc_mockctl.c: the development Kafka cluster and its command language.
 *
 * The cluster is librdkafka's mock cluster (rdkafka_mock.h). It needs an
 * rd_kafka_t for its book keeping only; that handle never talks to a broker.
 */
#include "cdc_mockctl.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

#include <librdkafka/rdkafka_mock.h>

#include "cdc_log.h"

#define MOCKCTL_MAX_ARGS 8
#define MOCKCTL_MAX_ERRS 64
#define MOCKCTL_LINE_MAX 1024

struct cdc_mockctl_s {
        rd_kafka_t *mc_rk;
        rd_kafka_mock_cluster_t *mc_mcluster;
        int mc_broker_cnt;
};

/* ---- names ---- */

/* Kafka protocol ApiKeys (Apache Kafka protocol guide), the ones the mock
 * cluster serves or a client may send. Numbers are accepted too. */
static const struct {
        const char *name;
        int key;
} mockctl_apikeys[] = {
        { "Produce", 0 },
        { "Fetch", 1 },
        { "ListOffsets", 2 },
        { "Offset", 2 },
        { "Metadata", 3 },
        { "OffsetCommit", 8 },
        { "OffsetFetch", 9 },
        { "FindCoordinator", 10 },
        { "GroupCoordinator", 10 },
        { "JoinGroup", 11 },
        { "Heartbeat", 12 },
        { "LeaveGroup", 13 },
        { "SyncGroup", 14 },
        { "DescribeGroups", 15 },
        { "ListGroups", 16 },
        { "SaslHandshake", 17 },
        { "ApiVersion", 18 },
        { "ApiVersions", 18 },
        { "CreateTopics", 19 },
        { "DeleteTopics", 20 },
        { "DeleteRecords", 21 },
        { "InitProducerId", 22 },
        { "OffsetForLeaderEpoch", 23 },
        { "AddPartitionsToTxn", 24 },
        { "AddOffsetsToTxn", 25 },
        { "EndTxn", 26 },
        { "TxnOffsetCommit", 28 },
        { "DescribeConfigs", 32 },
        { "AlterConfigs", 33 },
        { "SaslAuthenticate", 36 },
};

int cdc_mockctl_int_parse(const char *s, long min, long max, long *valp) {
        char *end = NULL;
        long v;

        if (!s || !*s)
                return -1;
        errno = 0;
        v     = strtol(s, &end, 10);
        if (errno || !end || *end || v < min || v > max)
                return -1;
        *valp = v;
        return 0;
}

int cdc_mockctl_apikey_parse(const char *name) {
        size_t i;
        long v;

        if (cdc_mockctl_int_parse(name, 0, 32767, &v) == 0)
                return (int)v;
        for (i = 0; i < sizeof(mockctl_apikeys) / sizeof(*mockctl_apikeys); i++)
                if (!strcasecmp(name, mockctl_apikeys[i].name))
                        return mockctl_apikeys[i].key;
        return -1;
}

int cdc_mockctl_err_parse(const char *name, rd_kafka_resp_err_t *errp) {
        const struct rd_kafka_err_desc *descs = NULL;
        size_t cnt                            = 0, i;
        long v;
        static const char prefix[] = "RD_KAFKA_RESP_ERR_";

        if (cdc_mockctl_int_parse(name, -200, 32767, &v) == 0) {
                *errp = (rd_kafka_resp_err_t)v;
                return 0;
        }
        if (!strncasecmp(name, prefix, sizeof(prefix) - 1))
                name += sizeof(prefix) - 1;
        if (!*name)
                return -1;
        rd_kafka_get_err_descs(&descs, &cnt);
        for (i = 0; i < cnt; i++) {
                if (!descs[i].name)
                        continue;
                if (!strcasecmp(name, descs[i].name)) {
                        *errp = descs[i].code;
                        return 0;
                }
        }
        return -1;
}

/* ---- cluster ---- */

/* librdkafka log lines (its own threads) go to our one-line logger. */
static void mockctl_log_cb(const rd_kafka_t *rk, int level, const char *fac,
                           const char *buf) {
        (void)rk;
        /* This handle is only the cluster's owner: it never connects, so
         * the warning about missing bootstrap.servers is expected. */
        if (!strcmp(fac, "CONFWARN") && strstr(buf, "bootstrap.servers"))
                level = LOG_DEBUG;
        cdc_log(level, "MOCK", "%s: %s", fac, buf);
}

cdc_mockctl_t *cdc_mockctl_new(int broker_cnt, const char *rkdebug,
                               char *errstr, size_t errstr_size) {
        cdc_mockctl_t *mc = NULL, *ret = NULL;
        rd_kafka_conf_t *conf = NULL;

        if (broker_cnt < 1) {
                snprintf(errstr, errstr_size, "broker count must be >= 1");
                goto out;
        }
        mc = calloc(1, sizeof(*mc));
        if (!mc) {
                snprintf(errstr, errstr_size, "out of memory");
                goto out;
        }
        mc->mc_broker_cnt = broker_cnt;

        conf = rd_kafka_conf_new();
        rd_kafka_conf_set_log_cb(conf, mockctl_log_cb);
        if (rd_kafka_conf_set(conf, "client.id", "followcdc-devbroker", errstr,
                              errstr_size) != RD_KAFKA_CONF_OK)
                goto out;
        if (rkdebug && *rkdebug &&
            rd_kafka_conf_set(conf, "debug", rkdebug, errstr, errstr_size) !=
                    RD_KAFKA_CONF_OK)
                goto out;

        /* rd_kafka_new() owns conf from here on success. */
        mc->mc_rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, errstr_size);
        if (!mc->mc_rk)
                goto out;
        conf = NULL;

        mc->mc_mcluster = rd_kafka_mock_cluster_new(mc->mc_rk, broker_cnt);
        if (!mc->mc_mcluster) {
                snprintf(errstr, errstr_size,
                         "could not create the mock cluster (see log)");
                goto out;
        }

        ret = mc;
        mc  = NULL;
out:
        if (conf)
                rd_kafka_conf_destroy(conf);
        cdc_mockctl_destroy(mc);
        return ret;
}

void cdc_mockctl_destroy(cdc_mockctl_t *mc) {
        if (!mc)
                return;
        if (mc->mc_mcluster)
                rd_kafka_mock_cluster_destroy(mc->mc_mcluster);
        if (mc->mc_rk)
                rd_kafka_destroy(mc->mc_rk);
        free(mc);
}

const char *cdc_mockctl_bootstraps(const cdc_mockctl_t *mc) {
        return rd_kafka_mock_cluster_bootstraps(mc->mc_mcluster);
}

int cdc_mockctl_broker_cnt(const cdc_mockctl_t *mc) {
        return mc->mc_broker_cnt;
}

cdc_err_t cdc_mockctl_topic_create(cdc_mockctl_t *mc, const char *topic,
                                   int partitions, char *errstr,
                                   size_t errstr_size) {
        rd_kafka_resp_err_t kerr;
        int rf = mc->mc_broker_cnt < 3 ? mc->mc_broker_cnt : 3;

        kerr = rd_kafka_mock_topic_create(mc->mc_mcluster, topic, partitions,
                                          rf);
        if (kerr) {
                snprintf(errstr, errstr_size, "topic %s: %s", topic,
                         rd_kafka_err2str(kerr));
                return CDC_ERR__SERVER;
        }
        return CDC_ERR_NO_ERROR;
}

/* ---- commands ---- */

/* Split \p buf in place on blanks; returns the word count or -1 if more
 * than \p max words. */
static int mockctl_split(char *buf, char **argv, int max) {
        int argc = 0;
        char *p  = buf;

        for (;;) {
                p += strspn(p, " \t\r\n");
                if (!*p)
                        break;
                if (argc == max)
                        return -1;
                argv[argc++] = p;
                p += strcspn(p, " \t\r\n");
                if (*p)
                        *p++ = '\0';
        }
        return argc;
}

static cdc_err_t mockctl_reply(cdc_err_t err, char *reply, size_t reply_size,
                               const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

static cdc_err_t mockctl_reply(cdc_err_t err, char *reply, size_t reply_size,
                               const char *fmt, ...) {
        va_list ap;
        int n;

        n = snprintf(reply, reply_size, "%s", err ? "ERR " : "OK");
        if (n < 0 || (size_t)n >= reply_size)
                return err;
        if (fmt) {
                if (!err && reply_size - (size_t)n > 1) {
                        reply[n++] = ' ';
                        reply[n]   = '\0';
                }
                va_start(ap, fmt);
                vsnprintf(reply + n, reply_size - (size_t)n, fmt, ap);
                va_end(ap);
        }
        return err;
}

static int mockctl_broker_parse(const cdc_mockctl_t *mc, const char *s,
                                int32_t *idp) {
        long v;

        if (cdc_mockctl_int_parse(s, 1, mc->mc_broker_cnt, &v) == -1)
                return -1;
        *idp = (int32_t)v;
        return 0;
}

/* request-errors APIKEY ERR[,ERR...] */
static cdc_err_t mockctl_request_errors(cdc_mockctl_t *mc, const char *api,
                                        char *list, char *reply,
                                        size_t reply_size) {
        rd_kafka_resp_err_t errs[MOCKCTL_MAX_ERRS];
        size_t cnt = 0;
        int apikey;
        char *p = list;

        apikey = cdc_mockctl_apikey_parse(api);
        if (apikey == -1)
                return mockctl_reply(CDC_ERR__CONFIG, reply, reply_size,
                                     "unknown ApiKey '%s'", api);
        while (*p) {
                size_t len = strcspn(p, ",");
                char save  = p[len];

                if (cnt == MOCKCTL_MAX_ERRS)
                        return mockctl_reply(CDC_ERR__CONFIG, reply, reply_size,
                                             "more than %d errors",
                                             MOCKCTL_MAX_ERRS);
                p[len] = '\0';
                if (cdc_mockctl_err_parse(p, &errs[cnt]) == -1)
                        return mockctl_reply(CDC_ERR__CONFIG, reply, reply_size,
                                             "unknown error '%s'", p);
                cnt++;
                p[len] = save;
                p += len;
                if (*p == ',')
                        p++;
        }
        if (!cnt)
                return mockctl_reply(CDC_ERR__CONFIG, reply, reply_size,
                                     "no error given");
        rd_kafka_mock_push_request_errors_array(mc->mc_mcluster,
                                                (int16_t)apikey, cnt, errs);
        cdc_log(LOG_NOTICE, "DEVBROKER",
                "next %zu request(s) of ApiKey %d will fail, first with %s",
                cnt, apikey, rd_kafka_err2name(errs[0]));
        return mockctl_reply(CDC_ERR_NO_ERROR, reply, reply_size, NULL);
}

cdc_err_t cdc_mockctl_exec(cdc_mockctl_t *mc, const char *line, char *reply,
                           size_t reply_size) {
        char buf[MOCKCTL_LINE_MAX];
        char *argv[MOCKCTL_MAX_ARGS];
        rd_kafka_resp_err_t kerr = RD_KAFKA_RESP_ERR_NO_ERROR;
        int argc;
        int32_t id;
        long v, v2;
        const char *cmd;

        if (strlen(line) >= sizeof(buf))
                return mockctl_reply(CDC_ERR__CONFIG, reply, reply_size,
                                     "line too long");
        memcpy(buf, line, strlen(line) + 1);
        argc = mockctl_split(buf, argv, MOCKCTL_MAX_ARGS);
        if (argc == -1)
                return mockctl_reply(CDC_ERR__CONFIG, reply, reply_size,
                                     "too many words");
        if (argc == 0)
                return mockctl_reply(CDC_ERR__CONFIG, reply, reply_size,
                                     "empty command");
        cmd = argv[0];

#define MOCKCTL_NARGS(n, usage)                                                \
        do {                                                                   \
                if (argc != (n) + 1)                                           \
                        return mockctl_reply(CDC_ERR__CONFIG, reply,           \
                                             reply_size, "usage: %s", usage);  \
        } while (0)

        if (!strcmp(cmd, "ping")) {
                MOCKCTL_NARGS(0, "ping");
                return mockctl_reply(CDC_ERR_NO_ERROR, reply, reply_size, NULL);

        } else if (!strcmp(cmd, "bootstrap")) {
                MOCKCTL_NARGS(0, "bootstrap");
                return mockctl_reply(CDC_ERR_NO_ERROR, reply, reply_size, "%s",
                                     cdc_mockctl_bootstraps(mc));

        } else if (!strcmp(cmd, "broker-down") || !strcmp(cmd, "broker-up")) {
                int up = !strcmp(cmd, "broker-up");

                MOCKCTL_NARGS(1, up ? "broker-up ID" : "broker-down ID");
                if (mockctl_broker_parse(mc, argv[1], &id) == -1)
                        return mockctl_reply(CDC_ERR__CONFIG, reply, reply_size,
                                             "broker id must be 1..%d",
                                             mc->mc_broker_cnt);
                kerr = up ? rd_kafka_mock_broker_set_up(mc->mc_mcluster, id)
                          : rd_kafka_mock_broker_set_down(mc->mc_mcluster, id);
                if (!kerr)
                        cdc_log(LOG_NOTICE, "DEVBROKER", "broker %d %s",
                                (int)id, up ? "up" : "down");

        } else if (!strcmp(cmd, "broker-rtt")) {
                MOCKCTL_NARGS(2, "broker-rtt ID MS");
                if (mockctl_broker_parse(mc, argv[1], &id) == -1)
                        return mockctl_reply(CDC_ERR__CONFIG, reply, reply_size,
                                             "broker id must be 1..%d",
                                             mc->mc_broker_cnt);
                if (cdc_mockctl_int_parse(argv[2], 0, 3600 * 1000, &v) == -1)
                        return mockctl_reply(CDC_ERR__CONFIG, reply, reply_size,
                                             "bad rtt '%s' (ms)", argv[2]);
                kerr = rd_kafka_mock_broker_set_rtt(mc->mc_mcluster, id,
                                                    (int)v);
                if (!kerr)
                        cdc_log(LOG_NOTICE, "DEVBROKER", "broker %d rtt %ldms",
                                (int)id, v);

        } else if (!strcmp(cmd, "request-errors")) {
                MOCKCTL_NARGS(2, "request-errors APIKEY ERR[,ERR...]");
                return mockctl_request_errors(mc, argv[1], argv[2], reply,
                                              reply_size);

        } else if (!strcmp(cmd, "clear-request-errors")) {
                int apikey;

                MOCKCTL_NARGS(1, "clear-request-errors APIKEY");
                apikey = cdc_mockctl_apikey_parse(argv[1]);
                if (apikey == -1)
                        return mockctl_reply(CDC_ERR__CONFIG, reply, reply_size,
                                             "unknown ApiKey '%s'", argv[1]);
                rd_kafka_mock_clear_request_errors(mc->mc_mcluster,
                                                   (int16_t)apikey);

        } else if (!strcmp(cmd, "topic-create")) {
                char errstr[256];

                MOCKCTL_NARGS(2, "topic-create NAME PARTITIONS");
                if (cdc_mockctl_int_parse(argv[2], 1, 10000, &v) == -1)
                        return mockctl_reply(CDC_ERR__CONFIG, reply, reply_size,
                                             "bad partition count '%s'",
                                             argv[2]);
                if (cdc_mockctl_topic_create(mc, argv[1], (int)v, errstr,
                                             sizeof(errstr)))
                        return mockctl_reply(CDC_ERR__SERVER, reply, reply_size,
                                             "%s", errstr);
                cdc_log(LOG_NOTICE, "DEVBROKER",
                        "topic %s created with %ld partition(s)", argv[1], v);

        } else if (!strcmp(cmd, "partition-leader")) {
                MOCKCTL_NARGS(3, "partition-leader TOPIC PARTITION BROKER");
                if (cdc_mockctl_int_parse(argv[2], 0, 9999, &v) == -1 ||
                    mockctl_broker_parse(mc, argv[3], &id) == -1)
                        return mockctl_reply(CDC_ERR__CONFIG, reply, reply_size,
                                             "bad partition or broker id");
                kerr = rd_kafka_mock_partition_set_leader(
                        mc->mc_mcluster, argv[1], (int32_t)v, id);

        } else if (!strcmp(cmd, "coordinator")) {
                MOCKCTL_NARGS(3, "coordinator group|transaction KEY BROKER");
                if (strcmp(argv[1], "group") && strcmp(argv[1], "transaction"))
                        return mockctl_reply(CDC_ERR__CONFIG, reply, reply_size,
                                             "coordinator type must be "
                                             "group or transaction");
                if (cdc_mockctl_int_parse(argv[3], 1, mc->mc_broker_cnt, &v2) ==
                    -1)
                        return mockctl_reply(CDC_ERR__CONFIG, reply, reply_size,
                                             "broker id must be 1..%d",
                                             mc->mc_broker_cnt);
                kerr = rd_kafka_mock_coordinator_set(mc->mc_mcluster, argv[1],
                                                     argv[2], (int32_t)v2);

        } else {
                return mockctl_reply(CDC_ERR__CONFIG, reply, reply_size,
                                     "unknown command '%s'", cmd);
        }
#undef MOCKCTL_NARGS

        if (kerr)
                return mockctl_reply(CDC_ERR__SERVER, reply, reply_size,
                                     "%s: %s", cmd, rd_kafka_err2str(kerr));
        return mockctl_reply(CDC_ERR_NO_ERROR, reply, reply_size, NULL);
}
