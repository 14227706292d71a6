/**
 * @file cdc_event.h
 * @brief The change event contract between producer and consumer:
 *        envelope encode / parse / validate, canonical message keys,
 *        topic names and the ordering version. UTC time text is
 *        cdc_time.h.
 *
 * The contract itself is schemas/events/cdc_event.schema.json and
 * schemas/events/README.md; this module implements it in C and is tested
 * against schemas/events/examples/{valid,invalid}/.
 *
 * Envelope (one JSON object per Kafka message value, UTF-8, compact):
 *
 *     {"schema_version":1, "op":"c|u|d|r",
 *      "before":{row}|null, "after":{row}|null,
 *      "source":{"connector":"followcdc","version":"0.1.0","name":"<prefix>",
 *                "server_id":1,"db":"followcdc","table":"follow",
 *                "gtid":"0-1-42"|null,"epoch":0,"seq":42,
 *                "file":"mysql-bin.000001","pos":4,"row":0,
 *                "ts_ms":<commit ms>,"snapshot":false},
 *      "ts_ms":<ms when the producer built it>}
 *
 * A delete is followed by a tombstone (same key, NULL value) that carries
 * the delete event again in its header CDC_EVENT_TOMBSTONE_HEADER, so the
 * delete survives log compaction (schemas/events/README.md "Tombstones").
 *
 * Control events (no row images; keys are JSON objects, never arrays, so
 * they cannot collide with a row key): op t (a TRUNCATE, one per
 * partition of the table's topic, key {"truncate":<partition>}) and op p
 * (a repair's purge of one user's edges, key {"purge":<user>}, with the
 * envelope field "purge":{"user":<id>}). schemas/events/README.md.
 */
#ifndef CDC_EVENT_H
#define CDC_EVENT_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "cdc_err.h"
#include "cdc_row.h"
#include "cdc_time.h" /* instants in row values (formerly declared here) */

#define CDC_EVENT_SCHEMA_VERSION 1

/** Length of the text form of an ordering version, without the NUL:
 *  10 digits epoch, 20 digits seq, 10 digits row. */
#define CDC_VERSION_LEN 40

typedef enum {
        CDC_OP_CREATE = 'c',
        CDC_OP_UPDATE = 'u',
        CDC_OP_DELETE = 'd',
        CDC_OP_READ   = 'r', /**< snapshot read (initial snapshot or repair) */
        /** Control: the table was truncated; every row of it with an
         *  older version is gone (no row images). */
        CDC_OP_TRUNCATE = 't',
        /** Control: every edge of the user named in `purge.user` whose
         *  version is older than this event's and that no newer event
         *  re-asserts is gone (a repair's reset; no row images). */
        CDC_OP_PURGE = 'p',
} cdc_op_t;

/** Longest user id text of a purge event (decimal, BIGINT UNSIGNED). */
#define CDC_EVENT_USER_MAX 20

/**
 * Where a change came from. Public value type.
 *
 * Ordering: every change of one source is ordered by (epoch, seq, row):
 * - seq: on MariaDB the sum of every GTID domain's sequence number once
 *   the transaction is applied (the transaction's own sequence number
 *   with one domain; gtid_strict_mode keeps it increasing across domains
 *   and failover). On a server without usable GTIDs, (binlog file number
 *   << 40) | position of the transaction start.
 * - Versions of different sources (name) are never compared.
 * - row: index of the row change within its transaction (0-based,
 *   counting the rows of the captured tables in the transaction).
 * - epoch: set by configuration (`source.epoch`); bump it when the
 *   source moves to a server whose seq is not a continuation (e.g. a
 *   MySQL failover without GTID), so every later change wins.
 * - A snapshot read carries the snapshot's position: (epoch, seq, 0)
 *   where seq is that of the last transaction visible to the snapshot.
 */
typedef struct cdc_source_s {
        char name[128];     /**< logical source name = topic prefix */
        uint32_t server_id; /**< server id that wrote the change */
        char db[65];        /**< database (schema) */
        char table[65];     /**< table */
        char gtid[128];     /**< "domain-server-seq", "" when none */
        uint32_t epoch;
        uint64_t seq;
        char file[256]; /**< binlog file of the transaction */
        uint64_t pos;   /**< position of the transaction start */
        uint32_t row;
        int64_t ts_ms; /**< commit time (ms since epoch, UTC) */
        int snapshot;  /**< 1 for op r */
} cdc_source_t;

typedef struct cdc_event_s {
        cdc_op_t op;
        json_t *before; /**< row object or NULL (owned) */
        json_t *after;  /**< row object or NULL (owned) */
        /** Producer only: flat row images (borrowed) the encoder writes
         *  instead of before / after when set (cdc_row.h). */
        const cdc_row_t *before_row;
        const cdc_row_t *after_row;
        cdc_source_t source;
        int64_t ts_ms; /**< when the producer built the event */
        /** NULL, or which column values of before/after the producer
         *  replaced by CDC_EVENT_OVERSIZED_MARKER to fit the Kafka message
         *  size limit: {"after":{"<column>":<original JSON bytes>},...}
         *  (owned; the envelope's "oversized" field). */
        json_t *oversized;
        /** op p: decimal text of the user whose edges are purged
         *  (envelope field "purge": {"user": <id>}); "" otherwise. */
        char purge_user[CDC_EVENT_USER_MAX + 1];
} cdc_event_t;

/** Header of a tombstone: its value is the envelope of the delete event
 *  the tombstone follows, byte for byte. Log compaction may remove the
 *  delete event and keep the tombstone (until the topic's
 *  delete.retention.ms): a consumer that lagged applies the delete from
 *  this header, version-checked like the event itself. */
#define CDC_EVENT_TOMBSTONE_HEADER "followcdc.delete"

/** The value that stands in for a column value too large for one Kafka
 *  message (schemas/events/README.md "Oversized values"). */
#define CDC_EVENT_OVERSIZED_MARKER "__followcdc_oversized__"

/**
 * @brief New zeroed event for \p op.
 * @returns the event, or NULL on allocation failure.
 */
cdc_event_t *cdc_event_new(cdc_op_t op);

/** @brief Free \p ev and its row images. NULL: no-op. */
void cdc_event_destroy(cdc_event_t *ev);

/**
 * @brief Encode \p ev as compact JSON (the envelope above, fields in that
 *        order, then "oversized" when set). Implemented in
 *        cdc_event_enc.c, the one encoder of the contract.
 * @returns a malloc()ed NUL-terminated string (caller frees) and its
 *          length in \p lenp, or NULL on allocation failure.
 * @locality any thread
 */
char *cdc_event_encode(const cdc_event_t *ev, size_t *lenp);

/**
 * @brief Check a decoded envelope against the contract (the same rules
 *        as schemas/events/cdc_event.schema.json).
 * @returns CDC_ERR_NO_ERROR or CDC_ERR__BAD_EVENT with the JSON path of
 *          the first problem and why in \p errstr.
 */
cdc_err_t cdc_event_validate(const json_t *root, char *errstr,
                             size_t errstr_size);

/**
 * @brief Parse and validate one message value. Input is untrusted.
 * @param evp set to the new event (caller destroys) on success, NULL else.
 * @returns CDC_ERR_NO_ERROR, CDC_ERR__BAD_EVENT (reason in errstr) or
 *          CDC_ERR__NOMEM.
 * @locality any thread
 */
cdc_err_t cdc_event_parse(const char *buf, size_t len, cdc_event_t **evp,
                          char *errstr, size_t errstr_size);

/** @returns the row image that describes the row after the change
 *  (after for c/u/r, before for d). Borrowed. */
const json_t *cdc_event_row(const cdc_event_t *ev);

/**
 * @brief Ordering version of a change: fixed-width decimal text
 *        "EEEEEEEEEESSSSSSSSSSSSSSSSSSSSRRRRRRRRRR" of (epoch, seq, row),
 *        so a plain string comparison (Lua `<`, strcmp) orders versions.
 * @param buf at least CDC_VERSION_LEN + 1 bytes.
 */
void cdc_event_version(const cdc_source_t *src, char *buf);

/* ---- canonical message key ---- */

/**
 * @brief Canonical message key of \p row: the JSON array of the values of
 *        its key columns \p cols (n of them) in that order, compact, UTF-8
 *        (jansson's JSON_COMPACT output), e.g. `[42,77]` or `["req-1"]`.
 *        Implemented in cdc_event_enc.c.
 * @returns malloc()ed key (caller frees) and its length, or NULL with the
 *          reason in errstr (no columns, a column missing or not a string
 *          or integer, out of memory).
 * @locality any thread
 */
char *cdc_key_from_row(const json_t *row, const char *const *cols, size_t n,
                       size_t *lenp, char *errstr, size_t errstr_size);

/** @brief cdc_key_from_row() of a flat row image: the same key. */
char *cdc_key_from_flat(const cdc_row_t *row, const char *const *cols, size_t n,
                        size_t *lenp, char *errstr, size_t errstr_size);

/**
 * @brief Parse a message key. Untrusted input.
 * @param arrp set to a new JSON array reference on success.
 */
cdc_err_t cdc_key_parse(const char *buf, size_t len, json_t **arrp,
                        char *errstr, size_t errstr_size);

/* ---- topics ---- */

/**
 * @brief Topic of a table: `<prefix>.<db>.<table>`.
 * @returns 0, or -1 if it does not fit or is not a legal Kafka topic name.
 */
int cdc_topic_name(char *buf, size_t size, const char *prefix, const char *db,
                   const char *table);

#endif
