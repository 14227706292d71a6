/**
 * @file cdc_rloss.h
 * @brief Detects a Redis master that lost its data (restart without
 *        persistence, FLUSHALL, failover to an empty replica) and tells
 *        the consumer which partitions must be replayed from their
 *        beginning to rebuild it.
 *
 * Each master holds one marker, a hash at a key of a slot it owns
 * (schemas/redis.md):
 *
 *   <prefix>:{marker:<n>}   epoch  <when and by whom it was created>
 *                           p:<topic>:<partition>:<group>  1
 *
 * `<n>` is the smallest number whose tag `marker:<n>` hashes to the slot
 * (a table computed once, cdc_rloss_tag()). A `p:` field says: this
 * group's committed offset of that partition was reset to the partition's
 * beginning after the marker was created, so everything in the partition
 * reaches this master again (or already did). A lost dataset takes the
 * marker with it; the marker that is created again has no `p:` field, so
 * every partition of every group is replayed once, whichever instance owns
 * it now or later: the obligation lives in Redis and Kafka, not in the
 * memory of the instance that saw the loss first (one that crashes before
 * it notices leaves its partitions to an owner that will).
 *
 * Which slot: a master's marker stays where this process last found it
 * while the master still owns that slot; otherwise (first check, the slot
 * moved) it is the master's highest slot, and before a missing marker
 * there counts as a loss every slot the master owns is searched for a
 * marker (EXISTS, pipelined): a resharding moves markers with their slots,
 * so a master that received slots, or whose marker slot changed, keeps
 * its marker. `redis-cli --cluster reshard` moves a source's lowest slots
 * first, so the highest one rarely moves. A master that gives away the
 * slot of its marker (and holds no other) looks like a loss: one
 * unnecessary replay, harmless (every apply is version-checked).
 *
 * @locality the consumer's loop thread
 */
#ifndef CDC_RLOSS_H
#define CDC_RLOSS_H

#include <stddef.h>
#include <stdint.h>

#include "cdc_err.h"
#include "cdc_rcluster.h"

typedef struct cdc_rloss_s cdc_rloss_t;

/** One assigned partition. */
typedef struct cdc_rloss_part_s {
        const char *topic; /**< borrowed for the call */
        int32_t partition;
        int replay; /**< out of cdc_rloss_check(): 1 = replay it from its
                     *   beginning; in of cdc_rloss_mark(): mark it */
} cdc_rloss_part_t;

/** What one check found. */
typedef struct cdc_rloss_result_s {
        int lost;        /**< masters found without marker: lost data */
        int replay;      /**< partitions flagged for replay */
        char nodes[256]; /**< "host:port ..." of the masters that lost
                          *   data (cut if long) */
} cdc_rloss_result_t;

/**
 * @brief New detector.
 * @param prefix redis.key.prefix; @param group the consumer group id
 *        (both copied).
 * @returns the handle or NULL (out of memory) with the reason in errstr.
 */
cdc_rloss_t *cdc_rloss_new(const char *prefix, const char *group, char *errstr,
                           size_t errstr_size);

/** @brief Free. NULL: no-op. */
void cdc_rloss_destroy(cdc_rloss_t *rl);

/** @returns the tag number of \p slot: the smallest n such that the key
 *           tag "marker:<n>" hashes to \p slot. */
uint32_t cdc_rloss_tag(const cdc_rloss_t *rl, int slot);

/**
 * @brief The marker key of \p slot, "<prefix>:{marker:<n>}".
 * @returns its length, or 0 if it does not fit in \p size.
 */
size_t cdc_rloss_key(const cdc_rloss_t *rl, int slot, char *buf, size_t size);

/**
 * @brief Check every master's marker for the \p n assigned partitions:
 *        a missing marker is a loss (logged at WARNING, the marker is
 *        created again); each partition whose field is missing on some
 *        master gets replay = 1.
 * @returns CDC_ERR_NO_ERROR, or CDC_ERR__TRANSPORT / CDC_ERR__NOMEM
 *          (Redis unreachable: nothing decided, check again later) or
 *          CDC_ERR__SERVER (Redis answered with an error, e.g. OOM or
 *          WRONGTYPE: the connection is fine; nothing decided either),
 *          with the reason in cdc_rloss_errstr().
 */
cdc_err_t cdc_rloss_check(cdc_rloss_t *rl, cdc_rcluster_t *rc,
                          cdc_rloss_part_t *parts, int n,
                          cdc_rloss_result_t *res);

/**
 * @brief Record on every master's marker that the partitions with
 *        replay = 1 were reset to their beginning. Call only after that
 *        reset is committed in Kafka.
 * @returns as cdc_rloss_check() (not marked: the next check replays them
 *          again, harmless).
 */
cdc_err_t cdc_rloss_mark(cdc_rloss_t *rl, cdc_rcluster_t *rc,
                         const cdc_rloss_part_t *parts, int n);

/** @returns the last error text ("" if none). Borrowed. */
const char *cdc_rloss_errstr(const cdc_rloss_t *rl);

#endif
