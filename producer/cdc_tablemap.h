/**
 * @file cdc_tablemap.h
 * @brief TABLE_MAP events: the table a rows event's table id stands for,
 *        its column types and type metadata, and the optional metadata
 *        (binlog_row_metadata: column names, signedness, charsets,
 *        ENUM/SET labels).
 *
 * Second step of a row's decoding (cdc_frame -> cdc_tablemap ->
 * cdc_rowdec -> cdc_value). Untrusted input: every length is checked
 * against its buffer, malformed maps are CDC_ERR__BAD_EVENT.
 *
 * Internal to the producer.
 */
#ifndef CDC_TABLEMAP_H
#define CDC_TABLEMAP_H

#include <stddef.h>
#include <stdint.h>
#include "cdc_err.h"
#include "cdc_value.h"

/** Most columns a table can have (MySQL and MariaDB: 4096). */
#define CDC_TABLEMAP_MAX_COLS 4096

typedef struct cdc_tablemap_s {
        uint64_t id;
        char db[65];
        char name[65];
        uint32_t ncols;
        cdc_col_t *cols;
        int has_names;   /**< COLUMN_NAME optional metadata present */
        int has_sign;    /**< SIGNEDNESS present */
        int has_charset; /**< DEFAULT/COLUMN_CHARSET present */
        int has_labels;  /**< ENUM/SET_STR_VALUE present (or none
                          *   needed) */
        int flat;        /**< cdc_tablemap_flat(): 0 not known yet, 1
                          *   yes, -1 no */
        uint8_t *raw;    /**< the TABLE_MAP body, to detect changes */
        size_t raw_len;
} cdc_tablemap_t;

/**
 * @brief Parse a TABLE_MAP event body (\p post_header_len from the FDE,
 *        normally 8).
 * @param tp set to a new table (cdc_tablemap_destroy) on success.
 * @returns CDC_ERR_NO_ERROR, CDC_ERR__BAD_EVENT or CDC_ERR__NOMEM with the
 *          reason in \p errstr.
 */
cdc_err_t cdc_tablemap_parse(const uint8_t *body, size_t len,
                             unsigned post_header_len, cdc_tablemap_t **tp,
                             char *errstr, size_t errstr_size);

/**
 * @brief Only the table id, db and table name of a TABLE_MAP body: the
 *        cheap check done before parsing the columns.
 * @param db, table at least 65 bytes each.
 */
cdc_err_t cdc_tablemap_peek(const uint8_t *body, size_t len,
                            unsigned post_header_len, uint64_t *idp, char *db,
                            char *table);

/** @brief Free \p t. NULL: no-op. */
void cdc_tablemap_destroy(cdc_tablemap_t *t);

/**
 * @brief Set the name, signedness, binary flag and labels of column \p i
 *        from another source (information_schema), where the map itself
 *        has none. Strings are copied.
 * @param labels label list, or NULL.
 * @returns 0 or -1 (allocation failure, bad index).
 */
int cdc_tablemap_set_col(cdc_tablemap_t *t, uint32_t i, const char *name,
                         int is_unsigned, int is_binary,
                         const char *const *labels, uint32_t label_cnt);

/**
 * @brief Can rows of \p t be decoded into flat row images (cdc_row.h)?
 *        Yes when every column has a name and no two alike: a JSON object
 *        keeps one value per name, a flat image every column (and an
 *        unnamed column is keyed "@N", which could clash). Sets each
 *        column's name_len. Cached until cdc_tablemap_set_col().
 * @returns 1 or 0.
 */
int cdc_tablemap_flat(cdc_tablemap_t *t);

#endif
