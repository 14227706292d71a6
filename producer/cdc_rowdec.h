/**
 * @file cdc_rowdec.h
 * @brief Row decoding: the rows events WRITE/UPDATE/DELETE_ROWS (MariaDB
 *        v1 and MySQL 8 v2 headers) and their row images, turned into
 *        JSON objects (column name -> value) with the TABLE_MAP of their
 *        table.
 *
 * Third step of a row's decoding: cdc_frame (event) -> cdc_tablemap
 * (TABLE_MAP) -> cdc_rowdec (this: row images, one column value at a
 * time) -> cdc_value (the JSON of one value). All input is untrusted:
 * every read is bounds-checked and malformed data yields
 * CDC_ERR__BAD_EVENT with the reason, never a crash.
 *
 * Internal to the producer (used by cdc_stream.c, the tests and fuzzers).
 */
#ifndef CDC_ROWDEC_H
#define CDC_ROWDEC_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "cdc_err.h"
#include "cdc_row.h"
#include "cdc_tablemap.h"
#include "cdc_time.h"

/** A rows event being decoded, row change by row change. */
typedef struct cdc_rowdec_rows_s {
        char op; /**< 'c', 'u' or 'd' */
        uint64_t table_id;
        uint16_t flags;
        uint32_t ncols;
        const uint8_t *present;  /**< columns-present bitmap (before image
                                  *   for updates) */
        const uint8_t *present2; /**< after image bitmap (updates) */
        const uint8_t *p;        /**< cursor in the row data */
        const uint8_t *end;
} cdc_rowdec_rows_t;

/**
 * @brief Parse the header of a rows event body.
 * @param type event type (23-25, 30-32).
 * @param post_header_len from the FDE (8 for v1, 10 for v2).
 */
cdc_err_t cdc_rowdec_rows(uint8_t type, const uint8_t *body, size_t len,
                          unsigned post_header_len, cdc_rowdec_rows_t *r,
                          char *errstr, size_t errstr_size);

/** @brief Peek the table id of a rows event body (cheap filter). */
cdc_err_t cdc_rowdec_rows_table_id(const uint8_t *body, size_t len,
                                   unsigned post_header_len, uint64_t *idp);

/** @returns 1 if the rows event has more row changes to decode. */
int cdc_rowdec_rows_more(const cdc_rowdec_rows_t *r);

/**
 * @brief Decode the next row change: \p beforep / \p afterp receive new
 *        objects (or NULL) according to r->op.
 * @param tz zone DATETIME values are read in.
 * @returns CDC_ERR_NO_ERROR, CDC_ERR__BAD_EVENT (the rest of the event is
 *          skipped: never continue past a bad row) or CDC_ERR__NOMEM.
 */
cdc_err_t cdc_rowdec_row_next(const cdc_tablemap_t *t, cdc_rowdec_rows_t *r,
                              const cdc_tz_t *tz, json_t **beforep,
                              json_t **afterp, char *errstr,
                              size_t errstr_size);

/**
 * @brief cdc_rowdec_row_next() into flat row images (cdc_row.h): the same
 *        rows, the same errors, without a JSON tree per row.
 * @param before, after cleared, then filled; kept memory is reused.
 * @param hasp set to which images the row has: 1 before, 2 after.
 * @returns as cdc_rowdec_row_next(); CDC_ERR__STATE without reading
 *          anything when the table's columns can't key a flat image
 *          (cdc_tablemap_flat(): decode that row as JSON instead).
 */
cdc_err_t cdc_rowdec_row_next_flat(cdc_tablemap_t *t, cdc_rowdec_rows_t *r,
                                   const cdc_tz_t *tz, cdc_row_t *before,
                                   cdc_row_t *after, int *hasp, char *errstr,
                                   size_t errstr_size);

#endif
