/**
 * @file cdc_time.h
 * @brief Time, the one implementation: UTC instant text (format and
 *        parse), proleptic Gregorian calendar arithmetic, and time zones
 *        (TZif files with their POSIX TZ rule, fixed offsets).
 *
 * The instant text is the event contract's (schemas/events/README.md
 * "Row values"): "YYYY-MM-DDTHH:MM:SS.ffffffZ" for years 0000..9999, and
 * the ISO 8601 expanded form with a sign and six year digits outside
 * them ("+010000-01-01T04:00:00.000000Z", "-000001-12-31T16:00:00.000000Z"),
 * the form ECMAScript's Date.prototype.toISOString() writes. A DATETIME
 * of year 9999 read in a zone west of UTC is year 10000 in UTC: a legal
 * value, so it must have a text.
 *
 * Every function is pure (no locale, no TZ environment, no gmtime) and
 * may be called from any thread; a cdc_tz_t is read-only once built.
 */
#ifndef CDC_TIME_H
#define CDC_TIME_H

#include <stddef.h>
#include <stdint.h>

/** Longest instant text, without the NUL: "+123456-12-31T23:59:59.999999Z" */
#define CDC_TIME_TEXT_MAX 30

/** "00" "01" ... "99": the two decimal digits of 0..99 at [2 v], for the
 *  formatters that write two digits per division (instants, the event
 *  encoder's integers). */
extern const char cdc_digits2[201];

/**
 * @brief Format an instant as UTC ISO-8601 with microseconds:
 *        "2026-11-22T05:20:14.123456Z" (27 characters), or the expanded
 *        form "+010000-01-01T04:00:00.000000Z" (30) outside 0000..9999.
 *        Hot path: no printf, no gmtime.
 * @param buf \p size bytes; 31 always suffice (CDC_TIME_TEXT_MAX + 1).
 * @returns the length (27 or 30), or -1 if \p size is too small.
 * @locality any thread
 */
int cdc_time_format_us(char *buf, size_t size, int64_t epoch_us);

/**
 * @brief Parse "YYYY-MM-DDTHH:MM:SS[.f{1,6}]Z", or its expanded form
 *        "±YYYYYY-MM-DDTHH:MM:SS[.f{1,6}]Z", into ms since the epoch.
 *        The fraction is truncated to ms. The date must exist.
 * @returns 0, or -1 if malformed.
 */
int cdc_time_parse_ms(const char *s, int64_t *msp);

/**
 * @brief Days since 1970-01-01 of a proleptic Gregorian date (negative
 *        before it). No range check: \p m is 1..12, \p d 1..31.
 */
int64_t cdc_time_days_from_civil(int64_t y, int m, int d);

/** @brief The proleptic Gregorian date of \p days since 1970-01-01. */
void cdc_time_civil_from_days(int64_t days, int64_t *yp, int *mp, int *dp);

/**
 * @returns 1 if \p y, \p m, \p d is a date of the proleptic Gregorian
 *          calendar (month 1..12, day within the month, February 29 in
 *          leap years only; year 0 is a leap year), else 0.
 */
int cdc_time_date_exists(int64_t y, int m, int d);

/* ---- time zones ---- */

typedef struct cdc_tz_s cdc_tz_t;

/**
 * @brief Load a zone: "UTC" (also "", "Z", and "SYSTEM", which is taken
 *        as UTC), a fixed offset "+HH:MM" / "-HH:MM" (at most 14 hours),
 *        or an IANA name read from the system zoneinfo
 *        (/usr/share/zoneinfo/<name>, TZif version 1 to 4, including the
 *        POSIX TZ rule that extends it past its last transition).
 * @returns the zone (cdc_tz_destroy) or NULL with the reason in \p errstr.
 */
cdc_tz_t *cdc_tz_new(const char *name, char *errstr, size_t errstr_size);

/** @brief Free \p tz. NULL: no-op. */
void cdc_tz_destroy(cdc_tz_t *tz);

/**
 * @brief Load a zone from TZif bytes (what cdc_tz_new reads from a file).
 *        Untrusted input: every count and index is checked.
 * @returns the zone or NULL (malformed, out of memory).
 */
cdc_tz_t *cdc_tz_from_tzif(const uint8_t *data, size_t len);

/**
 * @brief UTC offset in seconds in force at UTC instant \p utc_s (seconds
 *        since the epoch). NULL \p tz is UTC.
 */
int32_t cdc_tz_utc_offset(const cdc_tz_t *tz, int64_t utc_s);

/**
 * @brief UTC offset in seconds of local wall-clock time \p local_s
 *        (seconds since 1970-01-01 00:00 of that wall clock). In a DST
 *        gap or overlap the offset in force before the change is used.
 *        NULL \p tz is UTC.
 */
int32_t cdc_tz_local_offset(const cdc_tz_t *tz, int64_t local_s);

#endif
