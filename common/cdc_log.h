/**
 * @file cdc_log.h
 * @brief Logging to stderr, one line per event, with syslog levels and a
 *        short facility tag; debug contexts chosen at run time.
 *
 * Text format (default, `log.format=text`):
 *     2026-11-22T05:20:14.123Z NOTICE KPROD message
 * JSON format (`log.format=json`), one object per line:
 *     {"time":"2026-11-22T05:20:14.123Z","level":"notice","facility":"KPROD",
 *      "message":"message"}
 * Each line is formatted on the caller's stack and written with one
 * write(2), so lines from librdkafka's threads never interleave. Control
 * characters in the message become spaces (text) or escapes (JSON); bytes
 * that are not UTF-8 become U+FFFD in JSON, so every line is valid JSON.
 * Lines are cut at CDC_LOG_LINE_MAX bytes.
 *
 * The level, debug contexts, format and output descriptor are process-wide
 * settings (stderr is): set them at start-up, normally through the
 * `log.*` properties of the configuration engine (cdc_conf.h).
 *
 * Output: stderr, or a file (`log.file`, appended). SIGHUP never stops a
 * binary: cdc_log_sighup_start() makes it reopen the file (after
 * logrotate moved it) or, when lines go to stderr, log that there is
 * nothing to reopen.
 */
#ifndef CDC_LOG_H
#define CDC_LOG_H

#include <stddef.h>
#include <syslog.h>
#include "cdc_err.h"

/** Debug contexts (bit mask), enabled with `log.debug=binlog,rsink`. */
enum {
        CDC_DBG_BINLOG   = 0x1,
        CDC_DBG_KPROD    = 0x2,
        CDC_DBG_KCONS    = 0x4,
        CDC_DBG_RSINK    = 0x8,
        CDC_DBG_APPLY    = 0x10,
        CDC_DBG_CKPT     = 0x20,
        CDC_DBG_SNAPSHOT = 0x40,
        CDC_DBG_REAPER   = 0x80,
        CDC_DBG_CONF     = 0x100,
        CDC_DBG_HTTP     = 0x200,
        CDC_DBG_ALL      = 0xfff
};

/** Longest line written, newline included (text; JSON may be longer by
 *  its escapes, up to twice this). */
#define CDC_LOG_LINE_MAX 2048

/** Line formats (`log.format`). */
typedef enum {
        CDC_LOG_FORMAT_TEXT = 0,
        CDC_LOG_FORMAT_JSON = 1,
} cdc_log_format_t;

/**
 * @brief Set the highest level logged (LOG_ERR .. LOG_DEBUG).
 * @locality main thread, before other threads start
 */
void cdc_log_set_level(int level);

/** @returns the current level. */
int cdc_log_level(void);

/**
 * @brief Parse a comma separated list of debug contexts ("binlog,rsink",
 *        "all", "" for none) into a mask.
 * @returns 0, or -1 with the bad name in \p errstr.
 * @locality any thread (pure)
 */
int cdc_log_debug_parse(const char *list, int *maskp, char *errstr,
                        size_t errstr_size);

/**
 * @brief Enable debug contexts from a comma separated list
 *        ("binlog,rsink", "all", "" for none). A non-empty list also
 *        raises the level to LOG_DEBUG.
 * @returns 0, or -1 with the bad name copied to \p errstr.
 */
int cdc_log_set_debug(const char *list, char *errstr, size_t errstr_size);

/** @brief Set the debug context mask (no level change). */
void cdc_log_set_debug_mask(int mask);

/** @brief Choose the line format (CDC_LOG_FORMAT_TEXT or _JSON). */
void cdc_log_set_format(cdc_log_format_t fmt);

/** @returns the line format. */
cdc_log_format_t cdc_log_format(void);

/**
 * @brief Write lines to \p fd instead of stderr (-1: back to stderr).
 *        For tests and fuzzers; the descriptor stays the caller's.
 */
void cdc_log_set_fd(int fd);

/**
 * @brief Append lines to the file \p path (created 0640 if missing)
 *        instead of stderr, from now on. Lines written meanwhile by other
 *        threads go to one or the other, whole.
 * @returns 0, or -1 with `path: reason` in \p errstr (output unchanged).
 * @locality main thread
 */
int cdc_log_open_file(const char *path, char *errstr, size_t errstr_size);

/** @returns the log file's path, or NULL when lines go to stderr. */
const char *cdc_log_file(void);

/**
 * @brief Open the log file's path again and write there from now on (the
 *        old file, renamed by logrotate, is closed). Atomic for writers:
 *        the descriptor number stays (dup2).
 * @returns 1 reopened, 0 no log file (stderr: nothing to do), -1 with the
 *          reason in \p errstr (lines keep going to the old file).
 * @locality any thread
 */
int cdc_log_reopen(char *errstr, size_t errstr_size);

/**
 * @brief Make SIGHUP harmless and useful: block it in the calling thread
 *        (and so in every thread it creates later) and start a thread
 *        that waits for it and calls cdc_log_reopen(), logging the
 *        outcome at NOTICE (or ERR). Call it first thing in main(),
 *        before any other thread exists.
 * @returns 0, or -1 (the thread could not start: SIGHUP is then ignored).
 * @locality main thread
 */
int cdc_log_sighup_start(void);

/** @returns how many SIGHUPs were handled so far (for tests). */
unsigned long cdc_log_sighup_count(void);

/** @brief Stop the SIGHUP thread (joins it). No-op if not started. */
void cdc_log_sighup_stop(void);

/** @returns non-zero if the debug context mask \p ctx is on. */
int cdc_dbg_on(int ctx);

/** @brief Parse a level name ("err", "warning", "notice", "info", "debug";
 *  also "emerg", "alert", "crit", "error", "warn"), case-insensitive.
 *  @returns the level or -1. */
int cdc_log_level_parse(const char *name);

/**
 * @brief Log one line.
 * @locality any thread
 */
void cdc_log(int level, const char *fac, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/**
 * @brief Log one line and append ": <error text>" for \p err.
 * @locality any thread
 */
void cdc_log_r(int level, cdc_err_t err, const char *fac, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

#define cdc_dbg(ctx, fac, ...)                                                 \
        do {                                                                   \
                if (cdc_dbg_on(CDC_DBG_##ctx))                                 \
                        cdc_log(LOG_DEBUG, fac, __VA_ARGS__);                  \
        } while (0)

#endif
