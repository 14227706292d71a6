/**
 * @file cdc_binlog.h
 * @brief The MySQL / MariaDB replication stream: connects as a replica
 *        with libmariadb's mariadb_rpl_* API, checks the server, and turns
 *        row events of the watched tables into decoded row images.
 *
 * This module owns its MYSQL connection. It never touches Kafka.
 */
#ifndef CDC_BINLOG_H
#define CDC_BINLOG_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "cdc_err.h"
#include "cdc_event.h"
#include "cdc_mysql.h"
#include "cdc_pos.h"

typedef struct cdc_binlog_s cdc_binlog_t;

typedef struct cdc_binlog_opts_s {
        const cdc_mysql_target_t *target; /**< the server (copied; its
                                           *   default database unused) */
        const char *db;                   /**< database of the watched tables */
        const char *const *tables;        /**< table names to capture (in db) */
        size_t table_cnt;
        uint32_t server_id;    /**< our unique replica server id */
        const char *source_tz; /**< zone DATETIME values are read in:
                                *   "UTC", "+08:00" or a tz name */
        int heartbeat_ms;      /**< server heartbeat period, 0: off */
        int connect_timeout_ms;
        int read_timeout_ms;
} cdc_binlog_opts_t;

typedef enum {
        CDC_BINLOG_ROW,       /**< one row change of a watched table */
        CDC_BINLOG_COMMIT,    /**< end of a transaction (any table) */
        CDC_BINLOG_HEARTBEAT, /**< nothing new; position still valid */
        CDC_BINLOG_DDL,       /**< a DDL statement on a watched table */
} cdc_binlog_item_type_t;

/**
 * One decoded item. Borrowed: valid until the next cdc_binlog_next() or
 * _close(); take references (json_incref) to keep row images.
 */
typedef struct cdc_binlog_item_s {
        cdc_binlog_item_type_t type;
        cdc_op_t op;       /**< ROW: c, u or d */
        const char *table; /**< ROW, DDL: table name */
        json_t *before;    /**< ROW u/d: row image, column name ->
                            *   value per schemas/events/README.md */
        json_t *after;     /**< ROW c/u */
        /** ROW: the same images flat (cdc_row.h), NULL where absent. The
         *  stream sets either these or before / after (the JSON ones
         *  only for tables whose columns can't key a flat image,
         *  cdc_tablemap_flat()); cdc_binlog_item_json() gives JSON. */
        const cdc_row_t *before_row;
        const cdc_row_t *after_row;
        cdc_source_t source;   /**< ROW: server_id, db, table, gtid, seq,
                                *   file, pos, row, ts_ms filled (name,
                                *   epoch, snapshot left to the caller) */
        cdc_pos_t next;        /**< COMMIT, HEARTBEAT: resuming here
                                *   continues right after this item */
        const char *statement; /**< DDL: the statement text */
} cdc_binlog_item_t;

/**
 * @brief The row images of a ROW item as JSON objects, whichever form the
 *        item has: new references (NULL where the image is absent).
 * @returns 0, or -1 out of memory (nothing to release).
 */
int cdc_binlog_item_json(const cdc_binlog_item_t *it, json_t **beforep,
                         json_t **afterp);

/**
 * @brief New handle; does not connect yet. \p opts and the strings it
 *        points to are copied.
 * @returns the handle or NULL with the reason in \p errstr.
 * @locality main thread
 */
cdc_binlog_t *cdc_binlog_new(const cdc_binlog_opts_t *opts, char *errstr,
                             size_t errstr_size);

/** @brief Close and free. NULL: no-op. */
void cdc_binlog_destroy(cdc_binlog_t *bl);

/**
 * @brief Connect (plain SQL connection) and check what the producer
 *        needs: binlog enabled, binlog_format=ROW, binlog_row_image=FULL,
 *        replication privileges, SELECT on the tables, the tables exist;
 *        notes binlog_row_metadata and GTID support.
 * @returns CDC_ERR_NO_ERROR; CDC_ERR__SERVER with a message naming the
 *          setting to change (main exits 2); CDC_ERR__TRANSPORT if the
 *          server can't be reached (retry).
 */
cdc_err_t cdc_binlog_check(cdc_binlog_t *bl);

/**
 * @brief The server's current position (end of the binlog), e.g. to
 *        start streaming without a snapshot.
 */
cdc_err_t cdc_binlog_current_pos(cdc_binlog_t *bl, cdc_pos_t *pos);

/**
 * @brief Start streaming right after \p start (GTID set if not empty and
 *        supported, else file:pos). Closes a previous stream first.
 * @returns CDC_ERR_NO_ERROR, CDC_ERR__TRANSPORT (retry with backoff),
 *          CDC_ERR__NOENT if the position is no longer on the server
 *          (binlog purged: re-snapshot needed), CDC_ERR__SERVER.
 */
cdc_err_t cdc_binlog_open(cdc_binlog_t *bl, const cdc_pos_t *start);

/**
 * @brief Next item of the stream, waiting at most \p timeout_ms.
 * @param itemp set to a borrowed item on CDC_ERR_NO_ERROR.
 * @returns CDC_ERR_NO_ERROR, CDC_ERR__TIMED_OUT (no item yet),
 *          CDC_ERR__TRANSPORT (connection lost: _open() again from the
 *          last COMMIT's next position), CDC_ERR__NOENT (purged),
 *          CDC_ERR__BAD_EVENT (an event that can't be decoded: reason in
 *          _errstr; the stream can't continue safely past it).
 */
cdc_err_t cdc_binlog_next(cdc_binlog_t *bl, int timeout_ms,
                          const cdc_binlog_item_t **itemp);

/** @brief Stop streaming and disconnect (handle reusable with _open). */
void cdc_binlog_close(cdc_binlog_t *bl);

/** @returns the last error text. Borrowed. */
const char *cdc_binlog_errstr(const cdc_binlog_t *bl);

/**
 * @returns the events fetched from the server since cdc_binlog_new();
 *          \p keptp (if not NULL) those of them held entirely in the
 *          event block kept across fetches (fetched without a malloc()).
 */
uint64_t cdc_binlog_events(const cdc_binlog_t *bl, uint64_t *keptp);

#endif
