#include "cdc_log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* Process-wide by nature (stderr is); set at start-up, read by every
 * thread that logs (atomics: librdkafka's threads read them). */
static _Atomic int log_level = LOG_NOTICE;
static _Atomic int log_debug_mask;
static _Atomic int log_fmt = CDC_LOG_FORMAT_TEXT;
static _Atomic int log_fd  = -1;

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
static const char *log_level_json[]  = { "emerg",   "alert",  "crit", "err",
                                         "warning", "notice", "info", "debug" };

void cdc_log_set_level(int level) {
        if (level < LOG_EMERG)
                level = LOG_EMERG;
        if (level > LOG_DEBUG)
                level = LOG_DEBUG;
        atomic_store(&log_level, level);
}

int cdc_log_level(void) {
        return atomic_load_explicit(&log_level, memory_order_relaxed);
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

int cdc_log_debug_parse(const char *list, int *maskp, char *errstr,
                        size_t errstr_size) {
        int mask      = 0;
        const char *p = list;

        while (p && *p) {
                const char *end = strchr(p, ',');
                size_t len      = end ? (size_t)(end - p) : strlen(p);
                size_t i;
                int found = 0;

                /* " binlog , kprod": blanks around names are fine */
                while (len && (*p == ' ' || *p == '\t')) {
                        p++;
                        len--;
                }
                while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
                        len--;
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
                                 "unknown debug context \"%.*s\" (use "
                                 "binlog,kprod,kcons,rsink,apply,ckpt,"
                                 "snapshot,reaper,conf,http or all)",
                                 (int)(len > 64 ? 64 : len), p);
                        return -1;
                }
                p = end ? end + 1 : NULL;
        }
        *maskp = mask;
        return 0;
}

int cdc_log_set_debug(const char *list, char *errstr, size_t errstr_size) {
        int mask;
        if (cdc_log_debug_parse(list, &mask, errstr, errstr_size))
                return -1;
        cdc_log_set_debug_mask(mask);
        if (mask)
                cdc_log_set_level(LOG_DEBUG);
        return 0;
}

void cdc_log_set_debug_mask(int mask) {
        atomic_store(&log_debug_mask, mask);
}

int cdc_dbg_on(int ctx) {
        return (atomic_load_explicit(&log_debug_mask, memory_order_relaxed) &
                ctx) != 0;
}

void cdc_log_set_format(cdc_log_format_t fmt) {
        atomic_store(&log_fmt, fmt == CDC_LOG_FORMAT_JSON
                                       ? CDC_LOG_FORMAT_JSON
                                       : CDC_LOG_FORMAT_TEXT);
}

cdc_log_format_t cdc_log_format(void) {
        return (cdc_log_format_t)atomic_load(&log_fmt);
}

void cdc_log_set_fd(int fd) {
        atomic_store(&log_fd, fd);
}

/* ---- log file and SIGHUP ---- */

/* The log file: its path and our descriptor (also in log_fd while in
 * use). Changed on the main thread (open) and the SIGHUP thread
 * (reopen): the mutex orders them; writers only read log_fd. */
static pthread_mutex_t log_file_mtx = PTHREAD_MUTEX_INITIALIZER;
static char *log_file_path;
static int log_file_fd = -1;

static int log_file_open(const char *path, char *errstr, size_t errstr_size) {
        int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
        if (fd < 0)
                snprintf(errstr, errstr_size, "log.file: %s: %s", path,
                         strerror(errno));
        return fd;
}

int cdc_log_open_file(const char *path, char *errstr, size_t errstr_size) {
        char *copy = strdup(path);
        int fd;

        if (!copy) {
                snprintf(errstr, errstr_size, "log.file: out of memory");
                return -1;
        }
        fd = log_file_open(path, errstr, errstr_size);
        if (fd < 0) {
                free(copy);
                return -1;
        }
        pthread_mutex_lock(&log_file_mtx);
        if (log_file_fd >= 0) {
                /* same number for writers (as a reopen) */
                dup2(fd, log_file_fd);
                close(fd);
        } else {
                log_file_fd = fd;
                atomic_store(&log_fd, fd);
        }
        free(log_file_path);
        log_file_path = copy;
        pthread_mutex_unlock(&log_file_mtx);
        return 0;
}

const char *cdc_log_file(void) {
        const char *p;
        pthread_mutex_lock(&log_file_mtx);
        p = log_file_path;
        pthread_mutex_unlock(&log_file_mtx);
        return p;
}

int cdc_log_reopen(char *errstr, size_t errstr_size) {
        int fd, r = 0;

        pthread_mutex_lock(&log_file_mtx);
        if (log_file_path && log_file_fd >= 0) {
                fd = log_file_open(log_file_path, errstr, errstr_size);
                if (fd < 0) {
                        r = -1;
                } else if (dup2(fd, log_file_fd) < 0) {
                        snprintf(errstr, errstr_size, "log.file: %s: dup2: %s",
                                 log_file_path, strerror(errno));
                        close(fd);
                        r = -1;
                } else {
                        close(fd);
                        r = 1;
                }
        }
        pthread_mutex_unlock(&log_file_mtx);
        return r;
}

static pthread_t log_hup_thr;
static int log_hup_started;
static _Atomic int log_hup_run;
static _Atomic unsigned long log_hup_count;

/* Waits for SIGHUP (blocked in every thread, so only sigtimedwait() here
 * takes it): the default action would end the process, exit 129, which
 * a logrotate postrotate or a terminal hang-up must never do. */
static void *log_hup_main(void *arg) {
        struct timespec tick = { 0, 200 * 1000000L };
        sigset_t set;
        (void)arg;

        sigemptyset(&set);
        sigaddset(&set, SIGHUP);
        while (atomic_load(&log_hup_run)) {
                char why[512];
                int r;
                if (sigtimedwait(&set, NULL, &tick) != SIGHUP)
                        continue; /* the tick: look at log_hup_run */
                r = cdc_log_reopen(why, sizeof(why));
                if (r > 0)
                        cdc_log(LOG_NOTICE, "LOG",
                                "SIGHUP: log file %s reopened", cdc_log_file());
                else if (r == 0)
                        cdc_log(LOG_NOTICE, "LOG",
                                "SIGHUP ignored: logs go to stderr, nothing "
                                "to reopen (set log.file to write a file)");
                else
                        cdc_log(LOG_ERR, "LOG",
                                "SIGHUP: %s; still writing to the old file",
                                why);
                atomic_fetch_add(&log_hup_count, 1);
        }
        return NULL;
}

int cdc_log_sighup_start(void) {
        sigset_t set;

        if (log_hup_started)
                return 0;
        sigemptyset(&set);
        sigaddset(&set, SIGHUP);
        pthread_sigmask(SIG_BLOCK, &set, NULL);
        atomic_store(&log_hup_run, 1);
        if (pthread_create(&log_hup_thr, NULL, log_hup_main, NULL)) {
                /* no thread: at least never die of it */
                signal(SIGHUP, SIG_IGN);
                pthread_sigmask(SIG_UNBLOCK, &set, NULL);
                return -1;
        }
        log_hup_started = 1;
        return 0;
}

unsigned long cdc_log_sighup_count(void) {
        return atomic_load(&log_hup_count);
}

void cdc_log_sighup_stop(void) {
        if (!log_hup_started)
                return;
        atomic_store(&log_hup_run, 0);
        pthread_join(log_hup_thr, NULL);
        log_hup_started = 0;
}

/* ---- JSON ---- */

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if not. */
static size_t log_utf8_len(const unsigned char *s, size_t n) {
        size_t len, i;
        unsigned c = s[0];
        unsigned cp;

        if (c < 0x80)
                return 1;
        if (c >= 0xc2 && c <= 0xdf) {
                len = 2;
                cp  = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
                len = 3;
                cp  = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
                len = 4;
                cp  = c & 0x07;
        } else {
                return 0;
        }
        if (n < len)
                return 0;
        for (i = 1; i < len; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (s[i] & 0x3f);
        }
        /* overlong forms, surrogates and beyond U+10FFFF */
        if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
            (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
                return 0;
        return len;
}

/* Append \p s as the inside of a JSON string to out[*ofp..size). Stops
 * (at a character boundary) when it no longer fits; always leaves room
 * for the caller's closing text of \p reserve bytes. */
static void log_json_str(char *out, size_t size, size_t *ofp, const char *s,
                         size_t reserve) {
        static const char hex[] = "0123456789abcdef";
        const unsigned char *p  = (const unsigned char *)s;
        size_t of = *ofp, n = strlen(s);

        while (n > 0) {
                char esc[8];
                size_t elen, take = 1;
                const char *src = esc;

                if (*p == '"' || *p == '\\') {
                        esc[0] = '\\';
                        esc[1] = (char)*p;
                        elen   = 2;
                } else if (*p == '\n' || *p == '\r' || *p == '\t') {
                        esc[0] = '\\';
                        esc[1] = *p == '\n' ? 'n' : *p == '\r' ? 'r' : 't';
                        elen   = 2;
                } else if (*p < 0x20 || *p == 0x7f) {
                        memcpy(esc, "\\u00", 4);
                        esc[4] = hex[*p >> 4];
                        esc[5] = hex[*p & 0xf];
                        elen   = 6;
                } else if (*p < 0x80) {
                        esc[0] = (char)*p;
                        elen   = 1;
                } else {
                        take = log_utf8_len(p, n);
                        if (take) {
                                src  = (const char *)p;
                                elen = take;
                        } else {
                                take = 1; /* U+FFFD for a bad byte */
                                memcpy(esc, "\xef\xbf\xbd", 3);
                                elen = 3;
                        }
                }
                if (of + elen + reserve >= size)
                        break;
                memcpy(out + of, src, elen);
                of += elen;
                p += take;
                n -= take;
        }
        *ofp = of;
}

/* ---- writing ---- */

static void log_write_line(const char *line, size_t len) {
        int fd = atomic_load_explicit(&log_fd, memory_order_relaxed);
        if (write(fd >= 0 ? fd : STDERR_FILENO, line, len) < 0) {
                /* nowhere left to report it */
        }
}

static void log_vwrite(int level, const char *fac, const char *suffix,
                       const char *fmt, va_list ap) {
        char msg[CDC_LOG_LINE_MAX];
        char line[2 * CDC_LOG_LINE_MAX + 128];
        char ts[40];
        struct timespec ts_now;
        struct tm tm;
        size_t of, mlen = 0;
        int r, lv       = level < 0 ? 0 : level & 7;

        if (level > cdc_log_level())
                return;
        clock_gettime(CLOCK_REALTIME, &ts_now);
        gmtime_r(&ts_now.tv_sec, &tm);
        of = strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(ts + of, sizeof(ts) - of, ".%03ldZ", ts_now.tv_nsec / 1000000);

        r = vsnprintf(msg, sizeof(msg), fmt, ap);
        if (r > 0)
                mlen = (size_t)r < sizeof(msg) ? (size_t)r : sizeof(msg) - 1;
        if (suffix && mlen < sizeof(msg) - 1) {
                r = snprintf(msg + mlen, sizeof(msg) - mlen, ": %s", suffix);
                if (r > 0)
                        mlen += (size_t)r < sizeof(msg) - mlen
                                        ? (size_t)r
                                        : sizeof(msg) - mlen - 1;
        }
        msg[mlen] = '\0';

        if (cdc_log_format() == CDC_LOG_FORMAT_JSON) {
                r  = snprintf(line, sizeof(line),
                              "{\"time\":\"%s\",\"level\":\"%s\","
                               "\"facility\":\"",
                              ts, log_level_json[lv]);
                of = r > 0 ? (size_t)r : 0;
                log_json_str(line, sizeof(line), &of, fac ? fac : "", 64);
                memcpy(line + of, "\",\"message\":\"", 13);
                of += 13;
                log_json_str(line, sizeof(line), &of, msg, 4);
                memcpy(line + of, "\"}\n", 3);
                of += 3;
                log_write_line(line, of);
                return;
        }

        r  = snprintf(line, CDC_LOG_LINE_MAX, "%s %s %s %s", ts,
                      log_level_names[lv], fac ? fac : "", msg);
        of = r < 0 ? 0 : (size_t)r;
        if (of > CDC_LOG_LINE_MAX - 2) /* truncated: keep the newline */
                of = CDC_LOG_LINE_MAX - 2;
        /* No control characters from untrusted input: one event per line. */
        for (size_t i = 0; i < of; i++)
                if (line[i] == '\n' || line[i] == '\r')
                        line[i] = ' ';
        line[of++] = '\n';
        log_write_line(line, of);
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
