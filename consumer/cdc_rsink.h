/**
 * @file cdc_rsink.h
 * @brief The Redis connection of the consumer (owner of the hiredis
 *        context): connect with timeouts, AUTH, SELECT, SCRIPT LOAD, and
 *        pipelined binary-safe commands.
 *
 * Commands are only ever built from argument vectors with explicit
 * lengths (redisAppendCommandArgv), never from printf formats, so row data
 * can hold any byte. After CDC_ERR__TRANSPORT the connection is closed:
 * only cdc_rsink_connect() or cdc_rsink_destroy() are valid (the first
 * error text is kept for cdc_rsink_errstr()).
 */
#ifndef CDC_RSINK_H
#define CDC_RSINK_H

#include <stddef.h>
#include <hiredis/hiredis.h>
#include "cdc_err.h"

typedef struct cdc_rsink_s cdc_rsink_t;

/** Connection settings. Strings are copied. */
typedef struct cdc_rsink_conf_s {
        const char *host;     /**< NULL: "127.0.0.1" */
        int port;             /**< 0: 6379 */
        const char *user;     /**< ACL user, NULL: AUTH <password> only */
        const char *password; /**< NULL: no AUTH */
        int db;               /**< SELECT db when > 0 */
        int timeout_ms;       /**< connect and command timeout; 0: 5000 */
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

#endif
