/**
 * @file cdc_reaper.h
 * @brief TTL reaper: deletes expired idempotency rows from MySQL in small
 *        batches with pauses, one consumer instance at a time.
 *
 * - Runs on its own thread. Both of its MySQL connections are made by
 *   cdc_mysql from one target filled from the reaper.mysql.* settings.
 * - Leadership: cdc_lock's `GET_LOCK('followcdc:reaper:<db>', 0)` on a
 *   connection of its own (the producer's standby lock, same module). The
 *   lock lives as long as that connection, so the leader keeps it while
 *   healthy and the server frees it when the leader dies; another instance
 *   takes over on its next round (reaper.interval). The leader checks the
 *   lock before each round and stands by when it is lost.
 * - Connect failures are reported as a streak (cdc_retry): the first at
 *   WARNING, retries at debug level (log.debug=reaper), the recovery at
 *   NOTICE.
 * - Each round, for each status in reaper.statuses (never 1 processing):
 *     DELETE FROM `t` WHERE `status` = S
 *       AND `created_at` < CONVERT_TZ('<UTC cutoff>', '+00:00', '<tz>')
 *       ORDER BY `created_at` LIMIT n
 *   repeated with reaper.pause.ms between batches while full batches come
 *   back. The (status, created_at) index serves it without a scan.
 * - The cutoff is now - idem.ttl, computed on the consumer's clock in UTC
 *   and converted by the server into source.tz, the zone the DATETIME
 *   values were written in ("UTC" needs no time zone tables).
 * - The deletes come back through the binlog and are applied to Redis as
 *   any other delete.
 * - Sharded sources (reaper.mysql.shards): one such reaper per shard, each
 *   with its own thread, connections and lock on its own shard, so every
 *   shard has one leader among all instances (metrics labelled
 *   shard="<host:port>").
 */
#ifndef CDC_REAPER_H
#define CDC_REAPER_H

#include <stddef.h>
#include <stdint.h>
#include "cdc_cconf.h"
#include "cdc_err.h"
#include "cdc_metrics.h"

typedef struct cdc_reaper_s cdc_reaper_t;

/**
 * @brief New reaper (not started). Copies what it needs from \p cc.
 * @param m registry for the reaper's metrics (borrowed, outlives it).
 * @returns the handle or NULL with the reason in \p errstr.
 * @locality main thread
 */
cdc_reaper_t *cdc_reaper_new(const cdc_cconf_t *cc, cdc_metrics_t *m,
                             char *errstr, size_t errstr_size);

/** @brief Start the reaper thread(s). */
cdc_err_t cdc_reaper_start(cdc_reaper_t *rp);

/** @brief Stop the threads (waits for the current statements), close the
 *         connections (releasing the locks) and free. NULL: no-op. */
void cdc_reaper_destroy(cdc_reaper_t *rp);

/** @returns total rows deleted by this instance (all shards).
 *  @locality any thread */
uint64_t cdc_reaper_deleted(const cdc_reaper_t *rp);

/** @returns the number of shards whose reaper lock this instance holds
 *  (0 or 1 without reaper.mysql.shards). */
int cdc_reaper_leader(const cdc_reaper_t *rp);

/**
 * @brief Format the UTC cutoff `now_ms - ttl_ms` as
 *        "YYYY-MM-DD HH:MM:SS.mmm".
 * @returns the length, or -1 if out of range.
 */
int cdc_reaper_cutoff(int64_t now_ms, int64_t ttl_ms, char *buf, size_t size);

/**
 * @brief The time zone text given to CONVERT_TZ for \p tz: "UTC", "Z"
 *        and "" become "+00:00"; others are returned unchanged.
 */
const char *cdc_reaper_tz(const char *tz);

/**
 * @brief Build one DELETE statement (see above). \p table, \p col_status
 *        and \p col_created must be plain identifiers; \p tz_escaped is
 *        already escaped for a quoted literal.
 * @returns the length, or -1 if it does not fit.
 */
int cdc_reaper_sql(char *buf, size_t size, const char *table,
                   const char *col_status, const char *col_created, int status,
                   const char *cutoff, const char *tz_escaped, int64_t limit);

#endif
