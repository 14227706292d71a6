/**
 * @file cdc_event_enc.c
 * @brief The one change event and message key encoder: cdc_event_encode()
 *        and cdc_key_from_row() of cdc_event.h.
 *
 * Writes straight into one buffer instead of building a temporary JSON
 * tree per event (the producer's hottest path: it halves the CPU per row).
 * The output is exactly jansson's json_dumps(JSON_COMPACT) of the envelope
 * (tests/unit/test_event_enc.c compares it with a jansson encoder kept as
 * the test oracle, tests/unit/event_oracle.c, on generated events).
 *
 * Output rules copied from jansson's dump with JSON_COMPACT: no blanks,
 * strings escape `"` `\` and control characters (\b \f \n \r \t, else
 * \u00XX upper case), other bytes (valid UTF-8, as jansson guarantees for
 * its strings) are written as they are; integers in decimal; reals and
 * anything unusual are delegated to json_dumps() itself.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdc_event.h"
#include "cdc_time.h"

#ifndef CDC_VERSION
#define CDC_VERSION "0"
#endif

typedef struct {
        char *b;
        size_t len, cap;
        int fail;
} enc_buf_t;

/* The slow path of enc_grow(): a bigger buffer. */
static int enc_grow_slow(enc_buf_t *pb, size_t need) {
        size_t cap;
        char *b;
        if (pb->fail)
                return -1;
        cap = pb->cap ? pb->cap : 256;
        while (cap < pb->len + need + 1)
                cap *= 2;
        b = realloc(pb->b, cap);
        if (!b) {
                pb->fail = 1;
                return -1;
        }
        pb->b   = b;
        pb->cap = cap;
        return 0;
}

/* Room for \p need more bytes (and a NUL). Inline: it runs for every
 * piece of every event, and almost always has the room already. */
static inline int enc_grow(enc_buf_t *pb, size_t need) {
        if (pb->len + need + 1 <= pb->cap && !pb->fail)
                return 0;
        return enc_grow_slow(pb, need);
}

static inline void enc_put(enc_buf_t *pb, const char *s, size_t n) {
        if (enc_grow(pb, n))
                return;
        memcpy(pb->b + pb->len, s, n);
        pb->len += n;
}

#define ENC_LIT(pb, lit) enc_put(pb, lit, sizeof(lit) - 1)

/* Two digits per division (cdc_digits2). */
static void enc_i64(enc_buf_t *pb, int64_t v) {
        char tmp[24];
        char *p    = tmp + sizeof(tmp);
        uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
        while (u >= 100) {
                unsigned r = (unsigned)(u % 100) * 2;
                u /= 100;
                *--p = cdc_digits2[r + 1];
                *--p = cdc_digits2[r];
        }
        if (u >= 10) {
                *--p = cdc_digits2[u * 2 + 1];
                *--p = cdc_digits2[u * 2];
        } else {
                *--p = (char)('0' + u);
        }
        if (v < 0)
                *--p = '-';
        enc_put(pb, p, (size_t)(tmp + sizeof(tmp) - p));
}

/* 1 for the bytes a JSON string must escape: controls, '"' and '\\'
 * (bytes from 0x80 are 0). */
static const unsigned char enc_esc[256] = {
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

/* Nonzero if one of the 8 bytes of \p x must be escaped: below 0x20,
 * '"' or '\\'. The exact "has a byte less than n" and "has a zero byte"
 * tests of Bit Twiddling Hacks (bytes from 0x80 never match). */
static inline uint64_t enc_esc8(uint64_t x) {
        const uint64_t ones = 0x0101010101010101ULL;
        const uint64_t high = 0x8080808080808080ULL;
        uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\');
        return (((x - ones * 0x20) & ~x) | ((q - ones) & ~q) |
                ((b - ones) & ~b)) &
               high;
}

/* 1 if none of the \p n bytes at \p s must be escaped: 8 at a time, the
 * last 8 overlapping the ones before (or, under 8, padded with a byte
 * that needs no escape). */
static inline int enc_plain(const char *s, size_t n) {
        uint64_t x = 0x6161616161616161ULL; /* "aaaaaaaa" */
        size_t i;

        if (n < 8) {
                memcpy(&x, s, n);
                return !enc_esc8(x);
        }
        for (i = 0; i + 8 < n; i += 8) {
                memcpy(&x, s + i, 8);
                if (enc_esc8(x))
                        return 0;
        }
        memcpy(&x, s + n - 8, 8);
        return !enc_esc8(x);
}

static void enc_str(enc_buf_t *pb, const char *s, size_t n) {
        static const char hex[] = "0123456789ABCDEF";
        size_t i = 0, run = 0;

        if (enc_grow(pb, n + 2))
                return;
        if (enc_plain(s, n)) {
                /* most strings: one copy between the quotes */
                char *p = pb->b + pb->len;
                p[0]    = '"';
                memcpy(p + 1, s, n);
                p[n + 1] = '"';
                pb->len += n + 2;
                return;
        }
        pb->b[pb->len++] = '"';
        /* most strings need no escape: check them 8 bytes at a time */
        while (i + 8 <= n) {
                uint64_t x;
                memcpy(&x, s + i, 8);
                if (enc_esc8(x))
                        break;
                i += 8;
        }
        for (; i < n; i++) {
                unsigned char c = (unsigned char)s[i];
                char esc[7];
                size_t el = 2;
                if (!enc_esc[c])
                        continue;
                enc_put(pb, s + run, i - run);
                run    = i + 1;
                esc[0] = '\\';
                switch (c) {
                case '"':
                        esc[1] = '"';
                        break;
                case '\\':
                        esc[1] = '\\';
                        break;
                case '\b':
                        esc[1] = 'b';
                        break;
                case '\f':
                        esc[1] = 'f';
                        break;
                case '\n':
                        esc[1] = 'n';
                        break;
                case '\r':
                        esc[1] = 'r';
                        break;
                case '\t':
                        esc[1] = 't';
                        break;
                default:
                        esc[1] = 'u';
                        esc[2] = '0';
                        esc[3] = '0';
                        esc[4] = hex[c >> 4];
                        esc[5] = hex[c & 15];
                        el     = 6;
                }
                enc_put(pb, esc, el);
        }
        enc_put(pb, s + run, n - run);
        enc_put(pb, "\"", 1);
}

static void enc_cstr(enc_buf_t *pb, const char *s) {
        enc_str(pb, s, strlen(s));
}

/* Anything the fast path does not handle: jansson itself. */
static void enc_dump(enc_buf_t *pb, const json_t *v) {
        char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!s) {
                pb->fail = 1;
                return;
        }
        enc_put(pb, s, strlen(s));
        free(s);
}

static void enc_value(enc_buf_t *pb, const json_t *v) {
        switch (json_typeof(v)) {
        case JSON_INTEGER:
                enc_i64(pb, json_integer_value(v));
                break;
        case JSON_STRING:
                enc_str(pb, json_string_value(v), json_string_length(v));
                break;
        case JSON_NULL:
                ENC_LIT(pb, "null");
                break;
        case JSON_TRUE:
                ENC_LIT(pb, "true");
                break;
        case JSON_FALSE:
                ENC_LIT(pb, "false");
                break;
        default:
                enc_dump(pb, v);
        }
}

static void enc_row(enc_buf_t *pb, const json_t *row) {
        const char *k;
        json_t *v;
        int first = 1;

        if (!row || json_is_null(row)) {
                ENC_LIT(pb, "null");
                return;
        }
        if (!json_is_object(row)) {
                enc_dump(pb, row);
                return;
        }
        enc_put(pb, "{", 1);
        json_object_foreach((json_t *)row, k, v) {
                if (!first)
                        enc_put(pb, ",", 1);
                first = 0;
                enc_cstr(pb, k);
                enc_put(pb, ":", 1);
                enc_value(pb, v);
        }
        enc_put(pb, "}", 1);
}

/* An instant: the string cdc_time_format_us() writes. */
static void enc_instant(enc_buf_t *pb, int64_t us) {
        int n;
        if (enc_grow(pb, CDC_TIME_TEXT_MAX + 2))
                return;
        pb->b[pb->len] = '"';
        n = cdc_time_format_us(pb->b + pb->len + 1, CDC_TIME_TEXT_MAX + 1, us);
        if (n < 0) {
                pb->fail = 1;
                return;
        }
        pb->len += (size_t)n + 1;
        pb->b[pb->len++] = '"';
}

static void enc_rv(enc_buf_t *pb, const cdc_rv_t *v) {
        switch (v->kind) {
        case CDC_RV_NULL:
                ENC_LIT(pb, "null");
                break;
        case CDC_RV_INT:
                enc_i64(pb, v->i);
                break;
        case CDC_RV_INSTANT:
                enc_instant(pb, v->i);
                break;
        case CDC_RV_JSON:
                enc_value(pb, v->j);
                break;
        }
}

/* A flat row: what enc_row() writes for its JSON object. */
static void enc_flat(enc_buf_t *pb, const cdc_row_t *row) {
        uint32_t i;
        enc_put(pb, "{", 1);
        for (i = 0; i < row->n; i++) {
                const cdc_rv_t *v = &row->v[i];
                if (i)
                        enc_put(pb, ",", 1);
                enc_str(pb, v->name, v->name_len);
                enc_put(pb, ":", 1);
                enc_rv(pb, v);
        }
        enc_put(pb, "}", 1);
}

char *cdc_event_encode(const cdc_event_t *ev, size_t *lenp) {
        const cdc_source_t *s = &ev->source;
        enc_buf_t pb          = { 0 };
        char op[2]            = { (char)ev->op, '\0' };

        enc_grow(&pb, 640);
        ENC_LIT(&pb, "{\"schema_version\":");
        enc_i64(&pb, CDC_EVENT_SCHEMA_VERSION);
        ENC_LIT(&pb, ",\"op\":");
        enc_cstr(&pb, op);
        ENC_LIT(&pb, ",\"before\":");
        if (ev->before_row)
                enc_flat(&pb, ev->before_row);
        else
                enc_row(&pb, ev->before);
        ENC_LIT(&pb, ",\"after\":");
        if (ev->after_row)
                enc_flat(&pb, ev->after_row);
        else
                enc_row(&pb, ev->after);
        ENC_LIT(&pb, ",\"source\":{\"connector\":\"followcdc\",\"version\":");
        enc_cstr(&pb, CDC_VERSION);
        ENC_LIT(&pb, ",\"name\":");
        enc_cstr(&pb, s->name);
        ENC_LIT(&pb, ",\"server_id\":");
        enc_i64(&pb, s->server_id);
        ENC_LIT(&pb, ",\"db\":");
        enc_cstr(&pb, s->db);
        ENC_LIT(&pb, ",\"table\":");
        enc_cstr(&pb, s->table);
        ENC_LIT(&pb, ",\"gtid\":");
        if (*s->gtid)
                enc_cstr(&pb, s->gtid);
        else
                ENC_LIT(&pb, "null");
        ENC_LIT(&pb, ",\"epoch\":");
        enc_i64(&pb, s->epoch);
        ENC_LIT(&pb, ",\"seq\":");
        enc_i64(&pb, (int64_t)s->seq);
        ENC_LIT(&pb, ",\"file\":");
        enc_cstr(&pb, s->file);
        ENC_LIT(&pb, ",\"pos\":");
        enc_i64(&pb, (int64_t)s->pos);
        ENC_LIT(&pb, ",\"row\":");
        enc_i64(&pb, s->row);
        ENC_LIT(&pb, ",\"ts_ms\":");
        enc_i64(&pb, s->ts_ms);
        if (s->snapshot)
                ENC_LIT(&pb, ",\"snapshot\":true},\"ts_ms\":");
        else
                ENC_LIT(&pb, ",\"snapshot\":false},\"ts_ms\":");
        enc_i64(&pb, ev->ts_ms);
        if (ev->oversized) {
                ENC_LIT(&pb, ",\"oversized\":");
                enc_dump(&pb, ev->oversized);
        }
        if (ev->op == CDC_OP_PURGE) {
                /* digits only (the producer builds it from an id) */
                ENC_LIT(&pb, ",\"purge\":{\"user\":");
                if (strlen(ev->purge_user) < 19)
                        enc_put(&pb, ev->purge_user, strlen(ev->purge_user));
                else
                        enc_cstr(&pb, ev->purge_user);
                ENC_LIT(&pb, "}");
        }
        enc_put(&pb, "}", 1);
        if (pb.fail) {
                free(pb.b);
                return NULL;
        }
        pb.b[pb.len] = '\0';
        if (lenp)
                *lenp = pb.len;
        return pb.b;
}

/* Writes key column \p col of a JSON row (\p flat NULL) or a flat one.
 * @returns 1, 0 if its value is not a string or integer, -1 if the row
 * has no such column. */
static int key_put(enc_buf_t *pb, const json_t *row, const cdc_row_t *flat,
                   const char *col) {
        const json_t *v;

        if (flat) {
                const cdc_rv_t *fv = cdc_row_get(flat, col);
                if (!fv)
                        return -1;
                if (fv->kind == CDC_RV_NULL ||
                    (fv->kind == CDC_RV_JSON && !json_is_string(fv->j) &&
                     !json_is_integer(fv->j)))
                        return 0;
                enc_rv(pb, fv);
                return 1;
        }
        v = json_object_get(row, col);
        if (!v)
                return -1;
        if (!json_is_string(v) && !json_is_integer(v))
                return 0;
        enc_value(pb, v);
        return 1;
}

/* The key of a JSON row (\p flat NULL) or of a flat one. */
static char *key_encode(const json_t *row, const cdc_row_t *flat,
                        const char *const *cols, size_t n, size_t *lenp,
                        char *errstr, size_t errstr_size) {
        enc_buf_t pb = { 0 };
        size_t i;
        int k;

        if (n == 0) {
                snprintf(errstr, errstr_size, "no key columns");
                return NULL;
        }
        enc_grow(&pb, 64);
        enc_put(&pb, "[", 1);
        for (i = 0; i < n; i++) {
                if (i)
                        enc_put(&pb, ",", 1);
                if ((k = key_put(&pb, row, flat, cols[i])) < 1) {
                        snprintf(errstr, errstr_size, "key column \"%s\" %s",
                                 cols[i],
                                 k ? "is missing from the row"
                                   : "is not a string or integer");
                        free(pb.b);
                        return NULL;
                }
        }
        enc_put(&pb, "]", 1);
        if (pb.fail) {
                snprintf(errstr, errstr_size, "out of memory");
                free(pb.b);
                return NULL;
        }
        pb.b[pb.len] = '\0';
        if (lenp)
                *lenp = pb.len;
        return pb.b;
}

char *cdc_key_from_row(const json_t *row, const char *const *cols, size_t n,
                       size_t *lenp, char *errstr, size_t errstr_size) {
        return key_encode(row, NULL, cols, n, lenp, errstr, errstr_size);
}

char *cdc_key_from_flat(const cdc_row_t *row, const char *const *cols, size_t n,
                        size_t *lenp, char *errstr, size_t errstr_size) {
        return key_encode(NULL, row, cols, n, lenp, errstr, errstr_size);
}
