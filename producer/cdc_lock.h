/**
 * @file cdc_lock.h
 * @brief One active producer per source: a named server lock
 *        (`GET_LOCK('followcdc:<source.name>', 0)`) held on a dedicated
 *        connection to the source server.
 *
 * The server releases the lock when the connection closes, so a dead
 * producer (even SIGKILLed: the kernel closes its socket) frees it at
 * once and a standby that retries every lock.retry.ms takes over.
 *
 * Split brain: the active producer checks its lock connection every
 * lock.check.ms. If the connection is lost another instance may get the
 * lock, so the caller must stop reading, flush and go back to standby.
 */
#ifndef CDC_LOCK_H
#define CDC_LOCK_H

#include <stddef.h>
#include <stdint.h>
#include "cdc_err.h"

typedef struct cdc_lock_s cdc_lock_t;

typedef struct cdc_lock_opts_s {
        const char *host;
        unsigned port;
        const char *socket;
        const char *user;
        const char *password;
        const char *name; /**< lock name, e.g. "followcdc:followcdc" */
        int timeout_ms;   /**< connect/read/write timeout */
} cdc_lock_opts_t;

/** @returns a new handle (not connected) or NULL (out of memory). */
cdc_lock_t *cdc_lock_new(const cdc_lock_opts_t *opts);

/** @brief Release, disconnect and free. NULL: no-op. */
void cdc_lock_destroy(cdc_lock_t *lk);

/**
 * @brief Try to take the lock once (connects if needed).
 * @returns CDC_ERR_NO_ERROR (held), CDC_ERR__STATE (held by another
 *          connection: \p holderp set to its connection id when known),
 *          CDC_ERR__TRANSPORT (server unreachable), CDC_ERR__SERVER.
 */
cdc_err_t cdc_lock_acquire(cdc_lock_t *lk, uint64_t *holderp);

/**
 * @brief Check that the lock is still ours (one round trip).
 * @returns CDC_ERR_NO_ERROR, or CDC_ERR__TRANSPORT / CDC_ERR__STATE when
 *          it is lost (the handle is then released and disconnected).
 */
cdc_err_t cdc_lock_check(cdc_lock_t *lk);

/** @brief Release the lock and disconnect. */
void cdc_lock_release(cdc_lock_t *lk);

/** @returns the last error text. Borrowed. */
const char *cdc_lock_errstr(const cdc_lock_t *lk);

#endif
