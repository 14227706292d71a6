/**
 * @file cdc_row.h
 * @brief A flat row image: the column values of one row in column order,
 *        without a JSON tree.
 *
 * The binlog decoder fills one per row image and the event encoder
 * writes it straight into the envelope. Integers and instants (DATETIME,
 * TIMESTAMP) are kept as numbers; every other value as the JSON value the
 * decoder made for it. Building and freeing a jansson object per row (an
 * object, a hash table, a key copy and a value per column) was a quarter
 * of the producer's instructions per row.
 *
 * cdc_row_json() gives the same row as the JSON object the rest of the
 * code (snapshots, repairs, oversized events, tests) works with: the flat
 * image and the object encode to the same bytes.
 */
#ifndef CDC_ROW_H
#define CDC_ROW_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

typedef enum {
        CDC_RV_NULL,    /**< SQL NULL, or a zero date: JSON null */
        CDC_RV_INT,     /**< i: a JSON integer */
        CDC_RV_INSTANT, /**< i: microseconds since the epoch, UTC; a JSON
                         *   string "YYYY-MM-DDTHH:MM:SS.ffffffZ"
                         *   (cdc_time_format_us) */
        CDC_RV_JSON,    /**< j: any other value (owned reference) */
} cdc_rv_kind_t;

/** One column value. */
typedef struct cdc_rv_s {
        const char *name; /**< column name (borrowed: the table map's),
                           *   valid UTF-8, not empty */
        size_t name_len;
        cdc_rv_kind_t kind;
        int64_t i;
        json_t *j;
} cdc_rv_t;

/** The values of one row image, in column order; names are unique. */
typedef struct cdc_row_s {
        cdc_rv_t *v;
        uint32_t n;   /**< values */
        uint32_t cap; /**< allocated values (kept across rows) */
} cdc_row_t;

/** @brief Drop the values (their JSON references), keep the memory. */
void cdc_row_clear(cdc_row_t *r);

/** @brief Drop the values and the memory. */
void cdc_row_free(cdc_row_t *r);

/**
 * @brief Room for \p n values (memory kept for the next rows).
 * @returns 0, or -1 out of memory.
 */
int cdc_row_reserve(cdc_row_t *r, uint32_t n);

/** @returns the value of column \p name, or NULL. */
const cdc_rv_t *cdc_row_get(const cdc_row_t *r, const char *name);

/** @returns the JSON form of one value (new reference), NULL out of
 *  memory. */
json_t *cdc_rv_json(const cdc_rv_t *v);

/** @returns the row as a JSON object (new reference; the same bytes when
 *  encoded), NULL out of memory. */
json_t *cdc_row_json(const cdc_row_t *r);

#endif /* CDC_ROW_H */
