/**
 * @file cdc_textval.h
 * @brief Column values of the text protocol (the rows of a snapshot's
 *        SELECT) as JSON, with the mapping binary row images get
 *        (cdc_value.h): the same row gives the same JSON in a snapshot
 *        read and in a binlog event.
 *
 * Internal to the producer (cdc_snapshot.c, tests).
 */
#ifndef CDC_TEXTVAL_H
#define CDC_TEXTVAL_H

#include <stddef.h>
#include <jansson.h>
#include "cdc_time.h"
#include "cdc_value.h"

/**
 * @brief Map one value of the text protocol.
 * @param c column: type (CDC_T_*, the same numbers as MYSQL_TYPE_*),
 *        is_unsigned, is_binary (base64) and, for TIME, the fractional
 *        digits in meta. Other fields are not read.
 * @param val the text, NULL for SQL NULL.
 * @param tz zone DATETIME values are read in (NULL: UTC); TIMESTAMP text
 *        is read as UTC (the session time_zone is +00:00).
 * @returns a new reference, NULL on allocation failure.
 */
json_t *cdc_textval_decode(const cdc_col_t *c, const char *val, size_t len,
                           const cdc_tz_t *tz);

#endif
