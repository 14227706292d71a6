/**
 * @file cdc_retry.c
 * @brief Failure streak reporting of retry loops (see cdc_retry.h).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cdc_log.h"
#include "cdc_retry.h"

void cdc_retry_init(cdc_retry_t *rt, const char *fac, int dbg_ctx,
                    const char *what, int64_t summary_ms) {
        memset(rt, 0, sizeof(*rt));
        rt->rt_fac        = fac;
        rt->rt_dbg        = dbg_ctx;
        rt->rt_summary_us = (summary_ms > 0 ? summary_ms : 60000) * 1000;
        snprintf(rt->rt_what, sizeof(rt->rt_what), "%s", what ? what : "");
}

int cdc_retry_fail(cdc_retry_t *rt, int64_t now_us, int retry_ms,
                   const char *fmt, ...) {
        char when[48] = "";
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(rt->rt_reason, sizeof(rt->rt_reason), fmt, ap);
        va_end(ap);
        if (retry_ms >= 0)
                snprintf(when, sizeof(when), " in %dms", retry_ms);
        if (rt->rt_fails++ == 0) {
                rt->rt_first_us      = now_us;
                rt->rt_summary_at_us = now_us;
                cdc_log(LOG_WARNING, rt->rt_fac, "%s: %s; retrying%s",
                        rt->rt_what, rt->rt_reason, when);
                return 1;
        }
        if (cdc_dbg_on(rt->rt_dbg))
                cdc_log(LOG_DEBUG, rt->rt_fac, "%s: %s; retry %" PRIu64 "%s",
                        rt->rt_what, rt->rt_reason, rt->rt_fails, when);
        if (now_us - rt->rt_summary_at_us >= rt->rt_summary_us) {
                rt->rt_summary_at_us = now_us;
                cdc_log(LOG_WARNING, rt->rt_fac,
                        "%s: still failing after %" PRIu64
                        " attempts in %" PRId64 "s: %s",
                        rt->rt_what, rt->rt_fails,
                        (now_us - rt->rt_first_us) / 1000000, rt->rt_reason);
        }
        return 0;
}

int cdc_retry_ok(cdc_retry_t *rt, int64_t now_us) {
        if (!rt->rt_fails)
                return 0;
        cdc_log(LOG_NOTICE, rt->rt_fac,
                "%s: recovered after %" PRIu64 " failed attempt%s (%" PRId64
                "s)",
                rt->rt_what, rt->rt_fails, rt->rt_fails == 1 ? "" : "s",
                (now_us - rt->rt_first_us) / 1000000);
        rt->rt_fails     = 0;
        rt->rt_reason[0] = '\0';
        return 1;
}

uint64_t cdc_retry_failing(const cdc_retry_t *rt) {
        return rt->rt_fails;
}

const char *cdc_retry_reason(const cdc_retry_t *rt) {
        return rt->rt_reason;
}
