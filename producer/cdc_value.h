/**
 * @file cdc_value.h
 * @brief The JSON mapping of column values (schemas/events/README.md "Row
 *        values", docs/binlog.md "Value mapping"), shared by the two
 *        paths a row takes: binary row images (cdc_rowdec.c) and the
 *        text protocol of a snapshot's SELECT (cdc_textval.c). Both build
 *        their values with these constructors, so one column value gives
 *        the same JSON on both paths.
 *
 * Also the column types and the column description both paths use.
 * Internal to the producer.
 */
#ifndef CDC_VALUE_H
#define CDC_VALUE_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "cdc_time.h"

/** Column types (MySQL enum_field_types values, = MYSQL_TYPE_*). */
enum {
        CDC_T_DECIMAL     = 0,
        CDC_T_TINY        = 1,
        CDC_T_SHORT       = 2,
        CDC_T_LONG        = 3,
        CDC_T_FLOAT       = 4,
        CDC_T_DOUBLE      = 5,
        CDC_T_NULL        = 6,
        CDC_T_TIMESTAMP   = 7,
        CDC_T_LONGLONG    = 8,
        CDC_T_INT24       = 9,
        CDC_T_DATE        = 10,
        CDC_T_TIME        = 11,
        CDC_T_DATETIME    = 12,
        CDC_T_YEAR        = 13,
        CDC_T_NEWDATE     = 14,
        CDC_T_VARCHAR     = 15,
        CDC_T_BIT         = 16,
        CDC_T_TIMESTAMP2  = 17,
        CDC_T_DATETIME2   = 18,
        CDC_T_TIME2       = 19,
        CDC_T_JSON        = 245,
        CDC_T_NEWDECIMAL  = 246,
        CDC_T_ENUM        = 247,
        CDC_T_SET         = 248,
        CDC_T_TINY_BLOB   = 249,
        CDC_T_MEDIUM_BLOB = 250,
        CDC_T_LONG_BLOB   = 251,
        CDC_T_BLOB        = 252,
        CDC_T_VAR_STRING  = 253,
        CDC_T_STRING      = 254,
        CDC_T_GEOMETRY    = 255
};

/** One column as the value mapping needs it. */
typedef struct cdc_col_s {
        uint8_t type; /**< real type (STRING's ENUM/SET resolved) */
        uint8_t nullable;
        uint8_t is_unsigned;
        uint8_t is_binary; /**< string column with the binary charset */
        uint8_t is_latin1; /**< text column in a latin1 collation */
        uint16_t meta;     /**< type metadata (see cdc_tablemap.c); for
                            *   the text protocol, TIME's fraction digits */
        uint32_t charset;  /**< collation id, 0 if unknown */
        char *name;
        size_t name_len; /**< strlen(name), set by cdc_tablemap_flat() */
        char **labels;   /**< ENUM / SET labels (label_cnt of them) */
        uint32_t label_cnt;
} cdc_col_t;

/** @returns a base64 string of \p n bytes (NULL: out of memory). */
json_t *cdc_value_base64(const uint8_t *s, size_t n);

/**
 * @brief Base64 of \p n bytes into \p out (at least (n + 2) / 3 * 4
 *        bytes, no NUL written). @returns the length written.
 */
size_t cdc_value_base64_enc(const uint8_t *s, size_t n, char *out);

/**
 * @brief Text of a character column: base64 when the column is binary,
 *        else the bytes as UTF-8; text that is not valid UTF-8 is
 *        converted from latin1 (latin1 columns) or gets U+FFFD for every
 *        byte that does not start a valid sequence.
 */
json_t *cdc_value_text(const cdc_col_t *c, const uint8_t *s, size_t n);

/** @returns an integer, or a decimal string above INT64_MAX. */
json_t *cdc_value_u64(uint64_t v);

/** @returns the shortest decimal that reads back as \p f, as a double. */
json_t *cdc_value_float(float f);

/**
 * @brief A UTC instant (cdc_time_format_us(): "...Z", the expanded year
 *        form outside 0000..9999).
 */
json_t *cdc_value_instant(int64_t epoch_us);

/**
 * @brief A DATETIME: wall-clock time read in \p tz (NULL: UTC), as the
 *        UTC instant. null when the date does not exist in the calendar
 *        (zero dates, a zero month or day, February 30 ...) or a field is
 *        out of range: such values are not instants.
 */
json_t *cdc_value_datetime(unsigned y, unsigned mo, unsigned d, unsigned h,
                           unsigned mi, unsigned s, uint32_t us,
                           const cdc_tz_t *tz);

/**
 * @brief cdc_value_datetime() as a number: @returns 1 with the instant in
 *        \p usp (microseconds since the epoch), or 0 where it gives null.
 */
int cdc_value_datetime_us(unsigned y, unsigned mo, unsigned d, unsigned h,
                          unsigned mi, unsigned s, uint32_t us,
                          const cdc_tz_t *tz, int64_t *usp);

/**
 * @brief A DATE as "YYYY-MM-DD" (the stored digits, years 0000..9999,
 *        also dates ALLOW_INVALID_DATES lets through such as 2024-02-30);
 *        null when the month or day is 0 (zero dates) or out of range.
 */
json_t *cdc_value_date(unsigned y, unsigned m, unsigned d);

/**
 * @brief A TIME as "[-]HH:MM:SS" (hours take as many digits as needed,
 *        at least two), ".ffffff" appended when \p fsp > 0.
 * @returns NULL if \p h > 9999 or out of memory.
 */
json_t *cdc_value_time(int neg, unsigned h, unsigned m, unsigned s, uint32_t us,
                       unsigned fsp);

/**
 * @brief Decode one packed binary DECIMAL(prec, scale) value into text.
 * @param out at least prec + 4 bytes.
 * @returns the bytes consumed, or -1 (short input, bad precision, a digit
 *          group out of range, small buffer).
 */
int cdc_value_decimal(const uint8_t *p, size_t avail, unsigned prec,
                      unsigned scale, char *out, size_t out_size);

#endif
