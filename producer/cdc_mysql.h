/**
 * @file cdc_mysql.h
 * @brief Connection setup and error mapping shared by the producer's
 *        MySQL clients (binlog stream, snapshot, standby lock).
 *
 * Internal to the producer (libmariadb is not linked into cdc_common).
 */
#ifndef CDC_MYSQL_H
#define CDC_MYSQL_H

#include <stddef.h>
#include <mysql.h>
#include "cdc_err.h"

/** Where and how to connect. Strings are borrowed for the call. */
typedef struct cdc_mysql_opts_s {
        const char *host; /**< ignored when socket is set */
        unsigned port;
        const char *socket; /**< unix socket, NULL: TCP to host:port */
        const char *user;
        const char *password;
        const char *db;             /**< default database, NULL: none */
        unsigned connect_timeout_s; /**< MYSQL_OPT_CONNECT_TIMEOUT */
        unsigned rw_timeout_s;      /**< MYSQL_OPT_READ/WRITE_TIMEOUT */
        const char *charset;        /**< MYSQL_SET_CHARSET_NAME, NULL: the
                                     *   library's default */
} cdc_mysql_opts_t;

/** An owned copy of where to connect, for modules that reconnect. */
typedef struct cdc_mysql_target_s {
        char *host, *socket, *user, *password, *db; /**< NULL: unset */
        unsigned port;
} cdc_mysql_target_t;

/**
 * @brief Copy the host, port, socket, user, password and db of \p o
 *        into \p t (NULL strings stay NULL).
 * @returns 0, or -1 out of memory (\p t then holds nothing).
 */
int cdc_mysql_target_set(cdc_mysql_target_t *t, const cdc_mysql_opts_t *o);

/** @brief Free the strings of \p t and zero it. */
void cdc_mysql_target_clear(cdc_mysql_target_t *t);

/** @brief Point the host, port, socket, user, password and db of \p o
 *         at \p t's (borrowed); the other fields are left alone. */
void cdc_mysql_target_opts(const cdc_mysql_target_t *t, cdc_mysql_opts_t *o);

/**
 * @brief mysql_init(), the timeouts and charset of \p o, then
 *        mysql_real_connect() (over the socket when one is set, host
 *        NULL then).
 * @param myp set to the new handle, also when the connection failed:
 *        mysql_errno()/mysql_error() tell why and the caller closes it.
 *        NULL if mysql_init() failed (out of memory).
 * @returns 0 when connected, -1 otherwise.
 */
int cdc_mysql_connect(const cdc_mysql_opts_t *o, MYSQL **myp);

/**
 * @brief Write `<what>: <mysql_error> (<mysql_errno>)` into \p errstr;
 *        a NULL \p my reads as out of memory (CR_OUT_OF_MEMORY).
 * @returns CDC_ERR__TRANSPORT for client-side codes (2000..2999: the
 *          connection is gone), CDC_ERR__SERVER for the others.
 */
cdc_err_t cdc_mysql_err(MYSQL *my, const char *what, char *errstr,
                        size_t errstr_size);

#endif
