/**
 * @file cdc_backoff.h
 * @brief Reconnect backoff: exponential, jittered (-25%..+50%), capped,
 *        reset after a quiet period. Pure function of the \p now passed in,
 *        so tests need no sleeping (cf. librdkafka
 *        rd_kafka_broker_update_reconnect_backoff).
 */
#ifndef CDC_BACKOFF_H
#define CDC_BACKOFF_H

#include <stdint.h>

typedef struct cdc_backoff_s cdc_backoff_t;

/**
 * @brief New backoff starting at \p base_ms, doubling up to \p max_ms.
 *        After max_ms * 4 without a call to _next_ms the delay resets.
 * @returns the handle, or NULL on allocation failure.
 */
cdc_backoff_t *cdc_backoff_new(int base_ms, int max_ms);

/** @brief Free \p bo. NULL: no-op. */
void cdc_backoff_destroy(cdc_backoff_t *bo);

/**
 * @brief Delay to wait before the next attempt, given the time now.
 * @returns milliseconds, > 0.
 */
int cdc_backoff_next_ms(cdc_backoff_t *bo, int64_t now_us);

/** @brief Forget past failures (call after a success). */
void cdc_backoff_reset(cdc_backoff_t *bo);

/** @brief Seed the jitter (tests). */
void cdc_backoff_seed(cdc_backoff_t *bo, uint64_t seed);

/** @returns monotonic time in microseconds. */
int64_t cdc_now_us(void);

/** @returns CLOCK_MONOTONIC_COARSE in microseconds: a few ms of resolution
 *           (the kernel tick), for per-message bookkeeping where a full
 *           clock read per call shows in profiles. */
int64_t cdc_now_coarse_us(void);

/** @returns wall clock time in milliseconds since the epoch. */
int64_t cdc_wallclock_ms(void);

#endif
