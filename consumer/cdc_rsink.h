/**
 * @file cdc_rsink.h
 * @brief The Redis connection of the consumer (owner of the hiredis
 *        context): connect with timeouts, AUTH, SELECT, SCRIPT LOAD, and
 *        pipelined binary-safe commands.
 *
 * Commands are only ever built from argument vectors with explicit
 * lengths (redisAppendCommandArgv), never from printf formats, so row data
 * can hold any byte.
 *
 * TLS: hiredis 0.14 has none, so a TLS connection is our own socket and
 * OpenSSL session, with hiredis kept for the protocol only
 * (redisFormatCommandArgv to encode, a redisReader to parse replies): the
 * same single-threaded, blocking-with-timeout behaviour as a plain
 * connection, no extra thread or socket pair. Plain connections are
 * hiredis' own, unchanged. After CDC_ERR__TRANSPORT the connection is closed:
 * only cdc_rsink_connect() or cdc_rsink_destroy() are valid (the first
 * error text is kept for cdc_rsink_errstr()).
 */
#ifndef CDC_RSINK_H
#define CDC_RSINK_H

#include <stddef.h>
#include <hiredis/hiredis.h>
#include "cdc_err.h"

typedef struct cdc_rsink_s cdc_rsink_t;

/** TLS settings (strings are read by cdc_rsink_tls_new() only). */
typedef struct cdc_rsink_tls_s {
        const char *ca;   /**< CA certificates (PEM file); NULL: the
                           *   system's default trust store */
        const char *cert; /**< client certificate (PEM), for mutual TLS */
        const char *key;  /**< its private key (PEM); NULL: in cert */
        int no_verify;    /**< non-zero: accept any server certificate
                           *   (tests only; never in production) */
} cdc_rsink_tls_t;

/**
 * @brief A TLS client context for cdc_rsink_conf_t.tls_ctx: TLS 1.2 or
 *        newer, the CA and client certificate loaded, verification of
 *        the server's certificate and name on unless no_verify.
 * @returns the context (free with cdc_rsink_tls_destroy()), or NULL with
 *          the reason (unreadable file, key not matching) in errstr.
 */
void *cdc_rsink_tls_new(const cdc_rsink_tls_t *tls, char *errstr,
                        size_t errstr_size);

/** @brief Release a context of cdc_rsink_tls_new(). NULL: no-op. */
void cdc_rsink_tls_destroy(void *ctx);

/** Connection settings. Strings are copied. */
typedef struct cdc_rsink_conf_s {
        const char *host;     /**< NULL: "127.0.0.1" */
        int port;             /**< 0: 6379 */
        const char *user;     /**< ACL user, NULL: AUTH <password> only */
        const char *password; /**< NULL: no AUTH */
        int db;               /**< SELECT db when > 0 */
        int timeout_ms;       /**< connect and command timeout; 0: 5000 */
        /** TLS context of cdc_rsink_tls_new() (a reference is taken);
         *  NULL: plain TCP. */
        void *tls_ctx;
        /** Name the server certificate must carry (and SNI); NULL: the
         *  host. An IP address is checked against IP SANs. */
        const char *tls_server_name;
} cdc_rsink_conf_t;

/**
 * @brief New sink; does not connect.
 * @returns the handle or NULL (allocation failure, reason in errstr).
 * @locality main thread
 */
cdc_rsink_t *cdc_rsink_new(const cdc_rsink_conf_t *conf, char *errstr,
                           size_t errstr_size);

/** @brief Close and free. NULL: no-op. */
void cdc_rsink_destroy(cdc_rsink_t *rs);

/**
 * @brief (Re)connect: drops any previous connection, connects with the
 *        timeout, AUTH, SELECT, PING.
 * @returns CDC_ERR_NO_ERROR, CDC_ERR__TRANSPORT (unreachable, timeout) or
 *          CDC_ERR__SERVER (AUTH/SELECT refused); reason in errstr.
 */
cdc_err_t cdc_rsink_connect(cdc_rsink_t *rs);

/** @brief Close the connection (the handle stays usable for _connect). */
void cdc_rsink_close(cdc_rsink_t *rs);

/** @returns non-zero if a connection is open. */
int cdc_rsink_connected(const cdc_rsink_t *rs);

/**
 * @brief Queue one command (argument vector, explicit lengths) in the
 *        output buffer; nothing is sent until cdc_rsink_get_reply().
 * @returns CDC_ERR_NO_ERROR, CDC_ERR__TRANSPORT (not connected) or
 *          CDC_ERR__NOMEM.
 */
cdc_err_t cdc_rsink_append(cdc_rsink_t *rs, int argc, const char **argv,
                           const size_t *argvlen);

/**
 * @brief Write everything queued by cdc_rsink_append() without waiting
 *        for replies (so several nodes can work on their pipelines at the
 *        same time); cdc_rsink_get_reply() reads them afterwards.
 * @returns CDC_ERR_NO_ERROR or CDC_ERR__TRANSPORT (the connection is
 *          closed).
 */
cdc_err_t cdc_rsink_send(cdc_rsink_t *rs);

/**
 * @brief Send what is queued and read the next reply, in order.
 * @param replyp set to the reply (caller frees with freeReplyObject());
 *        a REDIS_REPLY_ERROR reply is returned as a reply, not an error.
 * @returns CDC_ERR_NO_ERROR or CDC_ERR__TRANSPORT (connection lost or
 *          timed out: the connection is closed).
 */
cdc_err_t cdc_rsink_get_reply(cdc_rsink_t *rs, redisReply **replyp);

/**
 * @brief One command, synchronously (append + get_reply).
 * @returns as cdc_rsink_get_reply().
 */
cdc_err_t cdc_rsink_command(cdc_rsink_t *rs, redisReply **replyp, int argc,
                            const char **argv, const size_t *argvlen);

/**
 * @brief SCRIPT LOAD \p src and return its SHA1.
 * @param sha at least 41 bytes: the 40 hex digits and a NUL.
 * @returns CDC_ERR_NO_ERROR, CDC_ERR__TRANSPORT or CDC_ERR__SERVER (the
 *          script was refused or the reply is not a SHA1).
 */
cdc_err_t cdc_rsink_script_load(cdc_rsink_t *rs, const char *src, size_t len,
                                char *sha);

/** @returns the last error text ("" if none). Borrowed. */
const char *cdc_rsink_errstr(const cdc_rsink_t *rs);

/** The largest array reply accepted (elements): enough for ZRANGE
 *  WITHSCORES of a set of 16 million members. */
#define CDC_RSINK_MAX_ELEMENTS (1 << 25)

/**
 * @brief Refuse array replies of more than CDC_RSINK_MAX_ELEMENTS
 *        elements on \p reader.
 *
 * hiredis 0.14 allocates an array's element table as soon as it reads the
 * header ("*2000000000" asks for 16 GB) and aborts the process when that
 * allocation fails. With the limit, such a reply is a protocol error of
 * the reader: the connection is dropped and retried like any other.
 * Every reader of cdc_rsink has it; the fuzzers use it too.
 * @param over if not NULL, set to the element count of a refused array.
 */
void cdc_rsink_reader_limit(redisReader *reader, long long *over);

#endif
