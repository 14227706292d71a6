/**
 * @file cdc_mockctl.h
 * @brief The development Kafka cluster (librdkafka's mock cluster) and the
 *        text command language that steers it (fault injection for tests).
 *
 * One cdc_mockctl_t owns one rd_kafka_t and the mock cluster created on it.
 * The cluster runs on its own librdkafka thread; every function here may be
 * called from the owning (main) thread while that thread serves clients.
 *
 * Commands (one line, words separated by blanks):
 *   ping
 *   bootstrap
 *   broker-down ID | broker-up ID | broker-rtt ID MS
 *   request-errors APIKEY ERR[,ERR...]
 *   clear-request-errors APIKEY
 *   topic-create NAME PARTITIONS
 *   partition-leader TOPIC PARTITION BROKER
 *   coordinator group|transaction KEY BROKER
 * The reply is `OK`, `OK <text>` or `ERR <reason>`.
 */
#ifndef CDC_MOCKCTL_H
#define CDC_MOCKCTL_H

#include <stddef.h>
#include <librdkafka/rdkafka.h>

#include "cdc_err.h"

typedef struct cdc_mockctl_s cdc_mockctl_t;

/**
 * @brief Start a mock cluster of \p broker_cnt brokers on 127.0.0.1
 *        (random ports; librdkafka 2.0.2 cannot pin them).
 * @param rkdebug librdkafka `debug` value (e.g. "mock"), or NULL.
 * @returns the handle, or NULL with the reason in \p errstr.
 * @locality main thread
 */
cdc_mockctl_t *cdc_mockctl_new(int broker_cnt, const char *rkdebug,
                               char *errstr, size_t errstr_size);

/**
 * @brief Stop the cluster (closes every client connection) and free it.
 *        NULL: no-op.
 * @locality main thread
 */
void cdc_mockctl_destroy(cdc_mockctl_t *mc);

/**
 * @returns the comma separated bootstrap list, borrowed from \p mc.
 */
const char *cdc_mockctl_bootstraps(const cdc_mockctl_t *mc);

/** @returns the number of brokers (ids run 1..N). */
int cdc_mockctl_broker_cnt(const cdc_mockctl_t *mc);

/**
 * @brief Create \p topic with \p partitions partitions (replication
 *        factor min(3, brokers)).
 * @returns CDC_ERR_NO_ERROR or CDC_ERR__SERVER with the reason in \p errstr.
 */
cdc_err_t cdc_mockctl_topic_create(cdc_mockctl_t *mc, const char *topic,
                                   int partitions, char *errstr,
                                   size_t errstr_size);

/**
 * @brief Run one command line (see the file comment) and write the reply
 *        line, without newline, to \p reply.
 * @returns CDC_ERR_NO_ERROR when the reply is `OK...`, else CDC_ERR__CONFIG
 *          (bad command) or CDC_ERR__SERVER (the cluster refused).
 * @locality main thread
 */
cdc_err_t cdc_mockctl_exec(cdc_mockctl_t *mc, const char *line, char *reply,
                           size_t reply_size);

/**
 * @brief Parse a Kafka protocol ApiKey: a name ("Produce", "OffsetCommit",
 *        case-insensitive) or a number 0..32767.
 * @returns the key, or -1.
 */
int cdc_mockctl_apikey_parse(const char *name);

/**
 * @brief Parse a Kafka error: a name as printed by rd_kafka_err2name()
 *        ("NOT_LEADER_FOR_PARTITION", "_TRANSPORT"), optionally prefixed
 *        with "RD_KAFKA_RESP_ERR_", case-insensitive, or a number.
 * @returns 0 and the code in \p errp, or -1.
 */
int cdc_mockctl_err_parse(const char *name, rd_kafka_resp_err_t *errp);

/**
 * @brief Parse a decimal integer in [min, max] (whole string).
 * @returns 0 and the value in \p valp, or -1.
 */
int cdc_mockctl_int_parse(const char *s, long min, long max, long *valp);

#endif
