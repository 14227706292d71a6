/**
 * @file cdc_frame.c
 * @brief Binlog event header, CRC32 trailer and FORMAT_DESCRIPTION (see
 *        cdc_frame.h). Formats follow the MySQL/MariaDB replication
 *        protocol documentation (binlog event header v4,
 *        Format_description_log_event).
 */
#include <stdio.h>
#include <string.h>
#include <libdeflate.h>
#include "cdc_frame.h"

/* FORMAT_DESCRIPTION body: version(2) server_version(50) ts(4)
 * header_len(1), then one post-header length per event type from 1, then
 * the checksum algorithm (1) [and the CRC32 (4), framed away]. */
#define FDE_FIXED 57

cdc_err_t cdc_frame_parse(const uint8_t *buf, size_t len, int has_crc,
                          cdc_frame_t *ev, char *errstr, size_t errstr_size) {
        size_t tail = has_crc ? 4 : 0;

        memset(ev, 0, sizeof(*ev));
        if (!buf || len < CDC_EV_HEADER_LEN + tail) {
                snprintf(errstr, errstr_size, "event too short (%zu bytes)",
                         len);
                return CDC_ERR__BAD_EVENT;
        }
        ev->ts        = (uint32_t)cdc_le(buf, 4);
        ev->type      = buf[4];
        ev->server_id = (uint32_t)cdc_le(buf + 5, 4);
        ev->len       = (uint32_t)cdc_le(buf + 9, 4);
        ev->next_pos  = (uint32_t)cdc_le(buf + 13, 4);
        ev->flags     = (uint16_t)cdc_le(buf + 17, 2);
        if (ev->len != len) {
                snprintf(errstr, errstr_size,
                         "event type %u: length %u in header, %zu received",
                         ev->type, ev->len, len);
                return CDC_ERR__BAD_EVENT;
        }
        if (has_crc) {
                uint32_t want = (uint32_t)cdc_le(buf + len - 4, 4);
                uint32_t got  = libdeflate_crc32(0, buf, len - 4);
                if (want != got) {
                        snprintf(errstr, errstr_size,
                                 "event type %u at %u: CRC32 mismatch",
                                 ev->type, ev->next_pos);
                        return CDC_ERR__BAD_EVENT;
                }
        }
        ev->body     = buf + CDC_EV_HEADER_LEN;
        ev->body_len = len - CDC_EV_HEADER_LEN - tail;
        return CDC_ERR_NO_ERROR;
}

int cdc_frame_crc_ok(const uint8_t *buf, size_t len) {
        if (!buf || len < CDC_EV_HEADER_LEN + 4)
                return 0;
        return (uint32_t)cdc_le(buf + len - 4, 4) ==
               libdeflate_crc32(0, buf, len - 4);
}

int cdc_frame_fde_has_crc(const uint8_t *buf, size_t len) {
        size_t blen;
        const uint8_t *b;

        if (!buf || len < CDC_EV_HEADER_LEN + FDE_FIXED + 1)
                return -1;
        b    = buf + CDC_EV_HEADER_LEN;
        blen = len - CDC_EV_HEADER_LEN;
        if (blen >= FDE_FIXED + 5 && b[blen - 5] == 1) {
                uint32_t want = (uint32_t)cdc_le(buf + len - 4, 4);
                if (want == libdeflate_crc32(0, buf, len - 4))
                        return 1;
        }
        return 0;
}

int cdc_frame_phl_ok(uint8_t type, unsigned phl) {
        switch (type) {
        case CDC_EV_QUERY: /* MySQL and MariaDB write 13 */
                return phl >= 13;
        case CDC_EV_TABLE_MAP:
        case CDC_EV_WRITE_ROWS_V1:
        case CDC_EV_UPDATE_ROWS_V1:
        case CDC_EV_DELETE_ROWS_V1:
                /* table id of 4 (MySQL 5.1.0-5.1.15) or 6 bytes, flags */
                return phl == 6 || phl == 8;
        case CDC_EV_WRITE_ROWS_V2:
        case CDC_EV_UPDATE_ROWS_V2:
        case CDC_EV_DELETE_ROWS_V2:
                /* table id, flags, extra-info length */
                return phl == 10;
        default:
                return 1;
        }
}

cdc_err_t cdc_frame_fde(const uint8_t *buf, size_t len, cdc_fde_t *fde,
                        char *errstr, size_t errstr_size) {
        cdc_frame_t ev;
        int crc = cdc_frame_fde_has_crc(buf, len);
        size_t n, i;
        cdc_err_t err;

        memset(fde, 0, sizeof(*fde));
        if (crc < 0) {
                snprintf(errstr, errstr_size,
                         "FORMAT_DESCRIPTION: truncated (%zu bytes)", len);
                return CDC_ERR__BAD_EVENT;
        }
        err = cdc_frame_parse(buf, len, crc, &ev, errstr, errstr_size);
        if (err)
                return err;
        if (ev.body_len < FDE_FIXED + 1 ||
            ev.body[FDE_FIXED - 1] != CDC_EV_HEADER_LEN) {
                snprintf(errstr, errstr_size,
                         "FORMAT_DESCRIPTION: not a v4 binlog (header "
                         "length %u)",
                         ev.body_len >= FDE_FIXED ? ev.body[FDE_FIXED - 1] : 0);
                return CDC_ERR__BAD_EVENT;
        }
        n = ev.body_len - FDE_FIXED - 1; /* minus the checksum alg byte */
        if (n > 255)
                n = 255;
        for (i = 0; i < n; i++) {
                uint8_t type = (uint8_t)(i + 1);
                if (!cdc_frame_phl_ok(type, ev.body[FDE_FIXED + i])) {
                        snprintf(errstr, errstr_size,
                                 "FORMAT_DESCRIPTION: post-header length %u "
                                 "for event type %u is not one a server "
                                 "writes",
                                 ev.body[FDE_FIXED + i], type);
                        return CDC_ERR__BAD_EVENT;
                }
                fde->phl[type] = ev.body[FDE_FIXED + i];
        }
        fde->has_crc = crc;
        return CDC_ERR_NO_ERROR;
}
