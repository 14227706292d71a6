/**
 * @file cdc_stream.h
 * @brief The binlog stream without a server: raw events in (as the
 *        replication connection receives them), items out (rows of the
 *        watched tables, commits with the position to resume from,
 *        heartbeats, DDL). Tracks the event format, transactions, GTIDs
 *        and file:pos, and the TABLE_MAPs of the watched tables.
 *
 * cdc_binlog.c feeds it what libmariadb fetches; the unit tests and the
 * fuzzers feed it captured or generated events. Untrusted input: a
 * malformed event is CDC_ERR__BAD_EVENT with the reason, never a crash.
 *
 * Internal to the producer.
 */
#ifndef CDC_STREAM_H
#define CDC_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include "cdc_binlog.h"
#include "cdc_err.h"
#include "cdc_pos.h"
#include "cdc_srcmeta.h"

typedef struct cdc_stream_s cdc_stream_t;

typedef struct cdc_stream_opts_s {
        const char *db;            /**< database of the watched tables */
        const char *const *tables; /**< watched table names */
        size_t table_cnt;
        const char *source_tz; /**< zone DATETIME values are read in */
        cdc_srcmeta_t *meta;   /**< borrowed: completes TABLE_MAPs that
                                *   lack names, signedness or labels from
                                *   information_schema; NULL: maps are
                                *   used as they are (unnamed columns are
                                *   "@<n>") */
} cdc_stream_opts_t;

/**
 * @brief New stream (strings copied).
 * @returns the stream or NULL with the reason in \p errstr (bad zone,
 *          out of memory).
 */
cdc_stream_t *cdc_stream_new(const cdc_stream_opts_t *opts, char *errstr,
                             size_t errstr_size);

/** @brief Free \p st. NULL: no-op. */
void cdc_stream_destroy(cdc_stream_t *st);

/**
 * @brief Start over as if streaming from \p start: forgets the event
 *        format, the transaction and the TABLE_MAPs.
 * @param is_mysql the server is MySQL (positions are file:pos only).
 * @param from_end \p start is the server's current end (a MariaDB binlog
 *        without any GTID yet then has the complete, empty GTID set).
 * @returns CDC_ERR_NO_ERROR or CDC_ERR__CONFIG (bad GTID set, no file).
 */
cdc_err_t cdc_stream_reset(cdc_stream_t *st, const cdc_pos_t *start,
                           int is_mysql, int from_end);

/** @brief Drop the TABLE_MAPs and any pending item (stream closed). */
void cdc_stream_close(cdc_stream_t *st);

/**
 * @brief Process one raw event (header, body, CRC).
 * @param hbp set to the HEARTBEAT item when the event is one, else NULL;
 *        other items are taken with cdc_stream_next(). Borrowed until
 *        the next call.
 */
cdc_err_t cdc_stream_event(cdc_stream_t *st, const uint8_t *buf, size_t len,
                           const cdc_binlog_item_t **hbp);

/**
 * @brief The next pending item (DDL, COMMIT, then the rows of a rows
 *        event one by one), or NULL in \p itemp when there is none.
 *        Borrowed until the next call.
 * @returns CDC_ERR_NO_ERROR, CDC_ERR__BAD_EVENT (a row that cannot be
 *          decoded; the rest of its event is dropped) or CDC_ERR__NOMEM.
 */
cdc_err_t cdc_stream_next(cdc_stream_t *st, const cdc_binlog_item_t **itemp);

/** @returns 1 when streaming by GTID (set by cdc_stream_reset()). */
int cdc_stream_gtid_mode(const cdc_stream_t *st);

/** @returns the last error text. Borrowed. */
const char *cdc_stream_errstr(const cdc_stream_t *st);

/** @returns the binlog file being read. Borrowed. */
const char *cdc_stream_file(const cdc_stream_t *st);

/** @returns the position after the last complete transaction. Borrowed. */
const cdc_pos_t *cdc_stream_committed(const cdc_stream_t *st);

#endif
