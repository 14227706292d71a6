/**
 * @file cdc_binlog_int.h
 * @brief Internals of cdc_binlog.c exposed for unit tests.
 */
#ifndef CDC_BINLOG_INT_H
#define CDC_BINLOG_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "cdc_binlog.h"

/**
 * @brief Whether \p q (\p len bytes, a QUERY event's statement run with
 *        default database \p evdb) is DDL (ALTER, RENAME, DROP, CREATE,
 *        TRUNCATE) naming one of \p tables of database \p db, qualified
 *        (`db`.`t`, db.t) or unqualified with \p evdb == \p db.
 * @returns the index in \p tables, or -1.
 */
ssize_t cdc_binlog_ddl_table(const char *db, char *const *tables,
                             size_t table_cnt, const char *q, size_t len,
                             const char *evdb);

/**
 * @brief Prepare \p bl to be fed events without a server, as if streaming
 *        had started at \p start (tests).
 */
cdc_err_t cdc_binlog_feed_start(cdc_binlog_t *bl, const cdc_pos_t *start,
                                int is_mysql);

/**
 * @brief Process one raw event (header, body, CRC) as if the server had
 *        sent it, or, with \p buf NULL, nothing; then return the next
 *        pending item in \p itemp (NULL if none). Call again with NULL
 *        until \p itemp is NULL to drain the rows of an event.
 */
cdc_err_t cdc_binlog_feed(cdc_binlog_t *bl, const uint8_t *buf, size_t len,
                          const cdc_binlog_item_t **itemp);

#endif
