/**
 * @file cdc_mysqljson.h
 * @brief MySQL 8 binary JSON (the storage format of a JSON column in a
 *        MySQL row image, sql/json_binary.h) to JSON text.
 *
 * MariaDB stores JSON as LONGTEXT and never reaches this decoder. Input is
 * untrusted: offsets and lengths are checked against their container,
 * nesting and work are bounded.
 *
 * Internal to the producer (cdc_rowdec.c, tests and fuzzers).
 */
#ifndef CDC_MYSQLJSON_H
#define CDC_MYSQLJSON_H

#include <stddef.h>
#include <stdint.h>

/**
 * @brief The JSON text of a MySQL binary JSON value: compact, DECIMAL
 *        exact, dates and times as strings, other opaque values as
 *        "base64:typeN:..." (as MySQL prints them).
 * @param textp set to a malloc()ed NUL-terminated text (caller frees).
 * @returns 0, or -1 if malformed: nested deeper than 150, offsets or
 *          lengths outside their container, a temporal value no column
 *          holds, or over the work budget (more values visited than the
 *          document has bytes, or a text over 16 times its size: entries
 *          sharing sub-containers).
 */
int cdc_mysqljson_text(const uint8_t *p, size_t len, char **textp,
                       size_t *lenp);

#endif
