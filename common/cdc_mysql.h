/**
 * @file cdc_mysql.h
 * @brief How followcdc reaches a MySQL / MariaDB server: one target (where,
 *        who, and the connection's security settings) filled once from the
 *        configuration, and one connect / error helper behind every MySQL
 *        connection of both binaries: the producer's binlog stream,
 *        snapshot and standby lock, the consumer's TTL reaper.
 *
 * Library cdc_mysql (common/CMakeLists.txt), with cdc_lock: it links
 * libmariadb, which cdc_common does not.
 */
#ifndef CDC_MYSQL_H
#define CDC_MYSQL_H

#include <stddef.h>
#include <mysql.h>
#include "cdc_err.h"

/**
 * Where and as whom to connect. Filled once per binary from its
 * configuration (cdc_mysql_target_set()), then copied by each module that
 * connects (cdc_mysql_target_copy()), so a setting added here - TLS
 * (MYSQL_OPT_SSL_*) is the next one - reaches every connection through
 * cdc_mysql_connect() alone. Strings are owned (NULL: unset).
 */
typedef struct cdc_mysql_target_s {
        char *host; /**< ignored when socket is set */
        unsigned port;
        char *socket; /**< unix socket; NULL: TCP to host:port */
        char *user;
        char *password; /**< NULL: none */
        char *db;       /**< default database; NULL: none */
} cdc_mysql_target_t;

/**
 * @brief Fill \p t with copies of the arguments. An empty \p socket is
 *        unset; a NULL or empty \p host is 127.0.0.1, port 0 is 3306.
 * @returns 0, or -1 out of memory (\p t then holds nothing).
 */
int cdc_mysql_target_set(cdc_mysql_target_t *t, const char *host, unsigned port,
                         const char *socket, const char *user,
                         const char *password, const char *db);

/** @brief Deep copy of \p src into \p dst. @returns 0 or -1 (no memory). */
int cdc_mysql_target_copy(cdc_mysql_target_t *dst,
                          const cdc_mysql_target_t *src);

/** @brief Free the strings of \p t and zero it. */
void cdc_mysql_target_clear(cdc_mysql_target_t *t);

/**
 * @brief "host:port" or the socket path of \p t, for log lines.
 * @returns \p buf.
 */
const char *cdc_mysql_target_where(const cdc_mysql_target_t *t, char *buf,
                                   size_t size);

/** How one connection is used (per module; the target says where). */
typedef struct cdc_mysql_opts_s {
        unsigned connect_timeout_s; /**< MYSQL_OPT_CONNECT_TIMEOUT */
        unsigned rw_timeout_s;      /**< MYSQL_OPT_READ/WRITE_TIMEOUT */
        const char *charset;        /**< MYSQL_SET_CHARSET_NAME, NULL: the
                                     *   library's default */
        int no_db; /**< connect without the target's default database */
} cdc_mysql_opts_t;

/**
 * @brief mysql_init(), the settings of \p t and \p o, then
 *        mysql_real_connect() (over the socket when one is set). No
 *        automatic reconnect: a silent reconnect would drop a named lock
 *        or a transaction's read view.
 * @param myp set to the new handle, also when the connection failed:
 *        mysql_errno()/mysql_error() tell why and the caller closes it.
 *        NULL if mysql_init() failed (out of memory).
 * @returns 0 when connected, -1 otherwise.
 * @locality any thread (after mysql_library_init() on the main thread)
 */
int cdc_mysql_connect(const cdc_mysql_target_t *t, const cdc_mysql_opts_t *o,
                      MYSQL **myp);

/**
 * @brief Write `<what>: <mysql_error> (<mysql_errno>)` into \p errstr;
 *        a NULL \p my reads as out of memory (CR_OUT_OF_MEMORY).
 * @returns CDC_ERR__TRANSPORT for client-side codes (2000..2999: the
 *          connection is gone), CDC_ERR__SERVER for the others.
 */
cdc_err_t cdc_mysql_err(MYSQL *my, const char *what, char *errstr,
                        size_t errstr_size);

#endif
