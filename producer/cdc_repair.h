/**
 * @file cdc_repair.h
 * @brief Repairs and re-snapshots while streaming: requests filed as rows
 *        of the signal table (repair.signal.table) are read from the
 *        source in chunks between low and high watermarks, DBLog style
 *        (docs/repair.md):
 *
 *   1. write a low watermark L (a row of the signal table), SELECT one
 *      chunk, write a high watermark H; the binlog stream never pauses;
 *   2. while the stream is between L and H, every captured row change
 *      drops its key from the chunk (the stream carries that row's newer
 *      value itself);
 *   3. at H, the rest of the chunk is emitted as op r events with H's
 *      version: newer than every change before L, older than every change
 *      after H; a user's repair ends with a purge event (op p) at the
 *      version of that user's first L: edge sides older than it that no
 *      event re-asserted are removed by the consumer;
 *   4. once Kafka acknowledged the chunk's events, the request's
 *      progress is saved in its own row (state, progress), so a producer
 *      that crashes resumes the request there.
 *
 * Requests: kind `table` (payload: a captured table, all its rows) and
 * kind `users` (payload: comma separated user ids; every row of the
 * repair.users.table where the first or second key column is the user).
 *
 * This module owns its MYSQL connection. Main thread only.
 */
#ifndef CDC_REPAIR_H
#define CDC_REPAIR_H

#include <stddef.h>
#include "cdc_binlog.h"
#include "cdc_emit.h"
#include "cdc_err.h"
#include "cdc_inflight.h"
#include "cdc_metrics.h"
#include "cdc_mysql.h"
#include "cdc_pconf.h"

typedef struct cdc_repair_s cdc_repair_t;

/**
 * @brief New repair engine for \p pc (repair.signal.table set).
 * @param tgt the source (copied), \p em \p fl \p m borrowed.
 * @returns the handle or NULL with the reason in \p errstr.
 */
cdc_repair_t *cdc_repair_new(const cdc_pconf_t *pc,
                             const cdc_mysql_target_t *tgt, cdc_emit_t *em,
                             cdc_inflight_t *fl, cdc_metrics_t *m, char *errstr,
                             size_t errstr_size);

/** @brief Free. NULL: no-op. */
void cdc_repair_destroy(cdc_repair_t *rp);

/**
 * @brief The stream (re)starts: forget the chunk in progress (its
 *        watermarks may come again; they are ignored) and load the
 *        pending requests from the signal table.
 * @returns CDC_ERR_NO_ERROR or CDC_ERR__TRANSPORT (retry).
 */
cdc_err_t cdc_repair_start(cdc_repair_t *rp);

/**
 * @brief A row change of the stream, before it is emitted: a request or
 *        a watermark of the signal table, or a captured row that drops
 *        its key from the chunk read between the watermarks. At the high
 *        watermark the chunk is emitted.
 * @returns CDC_ERR_NO_ERROR; CDC_ERR__QUEUE_FULL (serve delivery reports
 *          and call again with the same item); other errors as
 *          cdc_emit_row().
 */
cdc_err_t cdc_repair_row(cdc_repair_t *rp, const cdc_binlog_item_t *it);

/**
 * @brief Periodic work (between binlog items): read the next chunk when
 *        none is in progress, save the progress of acknowledged chunks.
 * @returns CDC_ERR_NO_ERROR or CDC_ERR__TRANSPORT (retry).
 */
cdc_err_t cdc_repair_tick(cdc_repair_t *rp);

/** @returns 1 while a request is pending or in progress (the engine then
 *  ticks after every item and waits less for the binlog). */
int cdc_repair_busy(const cdc_repair_t *rp);

/** @returns the last error text. Borrowed. */
const char *cdc_repair_errstr(const cdc_repair_t *rp);

#endif
