/**
 * @file cdc_frame.h
 * @brief Binlog event framing: the 19-byte v4 event header, the CRC32
 *        trailer, and the FORMAT_DESCRIPTION event that says whether
 *        trailers follow and how long each event type's post-header is.
 *
 * First step of a row's decoding: cdc_frame (event) -> cdc_tablemap
 * (TABLE_MAP) -> cdc_rowdec (rows event, row images) -> cdc_value (one
 * column value). All input is untrusted: malformed data yields
 * CDC_ERR__BAD_EVENT with the reason, never a read out of bounds.
 *
 * Internal to the producer (used by cdc_stream.c, the tests and fuzzers).
 */
#ifndef CDC_FRAME_H
#define CDC_FRAME_H

#include <stddef.h>
#include <stdint.h>
#include "cdc_err.h"

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
typedef struct cdc_frame_s {
        uint32_t ts; /**< seconds since the epoch */
        uint8_t type;
        uint32_t server_id;
        uint32_t len;      /**< event length incl. header and CRC */
        uint32_t next_pos; /**< end position of the event in its file */
        uint16_t flags;
        const uint8_t *body; /**< borrowed from the input buffer */
        size_t body_len;
} cdc_frame_t;

/**
 * @brief Frame one event: \p buf holds exactly the event (header, body,
 *        and the 4-byte CRC32 trailer when \p has_crc).
 * @returns CDC_ERR_NO_ERROR or CDC_ERR__BAD_EVENT (short, length mismatch,
 *          CRC mismatch) with the reason in \p errstr.
 */
cdc_err_t cdc_frame_parse(const uint8_t *buf, size_t len, int has_crc,
                          cdc_frame_t *ev, char *errstr, size_t errstr_size);

/** @returns 1 if the last 4 bytes of the event are its CRC32. */
int cdc_frame_crc_ok(const uint8_t *buf, size_t len);

/** What a FORMAT_DESCRIPTION event says about the events after it. */
typedef struct cdc_fde_s {
        int has_crc;      /**< events end with a CRC32 trailer */
        uint8_t phl[256]; /**< post-header length per event type, 0
                           *   when the event does not list it */
} cdc_fde_t;

/**
 * @brief Read a FORMAT_DESCRIPTION event (whole event: header, body and,
 *        when it announces CRC32, its trailer). Post-header lengths of
 *        the event types the decoder reads (QUERY, TABLE_MAP, rows v1 and
 *        v2) must be ones the servers write (v1 rows and TABLE_MAP 6 or
 *        8, v2 rows 10, QUERY 13 or more): another length would move
 *        every field after it.
 * @returns CDC_ERR_NO_ERROR or CDC_ERR__BAD_EVENT with the reason.
 */
cdc_err_t cdc_frame_fde(const uint8_t *buf, size_t len, cdc_fde_t *fde,
                        char *errstr, size_t errstr_size);

/**
 * @brief Whether a FORMAT_DESCRIPTION event (whole event, \p buf, \p len)
 *        announces CRC32 checksums on the events that follow.
 * @returns 1 (CRC32), 0 (none), -1 malformed.
 */
int cdc_frame_fde_has_crc(const uint8_t *buf, size_t len);

/**
 * @returns whether \p phl is a post-header length the decoder can read
 *          for event type \p type (see cdc_frame_fde); 1 for types whose
 *          post-header it does not read.
 */
int cdc_frame_phl_ok(uint8_t type, unsigned phl);

/** @brief Little-endian unsigned integer of \p n (at most 8) bytes. */
static inline uint64_t cdc_le(const uint8_t *p, unsigned n) {
        uint64_t v = 0;
        unsigned i;
        for (i = 0; i < n; i++)
                v |= (uint64_t)p[i] << (8 * i);
        return v;
}

/** @brief Big-endian unsigned integer of \p n (at most 8) bytes. */
static inline uint64_t cdc_be(const uint8_t *p, unsigned n) {
        uint64_t v = 0;
        unsigned i;
        for (i = 0; i < n; i++)
                v = (v << 8) | p[i];
        return v;
}

/** A read cursor over a bounded buffer (the decoder's codecs). */
typedef struct cdc_rd_s {
        const uint8_t *p;
        const uint8_t *end;
} cdc_rd_t;

/** @returns the bytes left after the cursor. */
static inline size_t cdc_rd_left(const cdc_rd_t *r) {
        return (size_t)(r->end - r->p);
}

/**
 * @brief Read a length-encoded integer (1, 3, 4 or 9 bytes: < 0xfb, or
 *        0xfc / 0xfd / 0xfe and 2 / 3 / 8 bytes) and move past it.
 * @returns 0, or -1 (truncated, or the first byte 0xfb / 0xff).
 */
static inline int cdc_rd_lenenc(cdc_rd_t *r, uint64_t *vp) {
        unsigned n;
        if (cdc_rd_left(r) < 1)
                return -1;
        if (r->p[0] < 0xfb) {
                *vp = r->p[0];
                r->p++;
                return 0;
        }
        if (r->p[0] == 0xfc)
                n = 2;
        else if (r->p[0] == 0xfd)
                n = 3;
        else if (r->p[0] == 0xfe)
                n = 8;
        else
                return -1;
        if (cdc_rd_left(r) < 1 + (size_t)n)
                return -1;
        *vp = cdc_le(r->p + 1, n);
        r->p += 1 + n;
        return 0;
}

#endif
