/**
 * @file cdc_binlog_int.h
 * @brief Internals of cdc_binlog.c exposed for unit tests.
 */
#ifndef CDC_BINLOG_INT_H
#define CDC_BINLOG_INT_H

#include <stddef.h>
#include <sys/types.h>

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

#endif
