/**
 * @file cdc_srcmeta.h
 * @brief The source metadata connection: a plain SQL connection to the
 *        source server, beside the replication one, for what the binlog
 *        does not say: the server checks (cdc_srccheck.c), the current
 *        binlog position, and column names, signedness, binary-ness and
 *        ENUM/SET labels from information_schema when TABLE_MAPs lack
 *        them (binlog_row_metadata MINIMAL / NO_LOG).
 *
 * Owned by cdc_binlog (one per binlog handle); connects lazily and
 * reconnects when a ping fails. Internal to the producer.
 */
#ifndef CDC_SRCMETA_H
#define CDC_SRCMETA_H

#include <stddef.h>
#include <mysql.h>
#include "cdc_err.h"
#include "cdc_mysql.h"
#include "cdc_pos.h"
#include "cdc_tablemap.h"

typedef struct cdc_srcmeta_s cdc_srcmeta_t;

/**
 * @brief New handle; does not connect yet.
 * @param conn where and how to connect (strings copied).
 * @param db, tables the watched tables (copied).
 * @returns the handle or NULL (out of memory).
 */
cdc_srcmeta_t *cdc_srcmeta_new(const cdc_mysql_target_t *tgt,
                               const cdc_mysql_opts_t *conn, const char *db,
                               const char *const *tables, size_t table_cnt);

/** @brief Disconnect and free. NULL: no-op. */
void cdc_srcmeta_destroy(cdc_srcmeta_t *sm);

/** @returns the last error text. Borrowed. */
const char *cdc_srcmeta_errstr(const cdc_srcmeta_t *sm);

/**
 * @brief Map the last error of \p m to our codes with the text
 *        "<what>: <error> (<errno>)" in \p errstr: 1236 (position purged)
 *        is CDC_ERR__NOENT, client errors and a connection the server
 *        closed are CDC_ERR__TRANSPORT, others CDC_ERR__SERVER.
 */
cdc_err_t cdc_srcmeta_err(MYSQL *m, const char *what, char *errstr,
                          size_t errstr_size);

/**
 * @brief Connect to the source with \p o and the mapping of
 *        cdc_srcmeta_err() (access denied is CDC_ERR__SERVER: a
 *        configuration problem, not a transient one).
 * @returns the connection, or NULL with *errp and \p errstr set.
 */
MYSQL *cdc_srcmeta_dial(const cdc_mysql_target_t *t, const cdc_mysql_opts_t *o,
                        cdc_err_t *errp, char *errstr, size_t errstr_size);

/**
 * @brief Connect (or check with a ping that the connection still works).
 * @param myp set to the connection (borrowed) on success.
 */
cdc_err_t cdc_srcmeta_connect(cdc_srcmeta_t *sm, MYSQL **myp);

/** @returns 1 if the server is MySQL (not MariaDB); valid once connected. */
int cdc_srcmeta_is_mysql(const cdc_srcmeta_t *sm);

/**
 * @brief Run \p q on the metadata connection.
 * @param resp its result (may be NULL for no rows), or NULL to discard.
 */
cdc_err_t cdc_srcmeta_query(cdc_srcmeta_t *sm, const char *q, MYSQL_RES **resp);

/** @brief Value of global variable \p name ("" if the server lacks it). */
cdc_err_t cdc_srcmeta_var(cdc_srcmeta_t *sm, const char *name, char *val,
                          size_t size);

/**
 * @brief Check what the producer needs of the server (implemented in
 *        cdc_srccheck.c): see cdc_binlog_check().
 */
cdc_err_t cdc_srcmeta_check(cdc_srcmeta_t *sm);

/**
 * @brief The server's current position (end of the binlog): the GTID
 *        position (MariaDB) read before SHOW MASTER STATUS.
 */
cdc_err_t cdc_srcmeta_current_pos(cdc_srcmeta_t *sm, cdc_pos_t *pos);

/**
 * @brief Fill what TABLE_MAP \p t of watched table \p w lacks (names,
 *        signedness, binary-ness, labels) from information_schema,
 *        loaded at the first need and after cdc_srcmeta_forget().
 * @returns CDC_ERR_NO_ERROR, CDC_ERR__BAD_EVENT when the column counts
 *          differ (a DDL since the event), or the connection's error.
 */
cdc_err_t cdc_srcmeta_complete(cdc_srcmeta_t *sm, size_t w, cdc_tablemap_t *t);

/** @brief Drop what is known of watched table \p w (after a DDL). */
void cdc_srcmeta_forget(cdc_srcmeta_t *sm, size_t w);

#endif
