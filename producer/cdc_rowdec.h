/**
 * @file cdc_rowdec.h
 * @brief Binlog event decoding without a server: event framing (header,
 *        CRC32 trailer), TABLE_MAP parsing (column types, metadata,
 *        optional metadata: names, signedness, charsets, ENUM/SET labels)
 *        and row images of WRITE/UPDATE/DELETE_ROWS events (MariaDB v1 and
 *        MySQL 8 v2 headers) into JSON objects.
 *
 * All input is untrusted: every read is bounds-checked and malformed data
 * yields CDC_ERR__BAD_EVENT with the reason, never a crash.
 *
 * Internal to the producer (used by cdc_binlog.c and the unit tests).
 */
#ifndef CDC_ROWDEC_H
#define CDC_ROWDEC_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "cdc_err.h"

/** Binlog column types (MySQL enum_field_types values). */
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

/** Binlog event types used here. */
enum {
        CDC_EV_QUERY                     = 2,
        CDC_EV_STOP                      = 3,
        CDC_EV_ROTATE                    = 4,
        CDC_EV_FORMAT_DESCRIPTION        = 15,
        CDC_EV_XID                       = 16,
        CDC_EV_TABLE_MAP                 = 19,
        CDC_EV_WRITE_ROWS_V1             = 23,
        CDC_EV_UPDATE_ROWS_V1            = 24,
        CDC_EV_DELETE_ROWS_V1            = 25,
        CDC_EV_HEARTBEAT                 = 27,
        CDC_EV_WRITE_ROWS_V2             = 30,
        CDC_EV_UPDATE_ROWS_V2            = 31,
        CDC_EV_DELETE_ROWS_V2            = 32,
        CDC_EV_MYSQL_GTID                = 33,
        CDC_EV_MYSQL_ANON_GTID           = 34,
        CDC_EV_XA_PREPARE                = 38,
        CDC_EV_PARTIAL_UPDATE_ROWS       = 39,
        CDC_EV_ANNOTATE_ROWS             = 160,
        CDC_EV_BINLOG_CHECKPOINT         = 161,
        CDC_EV_GTID                      = 162,
        CDC_EV_GTID_LIST                 = 163,
        CDC_EV_WRITE_ROWS_COMPRESSED     = 166, /* .. 171 */
        CDC_EV_DELETE_ROWS_COMPRESSED_V2 = 171
};

#define CDC_EV_HEADER_LEN 19

/** A framed event: header fields and the body (CRC32 trailer removed). */
typedef struct cdc_rowdec_ev_s {
        uint32_t ts; /**< seconds since the epoch */
        uint8_t type;
        uint32_t server_id;
        uint32_t len;      /**< event length incl. header and CRC */
        uint32_t next_pos; /**< end position of the event in its file */
        uint16_t flags;
        const uint8_t *body; /**< borrowed from the input buffer */
        size_t body_len;
} cdc_rowdec_ev_t;

/**
 * @brief Frame one event: \p buf holds exactly the event (header, body,
 *        and the 4-byte CRC32 trailer when \p has_crc).
 * @returns CDC_ERR_NO_ERROR or CDC_ERR__BAD_EVENT (short, length mismatch,
 *          CRC mismatch) with the reason in \p errstr.
 */
cdc_err_t cdc_rowdec_event(const uint8_t *buf, size_t len, int has_crc,
                           cdc_rowdec_ev_t *ev, char *errstr,
                           size_t errstr_size);

/** @returns 1 if the last 4 bytes of the event are its CRC32. */
int cdc_rowdec_crc_ok(const uint8_t *buf, size_t len);

/**
 * @brief Whether a FORMAT_DESCRIPTION event (whole event, \p buf, \p len)
 *        announces CRC32 checksums on the events that follow.
 * @returns 1 (CRC32), 0 (none), -1 malformed.
 */
int cdc_rowdec_fde_has_crc(const uint8_t *buf, size_t len);

/* ---- time zones ---- */

typedef struct cdc_tz_s cdc_tz_t;

/**
 * @brief Load a zone: "UTC", "SYSTEM" (treated as UTC), "+HH:MM" /
 *        "-HH:MM", or an IANA name read from the system zoneinfo (TZif).
 * @returns the zone or NULL with the reason in \p errstr.
 */
cdc_tz_t *cdc_tz_new(const char *name, char *errstr, size_t errstr_size);
void cdc_tz_destroy(cdc_tz_t *tz);

/**
 * @brief UTC offset in seconds of local wall-clock time \p local_s
 *        (seconds since 1970-01-01 00:00 of that wall clock). In a DST
 *        gap or overlap the offset in force before the change is used.
 */
int32_t cdc_tz_local_offset(const cdc_tz_t *tz, int64_t local_s);

/* ---- table map ---- */

typedef struct cdc_rowdec_col_s {
        uint8_t type; /**< real type (STRING's ENUM/SET resolved) */
        uint8_t nullable;
        uint8_t is_unsigned;
        uint8_t is_binary; /**< string column with the binary charset */
        uint8_t is_latin1; /**< text column in a latin1 collation */
        uint16_t meta;     /**< type metadata (see cdc_rowdec.c) */
        uint32_t charset;  /**< collation id, 0 if unknown */
        char *name;
        char **labels; /**< ENUM / SET labels (label_cnt of them) */
        uint32_t label_cnt;
} cdc_rowdec_col_t;

typedef struct cdc_rowdec_table_s {
        uint64_t id;
        char db[65];
        char name[65];
        uint32_t ncols;
        cdc_rowdec_col_t *cols;
        int has_names;   /**< COLUMN_NAME optional metadata present */
        int has_sign;    /**< SIGNEDNESS present */
        int has_charset; /**< DEFAULT/COLUMN_CHARSET present */
        int has_labels;  /**< ENUM/SET_STR_VALUE present (or none
                          *   needed) */
        uint8_t *raw;    /**< the TABLE_MAP body, to detect changes */
        size_t raw_len;
} cdc_rowdec_table_t;

/**
 * @brief Parse a TABLE_MAP event body (\p post_header_len from the FDE,
 *        normally 8).
 * @param tp set to a new table (cdc_rowdec_table_destroy) on success.
 */
cdc_err_t cdc_rowdec_table_map(const uint8_t *body, size_t len,
                               unsigned post_header_len,
                               cdc_rowdec_table_t **tp, char *errstr,
                               size_t errstr_size);

/**
 * @brief Only the table id, db and table name of a TABLE_MAP body: the
 *        cheap check done before parsing the columns.
 */
cdc_err_t cdc_rowdec_table_map_peek(const uint8_t *body, size_t len,
                                    unsigned post_header_len, uint64_t *idp,
                                    char *db, char *table);

void cdc_rowdec_table_destroy(cdc_rowdec_table_t *t);

/**
 * @brief Set the name, signedness, binary flag and labels of column \p i
 *        from another source (information_schema). Strings are copied.
 * @param labels comma-free label list, or NULL.
 * @returns 0 or -1 (allocation failure, bad index).
 */
int cdc_rowdec_table_set_col(cdc_rowdec_table_t *t, uint32_t i,
                             const char *name, int is_unsigned, int is_binary,
                             const char *const *labels, uint32_t label_cnt);

/* ---- rows ---- */

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
 */
cdc_err_t cdc_rowdec_row_next(const cdc_rowdec_table_t *t, cdc_rowdec_rows_t *r,
                              const cdc_tz_t *tz, json_t **beforep,
                              json_t **afterp, char *errstr,
                              size_t errstr_size);

/**
 * @brief Map one value of the text protocol (a snapshot's SELECT) the way
 *        the decoder maps the same column in a row image
 *        (schemas/events/README.md "Row values").
 * @param c column: type (CDC_T_*, the same numbers as MYSQL_TYPE_*),
 *        is_unsigned, is_binary (base64) and, for TIME, the fractional
 *        digits in meta. Other fields are not read.
 * @param val the text, NULL for SQL NULL.
 * @param tz zone DATETIME values are read in (NULL: UTC); TIMESTAMP text
 *        is read as UTC (the session time_zone is +00:00).
 * @returns a new reference, NULL on allocation failure.
 */
json_t *cdc_rowdec_text_value(const cdc_rowdec_col_t *c, const char *val,
                              size_t len, const cdc_tz_t *tz);

/**
 * @brief The text of cdc_time_format_us() ("YYYY-MM-DDTHH:MM:SS.ffffffZ"),
 *        computed without printf/gmtime (hot path).
 * @returns 27, or -1 (year outside 0..9999, buffer under 28 bytes).
 */
int cdc_rowdec_format_instant(char *buf, size_t size, int64_t epoch_us);

/**
 * @brief The JSON text of a MySQL 8 binary JSON value (a JSON column).
 * @param textp set to a malloc()ed NUL-terminated text (caller frees).
 * @returns 0, or -1 if malformed (nested deeper than 150, bad offsets).
 */
int cdc_rowdec_mysql_json(const uint8_t *p, size_t len, char **textp,
                          size_t *lenp);

/**
 * @brief Decode one DECIMAL(prec, scale) binary value into text.
 * @returns the bytes consumed, or -1 (short input, bad precision, small
 *          buffer).
 */
int cdc_rowdec_decimal(const uint8_t *p, size_t avail, unsigned prec,
                       unsigned scale, char *out, size_t out_size);

#endif
