/**
 * @file cdc_log.h
 * @brief Logging to stderr, one line per event, with syslog levels and a
 *        short facility tag; debug contexts chosen at run time.
 *
 * Line format: `2026-11-22T05:20:14.123Z NOTICE KPROD message`.
 * Each line is written with one write(2) so lines from librdkafka's threads
 * never interleave.
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

/**
 * @brief Set the highest level logged (LOG_ERR .. LOG_DEBUG).
 * @locality main thread, before other threads start
 */
void cdc_log_set_level(int level);

/** @returns the current level. */
int cdc_log_level(void);

/**
 * @brief Enable debug contexts from a comma separated list
 *        ("binlog,rsink", "all", "" for none).
 * @returns 0, or -1 with the bad name copied to \p errstr.
 */
int cdc_log_set_debug(const char *list, char *errstr, size_t errstr_size);

/** @returns non-zero if the debug context mask \p ctx is on. */
int cdc_dbg_on(int ctx);

/** @brief Parse a level name ("err", "warning", "notice", "info", "debug").
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
