#include "cdc_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* Process-wide by nature (stderr is); set once at start-up. */
static volatile int log_level = LOG_NOTICE;
static volatile int log_debug_mask;

static const struct {
        const char *name;
        int ctx;
} log_dbg_names[] = {
        { "binlog", CDC_DBG_BINLOG },     { "kprod", CDC_DBG_KPROD },
        { "kcons", CDC_DBG_KCONS },       { "rsink", CDC_DBG_RSINK },
        { "apply", CDC_DBG_APPLY },       { "ckpt", CDC_DBG_CKPT },
        { "snapshot", CDC_DBG_SNAPSHOT }, { "reaper", CDC_DBG_REAPER },
        { "conf", CDC_DBG_CONF },         { "http", CDC_DBG_HTTP },
        { "all", CDC_DBG_ALL },
};

static const char *log_level_names[] = { "EMERG",   "ALERT",  "CRIT", "ERR",
                                         "WARNING", "NOTICE", "INFO", "DEBUG" };

void cdc_log_set_level(int level) {
        if (level < LOG_EMERG)
                level = LOG_EMERG;
        if (level > LOG_DEBUG)
                level = LOG_DEBUG;
        log_level = level;
}

int cdc_log_level(void) {
        return log_level;
}

int cdc_log_level_parse(const char *name) {
        size_t i;
        if (!strcasecmp(name, "error"))
                return LOG_ERR;
        if (!strcasecmp(name, "warn"))
                return LOG_WARNING;
        for (i = 0; i < sizeof(log_level_names) / sizeof(*log_level_names); i++)
                if (!strcasecmp(name, log_level_names[i]))
                        return (int)i;
        return -1;
}

int cdc_log_set_debug(const char *list, char *errstr, size_t errstr_size) {
        int mask      = 0;
        const char *p = list;

        while (p && *p) {
                const char *end = strchr(p, ',');
                size_t len      = end ? (size_t)(end - p) : strlen(p);
                size_t i;
                int found = 0;

                for (i = 0;
                     len && i < sizeof(log_dbg_names) / sizeof(*log_dbg_names);
                     i++) {
                        if (strlen(log_dbg_names[i].name) == len &&
                            !strncasecmp(p, log_dbg_names[i].name, len)) {
                                mask |= log_dbg_names[i].ctx;
                                found = 1;
                        }
                }
                if (len && !found) {
                        snprintf(errstr, errstr_size,
                                 "unknown debug context \"%.*s\"", (int)len, p);
                        return -1;
                }
                p = end ? end + 1 : NULL;
        }
        log_debug_mask = mask;
        if (mask)
                cdc_log_set_level(LOG_DEBUG);
        return 0;
}

int cdc_dbg_on(int ctx) {
        return (log_debug_mask & ctx) != 0;
}

static void log_vwrite(int level, const char *fac, const char *suffix,
                       const char *fmt, va_list ap) {
        char line[2048];
        struct timespec ts;
        struct tm tm;
        size_t of;
        int r;

        if (level > log_level)
                return;
        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        of = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
        r  = snprintf(line + of, sizeof(line) - of, ".%03ldZ %s %s ",
                      ts.tv_nsec / 1000000,
                      log_level_names[level < 0 ? 0 : level & 7], fac);
        if (r > 0)
                of += (size_t)r;
        if (of < sizeof(line)) {
                r = vsnprintf(line + of, sizeof(line) - of, fmt, ap);
                if (r > 0)
                        of += (size_t)r;
        }
        if (suffix && of < sizeof(line)) {
                r = snprintf(line + of, sizeof(line) - of, ": %s", suffix);
                if (r > 0)
                        of += (size_t)r;
        }
        if (of > sizeof(line) - 2) /* truncated: keep the newline */
                of = sizeof(line) - 2;
        /* No control characters from untrusted input: one event per line. */
        for (size_t i = 0; i < of; i++)
                if (line[i] == '\n' || line[i] == '\r')
                        line[i] = ' ';
        line[of++] = '\n';
        if (write(STDERR_FILENO, line, of) < 0) {
                /* nowhere left to report it */
        }
}

void cdc_log(int level, const char *fac, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        log_vwrite(level, fac, NULL, fmt, ap);
        va_end(ap);
}

void cdc_log_r(int level, cdc_err_t err, const char *fac, const char *fmt,
               ...) {
        va_list ap;
        va_start(ap, fmt);
        log_vwrite(level, fac, cdc_err2str(err), fmt, ap);
        va_end(ap);
}
