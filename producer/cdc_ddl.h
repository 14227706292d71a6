/**
 * @file cdc_ddl.h
 * @brief Recognising DDL on the watched tables in a QUERY event's
 *        statement text (a tokenizer, not an SQL parser: a false positive
 *        only costs a metadata reload).
 *
 * Internal to the producer (cdc_stream.c, tests).
 */
#ifndef CDC_DDL_H
#define CDC_DDL_H

#include <stddef.h>
#include <sys/types.h>

/**
 * @brief Whether \p q (\p len bytes, a QUERY event's statement run with
 *        default database \p evdb) is DDL (ALTER, RENAME, DROP, CREATE,
 *        TRUNCATE, after leading blanks and comments) naming one of
 *        \p tables of database \p db, qualified (`db`.`t`, db.t) or
 *        unqualified with \p evdb == \p db.
 * @returns the index in \p tables, or -1.
 */
ssize_t cdc_ddl_match(const char *db, char *const *tables, size_t table_cnt,
                      const char *q, size_t len, const char *evdb);

/**
 * @brief Whether \p q (\p len bytes) is a TRUNCATE statement (its first
 *        word after blanks and comments). Use with cdc_ddl_match() to know
 *        which table.
 */
int cdc_ddl_is_truncate(const char *q, size_t len);

#endif
