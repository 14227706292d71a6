/**
 * @file cdc_lock.h
 * @brief One active instance: a named server lock (`GET_LOCK(name, 0)`)
 *        held on a dedicated connection to a MySQL / MariaDB server. The
 *        producer takes `followcdc:<source.name>` (one active producer per
 *        source), the consumer's TTL reaper `followcdc:reaper:<db>`.
 *
 * The server releases the lock when the connection closes, so a dead
 * producer (even SIGKILLed: the kernel closes its socket) frees it at
 * once and a standby that retries every lock.retry.ms takes over.
 *
 * Split brain: the holder checks its lock connection regularly
 * (cdc_lock_check(); the producer every lock.check.ms). If the connection
 * is lost another instance may get the lock, so the caller must stop
 * (the producer: stop reading, flush, go back to standby).
 *
 * Library cdc_mysql (with cdc_mysql.h). Not thread safe: one thread uses
 * one handle.
 */
#ifndef CDC_LOCK_H
#define CDC_LOCK_H

#include <stddef.h>
#include <stdint.h>
#include "cdc_err.h"
#include "cdc_mysql.h"

typedef struct cdc_lock_s cdc_lock_t;

typedef struct cdc_lock_opts_s {
        const cdc_mysql_target_t *target; /**< where (copied; its default
                                           *   database is not used) */
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

/** @returns 1 while the lock is held (as of the last call). */
int cdc_lock_held(const cdc_lock_t *lk);

/** @returns the last error text. Borrowed. */
const char *cdc_lock_errstr(const cdc_lock_t *lk);

#endif
