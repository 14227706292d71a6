/**
 * @file cdc_penc.c
 * @brief Fast envelope and key encoder (see cdc_penc.h).
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

#include "cdc_penc.h"

typedef struct {
        char *b;
        size_t len, cap;
        int fail;
} penc_buf_t;

static int penc_grow(penc_buf_t *pb, size_t need) {
        size_t cap;
        char *b;
        if (pb->fail)
                return -1;
        if (pb->len + need + 1 <= pb->cap)
                return 0;
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

static void penc_put(penc_buf_t *pb, const char *s, size_t n) {
        if (penc_grow(pb, n))
                return;
        memcpy(pb->b + pb->len, s, n);
        pb->len += n;
}

#define PENC_LIT(pb, lit) penc_put(pb, lit, sizeof(lit) - 1)

static void penc_i64(penc_buf_t *pb, int64_t v) {
        char tmp[24];
        char *p    = tmp + sizeof(tmp);
        uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
        do {
                *--p = (char)('0' + u % 10);
                u /= 10;
        } while (u);
        if (v < 0)
                *--p = '-';
        penc_put(pb, p, (size_t)(tmp + sizeof(tmp) - p));
}

static void penc_str(penc_buf_t *pb, const char *s, size_t n) {
        static const char hex[] = "0123456789ABCDEF";
        size_t i, run = 0;

        if (penc_grow(pb, n + 2))
                return;
        pb->b[pb->len++] = '"';
        for (i = 0; i < n; i++) {
                unsigned char c = (unsigned char)s[i];
                char esc[7];
                size_t el = 2;
                if (c >= 0x20 && c != '"' && c != '\\')
                        continue;
                penc_put(pb, s + run, i - run);
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
                penc_put(pb, esc, el);
        }
        penc_put(pb, s + run, n - run);
        penc_put(pb, "\"", 1);
}

static void penc_cstr(penc_buf_t *pb, const char *s) {
        penc_str(pb, s, strlen(s));
}

/* Anything the fast path does not handle: jansson itself. */
static void penc_dump(penc_buf_t *pb, const json_t *v) {
        char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!s) {
                pb->fail = 1;
                return;
        }
        penc_put(pb, s, strlen(s));
        free(s);
}

static void penc_value(penc_buf_t *pb, const json_t *v) {
        switch (json_typeof(v)) {
        case JSON_INTEGER:
                penc_i64(pb, json_integer_value(v));
                break;
        case JSON_STRING:
                penc_str(pb, json_string_value(v), json_string_length(v));
                break;
        case JSON_NULL:
                PENC_LIT(pb, "null");
                break;
        case JSON_TRUE:
                PENC_LIT(pb, "true");
                break;
        case JSON_FALSE:
                PENC_LIT(pb, "false");
                break;
        default:
                penc_dump(pb, v);
        }
}

static void penc_row(penc_buf_t *pb, const json_t *row) {
        const char *k;
        json_t *v;
        int first = 1;

        if (!row || json_is_null(row)) {
                PENC_LIT(pb, "null");
                return;
        }
        if (!json_is_object(row)) {
                penc_dump(pb, row);
                return;
        }
        penc_put(pb, "{", 1);
        json_object_foreach((json_t *)row, k, v) {
                if (!first)
                        penc_put(pb, ",", 1);
                first = 0;
                penc_cstr(pb, k);
                penc_put(pb, ":", 1);
                penc_value(pb, v);
        }
        penc_put(pb, "}", 1);
}

char *cdc_penc_event(const cdc_event_t *ev, size_t *lenp) {
        const cdc_source_t *s = &ev->source;
        penc_buf_t pb         = { 0 };
        char op[2]            = { (char)ev->op, '\0' };

        penc_grow(&pb, 640);
        PENC_LIT(&pb, "{\"schema_version\":");
        penc_i64(&pb, CDC_EVENT_SCHEMA_VERSION);
        PENC_LIT(&pb, ",\"op\":");
        penc_cstr(&pb, op);
        PENC_LIT(&pb, ",\"before\":");
        penc_row(&pb, ev->before);
        PENC_LIT(&pb, ",\"after\":");
        penc_row(&pb, ev->after);
        PENC_LIT(&pb, ",\"source\":{\"connector\":\"followcdc\",\"version\":");
        penc_cstr(&pb, CDC_VERSION);
        PENC_LIT(&pb, ",\"name\":");
        penc_cstr(&pb, s->name);
        PENC_LIT(&pb, ",\"server_id\":");
        penc_i64(&pb, s->server_id);
        PENC_LIT(&pb, ",\"db\":");
        penc_cstr(&pb, s->db);
        PENC_LIT(&pb, ",\"table\":");
        penc_cstr(&pb, s->table);
        PENC_LIT(&pb, ",\"gtid\":");
        if (*s->gtid)
                penc_cstr(&pb, s->gtid);
        else
                PENC_LIT(&pb, "null");
        PENC_LIT(&pb, ",\"epoch\":");
        penc_i64(&pb, s->epoch);
        PENC_LIT(&pb, ",\"seq\":");
        penc_i64(&pb, (int64_t)s->seq);
        PENC_LIT(&pb, ",\"file\":");
        penc_cstr(&pb, s->file);
        PENC_LIT(&pb, ",\"pos\":");
        penc_i64(&pb, (int64_t)s->pos);
        PENC_LIT(&pb, ",\"row\":");
        penc_i64(&pb, s->row);
        PENC_LIT(&pb, ",\"ts_ms\":");
        penc_i64(&pb, s->ts_ms);
        if (s->snapshot)
                PENC_LIT(&pb, ",\"snapshot\":true},\"ts_ms\":");
        else
                PENC_LIT(&pb, ",\"snapshot\":false},\"ts_ms\":");
        penc_i64(&pb, ev->ts_ms);
        penc_put(&pb, "}", 1);
        if (pb.fail) {
                free(pb.b);
                return NULL;
        }
        pb.b[pb.len] = '\0';
        if (lenp)
                *lenp = pb.len;
        return pb.b;
}

char *cdc_penc_key(const json_t *row, const char *const *cols, size_t n,
                   size_t *lenp, char *errstr, size_t errstr_size) {
        penc_buf_t pb = { 0 };
        size_t i;

        if (n == 0) {
                snprintf(errstr, errstr_size, "no key columns");
                return NULL;
        }
        penc_grow(&pb, 64);
        penc_put(&pb, "[", 1);
        for (i = 0; i < n; i++) {
                json_t *v = json_object_get(row, cols[i]);
                if (!json_is_string(v) && !json_is_integer(v)) {
                        snprintf(errstr, errstr_size, "key column \"%s\" %s",
                                 cols[i],
                                 v ? "is not a string or integer"
                                   : "is missing from the row");
                        free(pb.b);
                        return NULL;
                }
                if (i)
                        penc_put(&pb, ",", 1);
                penc_value(&pb, v);
        }
        penc_put(&pb, "]", 1);
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
