/**
 * @file cdc_topics.h
 * @brief The producer's start-up check of its Kafka topics (Admin API):
 *        they should exist and be compacted (cleanup.policy contains
 *        `compact`), because a replay of the topics rebuilds Redis only if
 *        every key's latest change is kept. Optionally creates the missing
 *        ones (`topics.create`).
 *
 * What is found is logged and returned; the caller decides what is fatal:
 * - a topic that is not compacted: WARNING (CDC_ERR__CONFIG with
 *   `require_compact`);
 * - a missing topic: created compacted with `create`, otherwise a NOTICE
 *   (a broker with auto.create.topics.enable creates it on the first write
 *   with its default cleanup.policy, usually `delete`);
 * - a broker that cannot answer (unreachable, or the dev broker, which
 *   has no DescribeConfigs): a NOTICE that nothing was checked. Never a
 *   reason not to start: producing has its own retries.
 */
#ifndef CDC_TOPICS_H
#define CDC_TOPICS_H

#include <stddef.h>
#include <stdint.h>
#include <librdkafka/rdkafka.h>
#include "cdc_err.h"

typedef struct cdc_topics_opts_s {
        const char *const *topics; /**< change topics */
        size_t topic_cnt;
        const char *ckpt_topic; /**< checkpoint topic (1 partition) or NULL */
        int create;             /**< create missing topics, compacted */
        int partitions;         /**< of created change topics; -1: broker's */
        int replication_factor; /**< of created topics; -1: broker's */
        int require_compact;    /**< a non-compacted topic is an error */
        int timeout_ms;         /**< per Admin request */
} cdc_topics_opts_t;

/** What the check found. */
typedef struct cdc_topics_result_s {
        int checked;       /**< 1 if the broker answered DescribeConfigs */
        int not_compacted; /**< existing topics without `compact` */
        int missing;       /**< topics that do not exist (after creating) */
        int created;       /**< topics created now */
} cdc_topics_result_t;

/**
 * @brief Check (and with o->create, create) the topics through \p rk's
 *        brokers.
 * @returns CDC_ERR_NO_ERROR; CDC_ERR__CONFIG with the reason in \p errstr
 *          when require_compact finds a non-compacted topic or a creation
 *          is refused for good (authorization, invalid settings).
 * @locality main thread
 */
cdc_err_t cdc_topics_check(rd_kafka_t *rk, const cdc_topics_opts_t *o,
                           cdc_topics_result_t *res, char *errstr,
                           size_t errstr_size);

/**
 * The same check without waiting, for the common case (neither create nor
 * require_compact): the request is sent now and its answer read by
 * cdc_topics_poll() from the main loop, so a broker that answers slowly
 * (the dev broker never does) does not delay the start.
 */
typedef struct cdc_topics_s cdc_topics_t;

/** @brief Send the check. @returns the handle or NULL (out of memory). */
cdc_topics_t *cdc_topics_start(rd_kafka_t *rk, const cdc_topics_opts_t *o,
                               int64_t now_ms);

/**
 * @brief Read the answer if it came (or give up after the timeout).
 * @returns 1 once, when \p res is filled (and what was found logged); 0
 *          while waiting and after that.
 */
int cdc_topics_poll(cdc_topics_t *t, int64_t now_ms, cdc_topics_result_t *res);

/** @brief Free (a pending answer is dropped). NULL: no-op. */
void cdc_topics_destroy(cdc_topics_t *t);

/** @returns 1 if a cleanup.policy value includes `compact`. */
int cdc_topics_policy_compacts(const char *policy);

#endif
