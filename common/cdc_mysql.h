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
 * TLS to the server (`mysql.ssl.mode`), in MySQL's words. What each mode
 * asks of Connector/C 3.3 (cdc_mysql_connect()):
 *
 * - DISABLED: no TLS option at all (3.3 never starts TLS on its own).
 * - PREFERRED: MYSQL_OPT_SSL_ENFORCE, no certificate check; a server
 *   without TLS is used in clear text (3.3 falls back silently).
 * - REQUIRED: as PREFERRED, then the connection is refused unless TLS is
 *   in use (3.3's MYSQL_OPT_SSL_ENFORCE alone still falls back to clear
 *   text when the server offers no TLS, so followcdc checks
 *   mysql_get_ssl_cipher() itself). Not checked: who the server is.
 * - VERIFY_CA: REQUIRED, and the server's chain must lead to `ssl.ca`
 *   (3.3 checks the chain whenever a CA is given; SSL_VERIFY_PEER).
 * - VERIFY_IDENTITY: VERIFY_CA plus MYSQL_OPT_SSL_VERIFY_SERVER_CERT: the
 *   certificate must name the host connected to (SAN DNS or IP, or CN);
 *   without `ssl.ca` the system's trust store is used. 3.3 leaves this
 *   check off by default (3.4 turned it on).
 *
 * `ssl.cert` / `ssl.key` (a client certificate, for accounts created
 * `REQUIRE X509`) are sent in every mode but DISABLED. A CA given with
 * PREFERRED or REQUIRED is passed on too, and then 3.3 checks the chain
 * (as MySQL's own client does with --ssl-ca).
 */
typedef enum {
        CDC_MYSQL_SSL_DISABLED        = 0,
        CDC_MYSQL_SSL_PREFERRED       = 1,
        CDC_MYSQL_SSL_REQUIRED        = 2,
        CDC_MYSQL_SSL_VERIFY_CA       = 3,
        CDC_MYSQL_SSL_VERIFY_IDENTITY = 4,
} cdc_mysql_ssl_mode_t;

/** The `values` text of a configuration row for cdc_mysql_ssl_mode_t
 *  (in enum order). */
#define CDC_MYSQL_SSL_MODES                                                    \
        "disabled|preferred|required|verify-ca,verify_ca|"                     \
        "verify-identity,verify_identity"

/**
 * @brief Check a TLS setting as a configuration would: files must be
 *        readable, cert and key go together, VERIFY_CA needs a CA, and
 *        DISABLED takes no file. \p prefix names the rows in the message
 *        ("mysql.ssl", "reaper.mysql.ssl").
 * @returns NULL, or \p buf holding the reason.
 */
const char *cdc_mysql_ssl_check(const char *prefix, cdc_mysql_ssl_mode_t mode,
                                const char *ca, const char *cert,
                                const char *key, char *buf, size_t size);

/**
 * Where and as whom to connect. Filled once per binary from its
 * configuration (cdc_mysql_target_set(), cdc_mysql_target_set_ssl()),
 * then copied by each module that connects (cdc_mysql_target_copy()), so
 * a setting added here reaches every connection through
 * cdc_mysql_connect() alone. Strings are owned (NULL: unset).
 */
typedef struct cdc_mysql_target_s {
        char *host; /**< ignored when socket is set */
        unsigned port;
        char *socket; /**< unix socket; NULL: TCP to host:port */
        char *user;
        char *password; /**< NULL: none */
        char *db;       /**< default database; NULL: none */
        cdc_mysql_ssl_mode_t ssl_mode;
        char *ssl_ca;   /**< CA file (PEM); NULL: none */
        char *ssl_cert; /**< client certificate (PEM); NULL: none */
        char *ssl_key;  /**< its private key (PEM); NULL: none */
} cdc_mysql_target_t;

/**
 * @brief Fill \p t with copies of the arguments. An empty \p socket is
 *        unset; a NULL or empty \p host is 127.0.0.1, port 0 is 3306.
 * @returns 0, or -1 out of memory (\p t then holds nothing).
 */
int cdc_mysql_target_set(cdc_mysql_target_t *t, const char *host, unsigned port,
                         const char *socket, const char *user,
                         const char *password, const char *db);

/**
 * @brief Set the TLS settings of \p t (copies; NULL or "": none).
 * @returns 0, or -1 out of memory (the TLS settings are then cleared).
 */
int cdc_mysql_target_set_ssl(cdc_mysql_target_t *t, cdc_mysql_ssl_mode_t mode,
                             const char *ca, const char *cert, const char *key);

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
 * @brief Set the options of \p t and \p o on a fresh handle (what
 *        cdc_mysql_connect() does before connecting; apart for tests).
 * @returns 0, or -1 if libmariadb refused one (out of memory).
 */
int cdc_mysql_options(MYSQL *my, const cdc_mysql_target_t *t,
                      const cdc_mysql_opts_t *o);

/**
 * @brief mysql_init(), the settings of \p t and \p o, then
 *        mysql_real_connect() (over the socket when one is set), then the
 *        TLS policy of \p t (REQUIRED and up: refused unless the
 *        connection is encrypted). No automatic reconnect: a silent
 *        reconnect would drop a named lock or a transaction's read view.
 * @param what names the connection in \p errstr ("connect (lock)").
 * @param myp set to the connected handle (the caller closes it); NULL on
 *        failure.
 * @param errnop if not NULL, set to the MySQL error number of a failure
 *        (0: none, or followcdc's own TLS refusal: CR_SSL_CONNECTION_ERROR).
 * @returns CDC_ERR_NO_ERROR; CDC_ERR__NOMEM; or, with `<what>: <why>
 *          (<errno>)` in \p errstr, what cdc_mysql_err() returns for the
 *          server's answer (CDC_ERR__TRANSPORT for client-side failures:
 *          unreachable, TLS handshake or certificate refused, TLS required
 *          but not offered; CDC_ERR__SERVER for the server's refusals such
 *          as access denied).
 * @locality any thread (after mysql_library_init() on the main thread)
 */
cdc_err_t cdc_mysql_connect(const cdc_mysql_target_t *t,
                            const cdc_mysql_opts_t *o, const char *what,
                            MYSQL **myp, unsigned *errnop, char *errstr,
                            size_t errstr_size);

/** @returns the TLS cipher of a connected handle, or NULL (clear text). */
const char *cdc_mysql_tls_cipher(MYSQL *my);

/**
 * @brief Write `<what>: <mysql_error> (<mysql_errno>)` into \p errstr;
 *        a NULL \p my reads as out of memory (CR_OUT_OF_MEMORY).
 * @returns CDC_ERR__TRANSPORT for client-side codes (2000..2999: the
 *          connection is gone), CDC_ERR__SERVER for the others.
 */
cdc_err_t cdc_mysql_err(MYSQL *my, const char *what, char *errstr,
                        size_t errstr_size);

/* ---- the binary log's current position ---- */

/** MySQL 8.2+ (and the only form since 8.4, which removed SHOW MASTER
 *  STATUS). */
#define CDC_MYSQL_SQL_BINLOG_STATUS "SHOW BINARY LOG STATUS"
/** MariaDB (all versions) and MySQL before 8.2. */
#define CDC_MYSQL_SQL_MASTER_STATUS "SHOW MASTER STATUS"

/**
 * @brief The statement to try first for the current binlog file and
 *        position, from the server's version: SHOW BINARY LOG STATUS on
 *        MySQL 8.2 and later (\p server_info without "MariaDB" and
 *        \p version >= 80200), SHOW MASTER STATUS otherwise.
 * @returns a static string.
 * @locality any thread (pure)
 */
const char *cdc_mysql_binlog_status_sql(const char *server_info,
                                        unsigned long version);

/**
 * @brief The other statement to try after \p tried failed with \p errno_
 *        (only a syntax error, 1064: the server does not know that
 *        form; any other failure is the answer).
 * @returns the other statement, or NULL.
 * @locality any thread (pure)
 */
const char *cdc_mysql_binlog_status_fallback(const char *tried,
                                             unsigned errno_);

/**
 * @brief Run the binlog status statement on \p my: \p first (NULL: the
 *        one cdc_mysql_binlog_status_sql() picks for this server), and
 *        the other one if the server rejects it as a syntax error.
 * @param resp the stored result (caller frees; its first row has the file
 *        and the position in columns 0 and 1).
 * @param usedp if not NULL, set to the statement that answered.
 * @returns 0, or -1 with mysql_errno()/mysql_error() of \p my telling why.
 */
int cdc_mysql_binlog_status(MYSQL *my, const char *first, MYSQL_RES **resp,
                            const char **usedp);

#endif
