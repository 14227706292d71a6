/**
 * @file cdc_retrylog.h
 * @brief How a retry loop reports itself: the first failure and the
 *        recovery are state changes (WARNING, NOTICE), each retry in
 *        between is a debug line, and while the failure lasts a summary
 *        (attempts, time, last error) is logged at WARNING once per
 *        period, so an outage is visible without a line per attempt
 *        (cf. librdkafka "Delaying next reconnect by %dms" at debug).
 *
 *     cdc_retrylog_t rl;
 *     cdc_retrylog_init(&rl, "CONSUMER", "redis flush", CDC_DBG_RSINK, 30000);
 *     ... on failure:  cdc_retrylog_fail(&rl, cdc_now_us(), ms, "%s", why);
 *     ... on success:  cdc_retrylog_ok(&rl, cdc_now_us());
 *
 * A small public value type; pure apart from cdc_log(), and driven by the
 * \p now passed in, so tests need no sleeping.
 */
#ifndef CDC_RETRYLOG_H
#define CDC_RETRYLOG_H

#include <stddef.h>
#include <stdint.h>

typedef struct cdc_retrylog_s {
        const char *rl_fac;  /**< log facility (static) */
        const char *rl_what; /**< what is retried (static), e.g. "redis" */
        int rl_dbg;          /**< debug context of the retry lines */
        int64_t rl_period_us;
        int rl_failing;       /**< 1 from the first failure to recovery */
        uint64_t rl_attempts; /**< failed attempts since the first */
        uint64_t rl_reported; /**< attempts covered by the last summary */
        int64_t rl_first_us, rl_summary_us;
        char rl_err[256]; /**< last error text */
} cdc_retrylog_t;

/** @brief Start in the "working" state; summaries every \p period_ms. */
void cdc_retrylog_init(cdc_retrylog_t *rl, const char *fac, const char *what,
                       int dbg_ctx, int period_ms);

/**
 * @brief Report a failed attempt; the next one is in \p next_ms (or -1 if
 *        unknown). Logs at WARNING on the first failure and every period,
 *        at debug otherwise.
 * @returns 1 if this was the first failure (a state change), else 0.
 */
int cdc_retrylog_fail(cdc_retrylog_t *rl, int64_t now_us, int next_ms,
                      const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

/**
 * @brief Report a success: after failures, logs the recovery at NOTICE.
 * @returns 1 if this ended a failure (a state change), else 0.
 */
int cdc_retrylog_ok(cdc_retrylog_t *rl, int64_t now_us);

/** @returns 1 while failing. */
int cdc_retrylog_failing(const cdc_retrylog_t *rl);

#endif
