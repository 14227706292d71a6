/**
 * @file cdc_retrylog.c
 * @brief Retry reporting: state changes loud, attempts quiet (see
 *        cdc_retrylog.h).
 */
#include "cdc_retrylog.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cdc_log.h"

void cdc_retrylog_init(cdc_retrylog_t *rl, const char *fac, const char *what,
                       int dbg_ctx, int period_ms) {
        memset(rl, 0, sizeof(*rl));
        rl->rl_fac       = fac;
        rl->rl_what      = what;
        rl->rl_dbg       = dbg_ctx;
        rl->rl_period_us = (int64_t)(period_ms > 0 ? period_ms : 30000) * 1000;
}

int cdc_retrylog_fail(cdc_retrylog_t *rl, int64_t now_us, int next_ms,
                      const char *fmt, ...) {
        va_list ap;
        char next[48] = "";

        va_start(ap, fmt);
        vsnprintf(rl->rl_err, sizeof(rl->rl_err), fmt, ap);
        va_end(ap);
        if (next_ms >= 0)
                snprintf(next, sizeof(next), "; retry in %dms", next_ms);
        rl->rl_attempts++;
        if (!rl->rl_failing) {
                rl->rl_failing    = 1;
                rl->rl_first_us   = now_us;
                rl->rl_summary_us = now_us;
                rl->rl_reported   = 1;
                cdc_log(LOG_WARNING, rl->rl_fac,
                        "%s failed: %s; retrying with backoff", rl->rl_what,
                        rl->rl_err);
                return 1;
        }
        if (now_us - rl->rl_summary_us >= rl->rl_period_us) {
                cdc_log(LOG_WARNING, rl->rl_fac,
                        "%s still failing: %" PRIu64 " attempt(s) in the "
                        "last %" PRId64 "s, %" PRIu64 " in %" PRId64
                        "s since the first; last error: %s",
                        rl->rl_what, rl->rl_attempts - rl->rl_reported,
                        (now_us - rl->rl_summary_us) / 1000000, rl->rl_attempts,
                        (now_us - rl->rl_first_us) / 1000000, rl->rl_err);
                rl->rl_summary_us = now_us;
                rl->rl_reported   = rl->rl_attempts;
                return 0;
        }
        if (cdc_dbg_on(rl->rl_dbg))
                cdc_log(LOG_DEBUG, rl->rl_fac,
                        "%s attempt %" PRIu64 " failed: %s%s", rl->rl_what,
                        rl->rl_attempts, rl->rl_err, next);
        return 0;
}

int cdc_retrylog_ok(cdc_retrylog_t *rl, int64_t now_us) {
        if (!rl->rl_failing)
                return 0;
        cdc_log(LOG_NOTICE, rl->rl_fac,
                "%s recovered after %" PRIu64 " failed attempt(s) in "
                "%" PRId64 ".%03" PRId64 "s",
                rl->rl_what, rl->rl_attempts,
                (now_us - rl->rl_first_us) / 1000000,
                (now_us - rl->rl_first_us) / 1000 % 1000);
        rl->rl_failing  = 0;
        rl->rl_attempts = 0;
        rl->rl_reported = 0;
        return 1;
}

int cdc_retrylog_failing(const cdc_retrylog_t *rl) {
        return rl->rl_failing;
}
