/**
 * @file cdc_pengine.h
 * @brief The producer's engine: where the run loop decides what to do
 *        next. One thread owns every connection; the loop is an explicit
 *        state machine (cf. librdkafka's broker states, Redis'
 *        replication states, consumer/cdc_reaper.c):
 *
 *   STANDBY  take (or re-check) the source lock; while another instance
 *            holds it, wait here (a healthy standby is ready)
 *   CONNECT  check the server, find where to start: the checkpoint, a
 *            snapshot, or the binlog end (snapshot.mode=never)
 *   SNAPSHOT consistent read of the tables, then STREAM
 *   STREAM   follow the binlog; every tick serve delivery reports, save
 *            the acknowledged position, check the lock
 *   BACKOFF  a transient failure: wait (cdc_backoff), then STANDBY
 *   DONE     stop: flush Kafka, save the checkpoint, exit
 *
 * Each state's step returns a cdc_err_t, and one function maps every
 * result to the next state: success -> the state the step chose; a lost
 * lock (CDC_ERR__FENCED) -> flush, save, STANDBY; a purged position ->
 * the gap fallback, a new snapshot (snapshot.mode=when_needed) or exit 3;
 * cdc_err_is_retriable() -> BACKOFF; anything else -> DONE with an exit
 * status. SIGTERM -> DONE with status 0.
 *
 * Readiness (/readyz, followcdc_producer_ready): active in SNAPSHOT or
 * STREAM, or a standby whose lock connection works, and Kafka usable. Not
 * ready: starting, connecting, backing off, MySQL unreachable, all Kafka
 * brokers down, stopping. The body names the state.
 */
#ifndef CDC_PENGINE_H
#define CDC_PENGINE_H

#include <signal.h>
#include <stddef.h>
#include "cdc_conf.h"
#include "cdc_err.h"
#include "cdc_pconf.h"

/** Exit statuses of followcdc-producer. */
#define CDC_PENGINE_EXIT_FATAL  1 /**< a fatal runtime error */
#define CDC_PENGINE_EXIT_CONFIG 2 /**< configuration or server settings */
#define CDC_PENGINE_EXIT_PURGED 3 /**< binlog purged past the position */

typedef struct cdc_pengine_s cdc_pengine_t;

/**
 * @brief Set up every module (nothing connects yet except the HTTP
 *        endpoint).
 * @param pc finalized configuration (borrowed, outlives the engine)
 * @param conf its engine (`kafka.*` properties; borrowed)
 * @param run the loop runs while it is non-zero (the signal handler
 *        clears it)
 * @param pep set to the engine on success
 * @returns CDC_ERR_NO_ERROR; CDC_ERR__CONFIG (exit 2) or CDC_ERR__NOMEM
 *          (exit 1) with the reason in \p errstr.
 * @locality main thread
 */
cdc_err_t cdc_pengine_new(const cdc_pconf_t *pc, const cdc_conf_t *conf,
                          volatile sig_atomic_t *run, cdc_pengine_t **pep,
                          char *errstr, size_t errstr_size);

/**
 * @brief Run until stopped or a fatal error.
 * @returns the exit status: 0 stopped, or CDC_PENGINE_EXIT_*.
 * @locality main thread
 */
int cdc_pengine_run(cdc_pengine_t *pe);

/** @brief Close everything and free. NULL: no-op. */
void cdc_pengine_destroy(cdc_pengine_t *pe);

#endif
