/*
 * kafka_admin: the few Admin API calls the integration tests need against a
 * real Kafka broker (tests/lib/kafka.sh), through librdkafka, so a test does
 * not pay a JVM start for each topic it creates.
 *
 *   kafka_admin -b BOOTSTRAP [-X prop=value]... create-topic NAME PARTS RF
 *               [config=value]...
 *   kafka_admin -b BOOTSTRAP [-X prop=value]... topic-config NAME
 *
 * create-topic: CreateTopics; an existing topic is an error (exit 3).
 * topic-config: DescribeConfigs of the topic, one "name=value" line per
 * entry (value "(null)" when unset).
 * -X passes a client property to librdkafka (security settings).
 * Exit 0 on success, 1 on an error (reason on stderr), 2 on usage errors,
 * 3 when the topic to create exists already.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#define ADM_TIMEOUT_MS (30 * 1000)

static void adm_usage(void) {
        fprintf(stderr,
                "usage: kafka_admin -b BOOTSTRAP [-X prop=value]... CMD ...\n"
                "  create-topic NAME PARTS RF [config=value]...\n"
                "  topic-config NAME\n");
}

/* Wait for the result event of one admin call. Returns it or NULL. */
static rd_kafka_event_t *adm_wait(rd_kafka_queue_t *q) {
        rd_kafka_event_t *rkev = rd_kafka_queue_poll(q, ADM_TIMEOUT_MS);
        if (!rkev) {
                fprintf(stderr, "kafka_admin: timed out\n");
                return NULL;
        }
        if (rd_kafka_event_error(rkev)) {
                fprintf(stderr, "kafka_admin: %s\n",
                        rd_kafka_event_error_string(rkev));
                rd_kafka_event_destroy(rkev);
                return NULL;
        }
        return rkev;
}

static long adm_num(const char *s, const char *what) {
        char *end = NULL;
        long v    = strtol(s, &end, 10);
        if (!*s || *end) {
                fprintf(stderr, "kafka_admin: bad %s '%s'\n", what, s);
                exit(2);
        }
        return v;
}

static int adm_create_topic(rd_kafka_t *rk, rd_kafka_queue_t *q, int argc,
                            char **argv) {
        rd_kafka_NewTopic_t *nt = NULL;
        rd_kafka_event_t *rkev  = NULL;
        const rd_kafka_CreateTopics_result_t *res;
        const rd_kafka_topic_result_t **tres;
        size_t cnt;
        char es[512];
        int i, ret = 1;

        if (argc < 3) {
                adm_usage();
                return 2;
        }
        nt = rd_kafka_NewTopic_new(argv[0], (int)adm_num(argv[1], "PARTS"),
                                   (int)adm_num(argv[2], "RF"), es, sizeof(es));
        if (!nt) {
                fprintf(stderr, "kafka_admin: %s\n", es);
                return 1;
        }
        for (i = 3; i < argc; i++) {
                char *eq = strchr(argv[i], '=');
                if (!eq) {
                        fprintf(stderr, "kafka_admin: '%s' is not k=v\n",
                                argv[i]);
                        goto out;
                }
                *eq = '\0';
                if (rd_kafka_NewTopic_set_config(nt, argv[i], eq + 1)) {
                        fprintf(stderr, "kafka_admin: config %s\n", argv[i]);
                        goto out;
                }
        }
        rd_kafka_CreateTopics(rk, &nt, 1, NULL, q);
        rkev = adm_wait(q);
        if (!rkev)
                goto out;
        res  = rd_kafka_event_CreateTopics_result(rkev);
        tres = rd_kafka_CreateTopics_result_topics(res, &cnt);
        if (cnt != 1) {
                fprintf(stderr, "kafka_admin: %zu results\n", cnt);
                goto out;
        }
        if (rd_kafka_topic_result_error(tres[0])) {
                fprintf(stderr, "kafka_admin: create %s: %s\n",
                        rd_kafka_topic_result_name(tres[0]),
                        rd_kafka_topic_result_error_string(tres[0]));
                if (rd_kafka_topic_result_error(tres[0]) ==
                    RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
                        ret = 3;
                goto out;
        }
        ret = 0;
out:
        if (rkev)
                rd_kafka_event_destroy(rkev);
        rd_kafka_NewTopic_destroy(nt);
        return ret;
}

static int adm_topic_config(rd_kafka_t *rk, rd_kafka_queue_t *q, int argc,
                            char **argv) {
        rd_kafka_ConfigResource_t *cr = NULL;
        rd_kafka_event_t *rkev        = NULL;
        const rd_kafka_DescribeConfigs_result_t *res;
        const rd_kafka_ConfigResource_t **rs;
        const rd_kafka_ConfigEntry_t **ents;
        size_t cnt, ecnt, i;
        int ret = 1;

        if (argc != 1) {
                adm_usage();
                return 2;
        }
        cr = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, argv[0]);
        rd_kafka_DescribeConfigs(rk, &cr, 1, NULL, q);
        rkev = adm_wait(q);
        if (!rkev)
                goto out;
        res = rd_kafka_event_DescribeConfigs_result(rkev);
        rs  = rd_kafka_DescribeConfigs_result_resources(res, &cnt);
        if (cnt != 1 || rd_kafka_ConfigResource_error(rs[0])) {
                fprintf(stderr, "kafka_admin: describe %s: %s\n", argv[0],
                        cnt == 1 ? rd_kafka_ConfigResource_error_string(rs[0])
                                 : "no result");
                goto out;
        }
        ents = rd_kafka_ConfigResource_configs(rs[0], &ecnt);
        for (i = 0; i < ecnt; i++) {
                const char *v = rd_kafka_ConfigEntry_value(ents[i]);
                printf("%s=%s\n", rd_kafka_ConfigEntry_name(ents[i]),
                       v ? v : "(null)");
        }
        ret = 0;
out:
        if (rkev)
                rd_kafka_event_destroy(rkev);
        rd_kafka_ConfigResource_destroy(cr);
        return ret;
}

int main(int argc, char **argv) {
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_t *rk        = NULL;
        rd_kafka_queue_t *q   = NULL;
        const char *bootstrap = NULL;
        char es[512];
        int i = 1, ret = 2;

        while (i < argc && argv[i][0] == '-') {
                if (i + 1 >= argc)
                        break;
                if (!strcmp(argv[i], "-b")) {
                        bootstrap = argv[i + 1];
                } else if (!strcmp(argv[i], "-X")) {
                        char *eq = strchr(argv[i + 1], '=');
                        if (!eq) {
                                adm_usage();
                                goto out;
                        }
                        *eq = '\0';
                        if (rd_kafka_conf_set(conf, argv[i + 1], eq + 1, es,
                                              sizeof(es))) {
                                fprintf(stderr, "kafka_admin: %s\n", es);
                                goto out;
                        }
                } else {
                        adm_usage();
                        goto out;
                }
                i += 2;
        }
        if (!bootstrap || i >= argc) {
                adm_usage();
                goto out;
        }
        if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, es,
                              sizeof(es))) {
                fprintf(stderr, "kafka_admin: %s\n", es);
                goto out;
        }
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, es, sizeof(es));
        if (!rk) {
                fprintf(stderr, "kafka_admin: %s\n", es);
                goto out;
        }
        conf = NULL; /* owned by rk */
        q    = rd_kafka_queue_new(rk);
        if (!strcmp(argv[i], "create-topic"))
                ret = adm_create_topic(rk, q, argc - i - 1, argv + i + 1);
        else if (!strcmp(argv[i], "topic-config"))
                ret = adm_topic_config(rk, q, argc - i - 1, argv + i + 1);
        else
                adm_usage();
out:
        if (q)
                rd_kafka_queue_destroy(q);
        if (rk)
                rd_kafka_destroy(rk);
        if (conf)
                rd_kafka_conf_destroy(conf);
        return ret;
}
