/**
 * @file cdc_mysqljson.c
 * @brief MySQL 8 binary JSON to JSON text (see cdc_mysqljson.h).
 *
 * Format (sql/json_binary.h): a type byte, then the value. Objects and
 * arrays ("containers", small with 2-byte or large with 4-byte offsets)
 * hold an element count and their byte size, key entries (offset,
 * length), then value entries (type, offset or an inlined small scalar);
 * offsets count from the container start. Scalars: literals, integers,
 * doubles, strings (a 7-bit varlen length) and "opaque" values carrying a
 * MySQL column type (DECIMAL, temporal types, anything else).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cdc_frame.h"
#include "cdc_mysqljson.h"
#include "cdc_value.h"

/*
 * Growable text buffer for the JSON text of a MySQL JSON value, with the
 * work budget of one decode (issue 8 #4). Entries of a container may
 * point at the same sub-container, so a hostile document of a few hundred
 * bytes stands for 2^depth values. A document MySQL writes is a tree:
 * every value but the top one has its own value entry of at least 3 bytes,
 * so it has fewer values than bytes, and its text is at most about 6
 * times its size (a string of control characters, each "\u00XX"). Past
 * either limit the document is malformed and the traversal stops.
 */
typedef struct jbuf_s {
        char *s;
        size_t len, cap;
        size_t values, max_values; /* values visited, the budget */
        size_t max_len;            /* text budget */
        int err;
} jbuf_t;

static void jb_put(jbuf_t *b, const char *s, size_t n) {
        if (b->err)
                return;
        if (n > b->max_len - b->len) {
                b->err = 1;
                return;
        }
        if (b->len + n + 1 > b->cap) {
                size_t cap = b->cap ? b->cap : 64;
                char *ns;
                while (cap < b->len + n + 1)
                        cap *= 2;
                ns = realloc(b->s, cap);
                if (!ns) {
                        b->err = 1;
                        return;
                }
                b->s   = ns;
                b->cap = cap;
        }
        memcpy(b->s + b->len, s, n);
        b->len += n;
        b->s[b->len] = '\0';
}

static void jb_str(jbuf_t *b, const char *s) {
        jb_put(b, s, strlen(s));
}

/* A JSON string literal: quotes, backslash and control characters
 * escaped; the bytes must be UTF-8 (checked by the caller's final
 * json_stringn). */
static void jb_quote(jbuf_t *b, const uint8_t *s, size_t n) {
        size_t i, run = 0;
        jb_put(b, "\"", 1);
        for (i = 0; i < n; i++) {
                char esc[8];
                uint8_t c = s[i];
                if (c >= 0x20 && c != '"' && c != '\\')
                        continue;
                jb_put(b, (const char *)s + run, i - run);
                run = i + 1;
                switch (c) {
                case '"':
                        jb_put(b, "\\\"", 2);
                        break;
                case '\\':
                        jb_put(b, "\\\\", 2);
                        break;
                case '\n':
                        jb_put(b, "\\n", 2);
                        break;
                case '\r':
                        jb_put(b, "\\r", 2);
                        break;
                case '\t':
                        jb_put(b, "\\t", 2);
                        break;
                default:
                        snprintf(esc, sizeof(esc), "\\u%04x", c);
                        jb_put(b, esc, 6);
                }
        }
        jb_put(b, (const char *)s + run, n - run);
        jb_put(b, "\"", 1);
}

/* data-length: 7 bits per byte, high bit = more. */
static int mj_varlen(const uint8_t *p, size_t avail, size_t *lenp,
                     size_t *usedp) {
        size_t v = 0, i;
        for (i = 0; i < 5 && i < avail; i++) {
                v |= (size_t)(p[i] & 0x7f) << (7 * i);
                if (!(p[i] & 0x80)) {
                        *lenp  = v;
                        *usedp = i + 1;
                        return 0;
                }
        }
        return -1;
}

/* Packed temporal values inside JSON (MySQL "my_packed_time"): TIME as
 * [-]((h << 12 | m << 6 | s) << 24 | us), the others as
 * ((((y * 13 + mo) << 5 | d) << 17 | h << 12 | m << 6 | s) << 24 | us).
 * @returns 0, or -1 for a value no MySQL column holds. */
static int mj_temporal(jbuf_t *b, uint8_t type, int64_t packed) {
        char buf[48];
        int neg = packed < 0;
        /* the magnitude in unsigned arithmetic: -INT64_MIN is undefined */
        uint64_t a  = neg ? (uint64_t)0 - (uint64_t)packed : (uint64_t)packed;
        uint64_t ip = a >> 24, us = a % (1 << 24);
        if (us > 999999)
                return -1;
        if (type == CDC_T_TIME) {
                uint64_t hms = ip;
                if (hms >> 12 > 838 || (hms >> 6) % 64 > 59 || hms % 64 > 59)
                        return -1;
                snprintf(buf, sizeof(buf), "\"%s%02u:%02u:%02u.%06u\"",
                         neg ? "-" : "", (unsigned)(hms >> 12),
                         (unsigned)((hms >> 6) % 64), (unsigned)(hms % 64),
                         (unsigned)us);
        } else {
                uint64_t ymd = ip >> 17, ym = ymd >> 5, hms = ip % (1 << 17);
                if (neg || ym / 13 > 9999 || hms >> 12 > 23 ||
                    (hms >> 6) % 64 > 59 || hms % 64 > 59)
                        return -1;
                if (type == CDC_T_DATE)
                        snprintf(buf, sizeof(buf), "\"%04u-%02u-%02u\"",
                                 (unsigned)(ym / 13), (unsigned)(ym % 13),
                                 (unsigned)(ymd % 32));
                else
                        snprintf(buf, sizeof(buf),
                                 "\"%04u-%02u-%02u %02u:%02u:%02u.%06u\"",
                                 (unsigned)(ym / 13), (unsigned)(ym % 13),
                                 (unsigned)(ymd % 32), (unsigned)(hms >> 12),
                                 (unsigned)((hms >> 6) % 64),
                                 (unsigned)(hms % 64), (unsigned)us);
        }
        jb_str(b, buf);
        return 0;
}

static int mj_value(jbuf_t *b, uint8_t type, const uint8_t *d, size_t len,
                    int depth);

/* A scalar stored in a value entry of a container (inlined or at an
 * offset from the container start \p base of \p blen bytes). */
static int mj_entry(jbuf_t *b, const uint8_t *base, size_t blen,
                    const uint8_t *e, int large, int depth) {
        uint8_t t  = e[0];
        uint32_t v = (uint32_t)(large ? cdc_le(e + 1, 4) : cdc_le(e + 1, 2));
        char buf[32];

        switch (t) { /* inlined scalars */
        case 0x04:
                jb_str(b, v == 1 ? "true" : v == 2 ? "false" : "null");
                if (v > 2)
                        return -1;
                return 0;
        case 0x05:
                /* inlined 16-bit values use the low two bytes even in
                 * a large container's 4-byte slot */
                snprintf(buf, sizeof(buf), "%d", (int)(int16_t)(v & 0xffff));
                jb_str(b, buf);
                return 0;
        case 0x06:
                snprintf(buf, sizeof(buf), "%u", v & 0xffff);
                jb_str(b, buf);
                return 0;
        case 0x07:
                if (large) {
                        snprintf(buf, sizeof(buf), "%d", (int)(int32_t)v);
                        jb_str(b, buf);
                        return 0;
                }
                break;
        case 0x08:
                if (large) {
                        snprintf(buf, sizeof(buf), "%u", (unsigned)v);
                        jb_str(b, buf);
                        return 0;
                }
                break;
        default:
                break;
        }
        if (v >= blen)
                return -1;
        return mj_value(b, t, base + v, blen - v, depth + 1);
}

static int mj_container(jbuf_t *b, const uint8_t *d, size_t len, int large,
                        int is_obj, int depth) {
        size_t w = large ? 4 : 2, cnt, size, i, hdr, ke, ve;
        if (len < 2 * w)
                return -1;
        cnt  = (size_t)cdc_le(d, (unsigned)w);
        size = (size_t)cdc_le(d + w, (unsigned)w);
        if (size > len || size < 2 * w)
                return -1;
        ke = is_obj ? w + 2 : 0; /* key entry: offset, u16 length */
        ve = 1 + w;              /* value entry: type, offset/inline */
        if (cnt > size / (ke + ve))
                return -1;
        hdr = 2 * w + cnt * (ke + ve);
        if (hdr > size)
                return -1;
        jb_put(b, is_obj ? "{" : "[", 1);
        for (i = 0; i < cnt; i++) {
                const uint8_t *vent = d + 2 * w + cnt * ke + i * ve;
                if (i)
                        jb_put(b, ",", 1);
                if (is_obj) {
                        const uint8_t *kent = d + 2 * w + i * ke;
                        size_t ko           = (size_t)cdc_le(kent, (unsigned)w);
                        size_t kl           = (size_t)cdc_le(kent + w, 2);
                        if (ko > size || kl > size - ko)
                                return -1;
                        jb_quote(b, d + ko, kl);
                        jb_put(b, ":", 1);
                }
                if (mj_entry(b, d, size, vent, large, depth) || b->err)
                        return -1;
        }
        jb_put(b, is_obj ? "}" : "]", 1);
        return 0;
}

static int mj_value(jbuf_t *b, uint8_t type, const uint8_t *d, size_t len,
                    int depth) {
        char buf[40];
        size_t l, used;

        if (depth > 150 || b->err || ++b->values > b->max_values) {
                b->err = 1;
                return -1;
        }
        switch (type) {
        case 0x00:
        case 0x01:
                return mj_container(b, d, len, type == 0x01, 1, depth);
        case 0x02:
        case 0x03:
                return mj_container(b, d, len, type == 0x03, 0, depth);
        case 0x04:
                if (len < 1 || d[0] > 2)
                        return -1;
                jb_str(b, d[0] == 1 ? "true" : d[0] == 2 ? "false" : "null");
                return 0;
        case 0x05:
        case 0x06:
                if (len < 2)
                        return -1;
                snprintf(buf, sizeof(buf), "%d",
                         type == 0x05 ? (int)(int16_t)cdc_le(d, 2)
                                      : (int)cdc_le(d, 2));
                jb_str(b, buf);
                return 0;
        case 0x07:
        case 0x08:
                if (len < 4)
                        return -1;
                if (type == 0x07)
                        snprintf(buf, sizeof(buf), "%d",
                                 (int)(int32_t)cdc_le(d, 4));
                else
                        snprintf(buf, sizeof(buf), "%u",
                                 (unsigned)cdc_le(d, 4));
                jb_str(b, buf);
                return 0;
        case 0x09:
        case 0x0a:
                if (len < 8)
                        return -1;
                if (type == 0x09)
                        snprintf(buf, sizeof(buf), "%lld",
                                 (long long)(int64_t)cdc_le(d, 8));
                else
                        snprintf(buf, sizeof(buf), "%llu",
                                 (unsigned long long)cdc_le(d, 8));
                jb_str(b, buf);
                return 0;
        case 0x0b: {
                double x;
                uint64_t u;
                if (len < 8)
                        return -1;
                u = cdc_le(d, 8);
                memcpy(&x, &u, 8);
                if (x != x || x - x != 0) /* NaN / inf: not JSON */
                        return -1;
                snprintf(buf, sizeof(buf), "%.17g", x);
                jb_str(b, buf);
                return 0;
        }
        case 0x0c:
                if (mj_varlen(d, len, &l, &used) || l > len - used)
                        return -1;
                jb_quote(b, d + used, l);
                return 0;
        case 0x0f: { /* opaque: MySQL type, length, data */
                uint8_t ft;
                const uint8_t *p;
                if (len < 1)
                        return -1;
                ft = d[0];
                if (mj_varlen(d + 1, len - 1, &l, &used) || l > len - 1 - used)
                        return -1;
                p = d + 1 + used;
                if (ft == CDC_T_NEWDECIMAL && l >= 2) {
                        char dec[80];
                        if (cdc_value_decimal(p + 2, l - 2, p[0], p[1], dec,
                                              sizeof(dec)) < 0)
                                return -1;
                        jb_str(b, dec);
                        return 0;
                }
                if ((ft == CDC_T_DATE || ft == CDC_T_TIME ||
                     ft == CDC_T_DATETIME || ft == CDC_T_TIMESTAMP) &&
                    l >= 8)
                        return mj_temporal(b, ft, (int64_t)cdc_le(p, 8));
                { /* anything else as MySQL prints it: base64:typeN:... */
                        char *s64 = malloc((l + 2) / 3 * 4 + 1);
                        if (!s64)
                                return -1;
                        snprintf(buf, sizeof(buf), "\"base64:type%u:", ft);
                        jb_str(b, buf);
                        jb_put(b, s64, cdc_value_base64_enc(p, l, s64));
                        jb_put(b, "\"", 1);
                        free(s64);
                        return 0;
                }
        }
        default:
                return -1;
        }
}

int cdc_mysqljson_text(const uint8_t *p, size_t len, char **textp,
                       size_t *lenp) {
        jbuf_t b;

        *textp = NULL;
        memset(&b, 0, sizeof(b));
        if (len > SIZE_MAX / 16 - 1024)
                return -1;
        b.max_values = len;
        b.max_len    = 16 * len + 1024;
        if (len == 0) { /* an empty value is the JSON null literal */
                jb_str(&b, "null");
        } else if (mj_value(&b, p[0], p + 1, len - 1, 0) || b.err) {
                free(b.s);
                return -1;
        }
        if (b.err) {
                free(b.s);
                return -1;
        }
        *textp = b.s;
        *lenp  = b.len;
        return 0;
}
