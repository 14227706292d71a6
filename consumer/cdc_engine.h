/**
 * @file cdc_engine.h
 * @brief followcdc-consumer's engine: owns the Kafka consumer (cdc_kcons),
 *        the dead-letter producer (cdc_dlq), the applier and its Redis
 *        connection (cdc_apply), the batch (cdc_batch), the TTL reaper
 *        (cdc_reaper), metrics and the HTTP endpoint, and runs the loop
 *        that decides what happens next.
 *
 * The loop is a switch over these states (cdc_engine.c, engine_run):
 *
 *   GATHER   poll messages into the batch; apply as soon as the fetched
 *            messages are drained, the batch is full, or batch.ms passed
 *   ADD      parse and queue the batch's events (cdc_batch_add)
 *   FLUSH    send the queued scripts to Redis; back to ADD if the
 *            pipeline filled mid-batch, else on to LETTERS
 *   LETTERS  wait for the dead letters' acknowledgements
 *   RESEND   send the failed dead letters again
 *   STORE    store the batch's offsets (Redis and the DLQ acknowledged)
 *   BACKOFF  a step failed: wait (partitions paused, polling so the group
 *            membership lives), then retry that step
 *   DROP     give the batch up unstored (revoke, shutdown deadline, no
 *            memory): its messages are read again
 *   STOP     leave the group and return
 *
 * Kafka is polled in GATHER and BACKOFF only, and never from inside a
 * step, so the rebalance callback always finds the batch between two
 * steps: before ADD it gets one attempt to finish (settle and store,
 * without polling or backoff), later it is dropped.
 *
 * @locality main thread (the reaper, the HTTP server and the batch's
 *           parse helper run on threads of their own)
 */
#ifndef CDC_ENGINE_H
#define CDC_ENGINE_H

#include <signal.h>
#include <stddef.h>
#include "cdc_cconf.h"
#include "cdc_err.h"

typedef struct cdc_engine_s cdc_engine_t;

/**
 * @brief Build every module from the finalized configuration \p cc
 *        (borrowed for the engine's lifetime) and connect what can be
 *        connected early (Redis, so /readyz turns green).
 * @param run the process's run flag: the loop finishes the batch in hand
 *        and stops once it is 0 (SIGTERM).
 * @returns CDC_ERR_NO_ERROR and the engine in \p engp; CDC_ERR__CONFIG for
 *          a configuration that cannot work (exit 2); another code if a
 *          module could not start (exit 1). The reason is in \p errstr.
 */
cdc_err_t cdc_engine_new(const cdc_cconf_t *cc, volatile sig_atomic_t *run,
                         cdc_engine_t **engp, char *errstr, size_t errstr_size);

/**
 * @brief Run until \p run drops to 0 or a fatal Kafka error, then finish
 *        the batch in hand (bounded by shutdown.timeout.ms), commit and
 *        leave the group.
 * @returns the process exit code: 0; 1 after a fatal Kafka client error;
 *          2 when a Redis setting contradicts the server (a Redis Cluster
 *          node as redis.host, or redis.cluster.nodes naming a Redis
 *          without cluster support: not retried).
 */
int cdc_engine_run(cdc_engine_t *eng);

/** @brief Free everything. NULL: no-op. */
void cdc_engine_destroy(cdc_engine_t *eng);

#endif
