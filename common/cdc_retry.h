/**
 * @file cdc_retry.h
 * @brief How a retry loop reports its failures: the first failure and the
 *        recovery are state changes (logged at WARNING and NOTICE), each
 *        further retry is logged only at debug level, and while the
 *        failures go on one summary line per interval says so.
 *
 * So a server that is down for an hour costs a few log lines, not one per
 * backoff step, and its recovery is still visible (STYLE.md, Logging:
 * "Log each retry only at debug level").
 *
 *     cdc_retry_init(&rt, "REAPER", CDC_DBG_REAPER, "MySQL db1:3306", 60000);
 *     if (connect failed)
 *             cdc_retry_fail(&rt, cdc_now_us(), wait_ms, "%s", why);
 *     else
 *             cdc_retry_ok(&rt, cdc_now_us());
 *
 * A small public value type (embed it); one thread uses one reporter.
 */
#ifndef CDC_RETRY_H
#define CDC_RETRY_H

#include <stddef.h>
#include <stdint.h>

typedef struct cdc_retry_s {
        const char *rt_fac; /**< log facility, e.g. "BINLOG" (static) */
        int rt_dbg;         /**< debug context of the retry lines */
        char rt_what[128];  /**< what is retried, e.g. "MySQL db1:3306" */
        int64_t rt_summary_us;
        uint64_t rt_fails; /**< failures in the current streak; 0: fine */
        int64_t rt_first_us;
        int64_t rt_summary_at_us; /**< last summary (or the first failure) */
        char rt_reason[256];      /**< the latest failure */
} cdc_retry_t;

/**
 * @brief Set up \p rt (no streak open).
 * @param fac log facility (static string)
 * @param dbg_ctx CDC_DBG_* context the per-retry lines belong to
 * @param what what is being retried (copied)
 * @param summary_ms how often a failing streak is summarised
 */
void cdc_retry_init(cdc_retry_t *rt, const char *fac, int dbg_ctx,
                    const char *what, int64_t summary_ms);

/**
 * @brief One failure; the next attempt comes in \p retry_ms (-1: unknown).
 *        The first of a streak is logged at WARNING, later ones at debug,
 *        with a WARNING summary once per summary interval.
 * @returns 1 for the first failure of a streak, else 0.
 */
int cdc_retry_fail(cdc_retry_t *rt, int64_t now_us, int retry_ms,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/**
 * @brief Success: ends a streak, logging the recovery at NOTICE.
 * @returns 1 if a streak was open, else 0.
 */
int cdc_retry_ok(cdc_retry_t *rt, int64_t now_us);

/** @returns failures in the current streak (0 when the last try worked). */
uint64_t cdc_retry_failing(const cdc_retry_t *rt);

/** @returns the latest failure's text ("" when none). Borrowed. */
const char *cdc_retry_reason(const cdc_retry_t *rt);

#endif
