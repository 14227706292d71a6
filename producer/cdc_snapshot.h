/**
 * @file cdc_snapshot.h
 * @brief Consistent snapshot of the captured tables, without a global
 *        read lock on MariaDB, and the exact binlog position it matches.
 *
 * MariaDB: `START TRANSACTION WITH CONSISTENT SNAPSHOT` then
 * `SHOW STATUS LIKE 'binlog_snapshot_%'` gives the binlog file:pos the
 * snapshot sees (the server takes it atomically with the read view), and
 * `BINLOG_GTID_POS(file, pos)` the matching GTID position.
 * MySQL 8 (no binlog_snapshot_* status): `FLUSH TABLES WITH READ LOCK`
 * for the instant of `START TRANSACTION WITH CONSISTENT SNAPSHOT` and
 * `SHOW MASTER STATUS`, then `UNLOCK TABLES` (needs RELOAD; file:pos).
 *
 * Rows are read in primary-key order in chunks of snapshot.chunk.rows
 * (keyset pagination: `WHERE (pk) > (last) ORDER BY pk LIMIT n`), so
 * memory stays bounded. Row values use the binlog decoder's mapping
 * (schemas/events/README.md "Row values"): the same row gives the same
 * JSON in a snapshot read and in a binlog event.
 *
 * This module owns its MYSQL connection. It never touches Kafka.
 */
#ifndef CDC_SNAPSHOT_H
#define CDC_SNAPSHOT_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <mysql.h>
#include "cdc_err.h"
#include "cdc_event.h"
#include "cdc_mysql.h"
#include "cdc_pos.h"
#include "cdc_textval.h"
#include "cdc_time.h"

typedef struct cdc_snapshot_s cdc_snapshot_t;

typedef struct cdc_snapshot_opts_s {
        const cdc_mysql_target_t *target; /**< the server (copied) */
        const char *db;                   /**< database of the tables */
        const char *const *tables;
        size_t table_cnt;
        const char *source_tz;
        int64_t chunk_rows;
        int timeout_ms;
} cdc_snapshot_opts_t;

/**
 * Called for each row read. \p row is borrowed (take a reference to keep
 * it); \p src has server_id, db, table, gtid, seq, file, pos, row=0,
 * ts_ms and snapshot=1 filled.
 * @returns CDC_ERR_NO_ERROR to go on; anything else stops the snapshot
 *          with that code.
 */
typedef cdc_err_t(cdc_snapshot_row_cb_t)(void *opaque, const char *table,
                                         json_t *row, const cdc_source_t *src);

/** @returns a new handle (strings copied) or NULL with the reason. */
cdc_snapshot_t *cdc_snapshot_new(const cdc_snapshot_opts_t *opts, char *errstr,
                                 size_t errstr_size);

/** @brief Roll back, disconnect, free. NULL: no-op. */
void cdc_snapshot_destroy(cdc_snapshot_t *sn);

/**
 * @brief Connect, open the consistent read view and learn its position.
 * @param pos set to the binlog position the snapshot corresponds to:
 *        streaming from it continues with the first later transaction.
 * @returns CDC_ERR_NO_ERROR, CDC_ERR__TRANSPORT (retry), CDC_ERR__SERVER
 *          (reason in _errstr).
 */
cdc_err_t cdc_snapshot_begin(cdc_snapshot_t *sn, cdc_pos_t *pos);

/**
 * @brief Read every row of every table and hand it to \p cb.
 * @param run stop early when it drops to 0 (returns CDC_ERR__STATE).
 */
cdc_err_t cdc_snapshot_run(cdc_snapshot_t *sn, cdc_snapshot_row_cb_t *cb,
                           void *opaque, volatile sig_atomic_t *run);

/** @returns rows read so far. */
uint64_t cdc_snapshot_rows(const cdc_snapshot_t *sn);

/** @returns the last error text. Borrowed. */
const char *cdc_snapshot_errstr(const cdc_snapshot_t *sn);

/**
 * @brief One text-protocol value as JSON, with the binlog decoder's
 *        mapping. Exposed for tests.
 * @param f the column's field description
 * @param val the value (NULL for SQL NULL), \p len bytes
 * @param tz zone DATETIME values are read in
 * @returns a new reference, or NULL (out of memory).
 */
json_t *cdc_snapshot_value(const MYSQL_FIELD *f, const char *val, size_t len,
                           const cdc_tz_t *tz);

/**
 * @brief Ordering sequence of a position: the sum of the sequence numbers
 *        of every domain in its GTID set (with one domain: its sequence
 *        number; the binlog stream numbers transactions the same way),
 *        else (file number << 40) | pos. \p server_idp and \p gtid get
 *        the set's GTID with the largest sequence number.
 */
uint64_t cdc_snapshot_pos_seq(const cdc_pos_t *pos, uint32_t *server_idp,
                              char *gtid, size_t gtid_size);

#endif
