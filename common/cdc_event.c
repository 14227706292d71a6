#include "cdc_event.h"
#include "cdc_event_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

cdc_event_t *cdc_event_new(cdc_op_t op) {
        cdc_event_t *ev = calloc(1, sizeof(*ev));
        if (ev)
                ev->op = op;
        return ev;
}

void cdc_event_destroy(cdc_event_t *ev) {
        if (!ev)
                return;
        json_decref(ev->before);
        json_decref(ev->after);
        json_decref(ev->oversized);
        free(ev);
}

const json_t *cdc_event_row(const cdc_event_t *ev) {
        return ev->op == CDC_OP_DELETE ? ev->before : ev->after;
}

/* \p v in exactly \p width decimal digits, zero-padded (v fits). */
static void event_digits(char *p, uint64_t v, int width) {
        while (width-- > 0) {
                p[width] = (char)('0' + v % 10);
                v /= 10;
        }
}

void cdc_event_version(const cdc_source_t *src, char *buf) {
        /* as "%010u%020llu%010u", without printf (once per event) */
        event_digits(buf, src->epoch, 10);
        event_digits(buf + 10, src->seq, 20);
        event_digits(buf + 30, src->row, 10);
        buf[CDC_VERSION_LEN] = '\0';
}

/* ---- validate ---- */

#define V_FAIL(...)                                                            \
        do {                                                                   \
                snprintf(errstr, errstr_size, __VA_ARGS__);                    \
                return CDC_ERR__BAD_EVENT;                                     \
        } while (0)

static cdc_err_t event_check_row(const json_t *row, const char *name,
                                 char *errstr, size_t errstr_size) {
        const char *col;
        json_t *v;

        if (!json_is_object(row))
                V_FAIL("$.%s: expected an object", name);
        if (json_object_size(row) == 0)
                V_FAIL("$.%s: row image has no columns", name);
        json_object_foreach((json_t *)row, col, v) {
                if (!*col)
                        V_FAIL("$.%s: empty column name", name);
                if (json_is_object(v) || json_is_array(v))
                        V_FAIL("$.%s.%s: column values are scalars", name, col);
        }
        return CDC_ERR_NO_ERROR;
}

static cdc_err_t event_check_int(const json_t *obj, const char *key,
                                 json_int_t max, char *errstr,
                                 size_t errstr_size) {
        json_t *v = json_object_get(obj, key);
        if (!json_is_integer(v))
                V_FAIL("$.source.%s: expected an integer", key);
        if (json_integer_value(v) < 0 || json_integer_value(v) > max)
                V_FAIL("$.source.%s: %" JSON_INTEGER_FORMAT
                       " out of range [0, %" JSON_INTEGER_FORMAT "]",
                       key, json_integer_value(v), max);
        return CDC_ERR_NO_ERROR;
}

static cdc_err_t event_check_str(const json_t *obj, const char *key,
                                 size_t minlen, size_t maxlen, char *errstr,
                                 size_t errstr_size) {
        json_t *v = json_object_get(obj, key);
        size_t len;
        if (!json_is_string(v))
                V_FAIL("$.source.%s: expected a string", key);
        len = json_string_length(v);
        if (len < minlen || len > maxlen)
                V_FAIL("$.source.%s: length %zu not in [%zu, %zu]", key, len,
                       minlen, maxlen);
        if (memchr(json_string_value(v), '\0', len))
                V_FAIL("$.source.%s: contains NUL", key);
        return CDC_ERR_NO_ERROR;
}

/* A source name is a topic prefix, and the consumer stores it as the tag
 * of versions from that source: [A-Za-z0-9._-] only. */
static cdc_err_t event_check_name(const json_t *src, char *errstr,
                                  size_t errstr_size) {
        const char *s = json_string_value(json_object_get(src, "name"));

        for (; s && *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
                      (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' ||
                      *s == '-'))
                        V_FAIL("$.source.name: only [A-Za-z0-9._-] allowed");
        return CDC_ERR_NO_ERROR;
}

/* "oversized" (optional): {"before"|"after": {column: bytes >= 0}} */
static cdc_err_t event_check_oversized(const json_t *o, char *errstr,
                                       size_t errstr_size) {
        const char *img, *col;
        json_t *cols, *v;

        if (!o)
                return CDC_ERR_NO_ERROR;
        if (!json_is_object(o) || json_object_size(o) == 0)
                V_FAIL("$.oversized: expected a non-empty object");
        json_object_foreach((json_t *)o, img, cols) {
                if (strcmp(img, "before") && strcmp(img, "after"))
                        V_FAIL("$.oversized.%s: only before and after", img);
                if (!json_is_object(cols) || json_object_size(cols) == 0)
                        V_FAIL("$.oversized.%s: expected a non-empty object",
                               img);
                json_object_foreach(cols, col, v) {
                        if (!json_is_integer(v) || json_integer_value(v) < 0)
                                V_FAIL("$.oversized.%s.%s: expected a byte "
                                       "count",
                                       img, col);
                }
        }
        return CDC_ERR_NO_ERROR;
}

/* The user id of a purge: a non-negative integer, or the decimal text of
 * one (BIGINT UNSIGNED above INT64_MAX) without leading zeros. Its text
 * goes to *out when \p out is not NULL (CDC_EVENT_USER_MAX + 1 bytes). */
static int event_purge_user(const json_t *p, char *out) {
        const json_t *u = json_is_object(p) ? json_object_get(p, "user") : NULL;
        char buf[32];
        const char *s;
        size_t len, i;

        if (!json_is_object(p) || json_object_size(p) != 1 || !u)
                return -1;
        if (json_is_integer(u)) {
                if (json_integer_value(u) < 0)
                        return -1;
                snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT,
                         json_integer_value(u));
                s = buf;
        } else if (json_is_string(u)) {
                s = json_string_value(u);
        } else {
                return -1;
        }
        len = strlen(s);
        if (!len || len > CDC_EVENT_USER_MAX || (len > 1 && s[0] == '0') ||
            (json_is_string(u) && len != json_string_length(u)))
                return -1;
        for (i = 0; i < len; i++)
                if (s[i] < '0' || s[i] > '9')
                        return -1;
        if (len == CDC_EVENT_USER_MAX && strcmp(s, "18446744073709551615") > 0)
                return -1;
        if (out)
                memcpy(out, s, len + 1);
        return 0;
}

static cdc_err_t event_check_purge(const json_t *p, char *errstr,
                                   size_t errstr_size) {
        if (event_purge_user(p, NULL))
                V_FAIL("$.purge: expected {\"user\": <id>} with an unsigned "
                       "64-bit id (integer or decimal string)");
        return CDC_ERR_NO_ERROR;
}

cdc_err_t cdc_event_validate(const json_t *root, char *errstr,
                             size_t errstr_size) {
        const json_t *v, *src, *before, *after;
        const char *op;
        cdc_err_t err;
        int snapshot;

        if (!json_is_object(root))
                V_FAIL("$: expected an object");
        v = json_object_get(root, "schema_version");
        if (!json_is_integer(v))
                V_FAIL("$.schema_version: expected an integer");
        if (json_integer_value(v) != CDC_EVENT_SCHEMA_VERSION)
                V_FAIL("$.schema_version: %" JSON_INTEGER_FORMAT
                       " is not supported (expected %d)",
                       json_integer_value(v), CDC_EVENT_SCHEMA_VERSION);
        v = json_object_get(root, "op");
        if (!json_is_string(v) || json_string_length(v) != 1 ||
            !strchr("cudrtp", *json_string_value(v)))
                V_FAIL("$.op: expected one of \"c\", \"u\", \"d\", \"r\", "
                       "\"t\", \"p\"");
        op = json_string_value(v);

        before = json_object_get(root, "before");
        after  = json_object_get(root, "after");
        if (!before || !after)
                V_FAIL("$: \"before\" and \"after\" are required "
                       "(null when absent)");
        switch (*op) {
        case 'c':
        case 'r':
                if (!json_is_null(before))
                        V_FAIL("$.before: must be null for op %s", op);
                if ((err = event_check_row(after, "after", errstr,
                                           errstr_size)))
                        return err;
                break;
        case 'u':
                if ((err = event_check_row(before, "before", errstr,
                                           errstr_size)) ||
                    (err = event_check_row(after, "after", errstr,
                                           errstr_size)))
                        return err;
                break;
        case 'd':
                if (!json_is_null(after))
                        V_FAIL("$.after: must be null for op d");
                if ((err = event_check_row(before, "before", errstr,
                                           errstr_size)))
                        return err;
                break;
        case 't':
        case 'p':
                if (!json_is_null(before) || !json_is_null(after))
                        V_FAIL("$: before and after must be null for op %s",
                               op);
                break;
        }
        v = json_object_get(root, "purge");
        if (*op == 'p') {
                if ((err = event_check_purge(v, errstr, errstr_size)))
                        return err;
        } else if (v) {
                V_FAIL("$.purge: only for op p");
        }

        v = json_object_get(root, "ts_ms");
        if (!json_is_integer(v) || json_integer_value(v) < 0)
                V_FAIL("$.ts_ms: expected a non-negative integer");

        src = json_object_get(root, "source");
        if (!json_is_object(src))
                V_FAIL("$.source: expected an object");
        if ((err = event_check_str(src, "connector", 1, 64, errstr,
                                   errstr_size)) ||
            (err = event_check_str(src, "name", 1, 127, errstr, errstr_size)) ||
            (err = event_check_name(src, errstr, errstr_size)) ||
            (err = event_check_str(src, "db", 1, 64, errstr, errstr_size)) ||
            (err = event_check_str(src, "table", 1, 64, errstr, errstr_size)) ||
            (err = event_check_str(src, "file", 0, 255, errstr, errstr_size)) ||
            (err = event_check_int(src, "server_id", UINT32_MAX, errstr,
                                   errstr_size)) ||
            (err = event_check_int(src, "epoch", UINT32_MAX, errstr,
                                   errstr_size)) ||
            (err = event_check_int(src, "seq", INT64_MAX, errstr,
                                   errstr_size)) ||
            (err = event_check_int(src, "pos", INT64_MAX, errstr,
                                   errstr_size)) ||
            (err = event_check_int(src, "row", UINT32_MAX, errstr,
                                   errstr_size)) ||
            (err = event_check_int(src, "ts_ms", INT64_MAX, errstr,
                                   errstr_size)))
                return err;
        v = json_object_get(src, "gtid");
        if (!v || (!json_is_null(v) &&
                   (!json_is_string(v) || json_string_length(v) > 127)))
                V_FAIL("$.source.gtid: expected a string (max 127) or null");
        v = json_object_get(src, "snapshot");
        if (!json_is_boolean(v))
                V_FAIL("$.source.snapshot: expected a boolean");
        snapshot = json_is_true(v);
        if (snapshot != (*op == 'r'))
                V_FAIL("$.source.snapshot: must be %s for op %s",
                       *op == 'r' ? "true" : "false", op);
        v = json_object_get(src, "version");
        if (v && !json_is_string(v))
                V_FAIL("$.source.version: expected a string");
        return event_check_oversized(json_object_get(root, "oversized"), errstr,
                                     errstr_size);
}

/* ---- parse ---- */

static void event_copy_str(char *dst, size_t size, const json_t *v) {
        const char *s = json_is_string(v) ? json_string_value(v) : "";
        size_t len    = strlen(s);
        if (len >= size)
                len = size - 1; /* validated before: cannot happen */
        memcpy(dst, s, len);
        dst[len] = '\0';
}

cdc_err_t cdc_event_parse_full(const char *buf, size_t len, cdc_event_t **evp,
                               char *errstr, size_t errstr_size) {
        json_error_t jerr;
        json_t *root    = NULL, *src;
        cdc_event_t *ev = NULL;
        cdc_err_t err   = CDC_ERR__BAD_EVENT;

        *evp = NULL;
        if (!buf || !len) {
                snprintf(errstr, errstr_size, "empty message");
                goto out;
        }
        root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!root) {
                snprintf(errstr, errstr_size, "not JSON: line %d col %d: %s",
                         jerr.line, jerr.column, jerr.text);
                goto out;
        }
        if ((err = cdc_event_validate(root, errstr, errstr_size)))
                goto out;
        ev = cdc_event_new(
                (cdc_op_t)*json_string_value(json_object_get(root, "op")));
        if (!ev) {
                err = CDC_ERR__NOMEM;
                snprintf(errstr, errstr_size, "out of memory");
                goto out;
        }
        if (!json_is_null(json_object_get(root, "before")))
                ev->before = json_incref(json_object_get(root, "before"));
        if (!json_is_null(json_object_get(root, "after")))
                ev->after = json_incref(json_object_get(root, "after"));
        if (json_object_get(root, "oversized"))
                ev->oversized = json_incref(json_object_get(root, "oversized"));
        if (ev->op == CDC_OP_PURGE)
                (void)event_purge_user(json_object_get(root, "purge"),
                                       ev->purge_user); /* validated */
        ev->ts_ms = json_integer_value(json_object_get(root, "ts_ms"));
        src       = json_object_get(root, "source");
        event_copy_str(ev->source.name, sizeof(ev->source.name),
                       json_object_get(src, "name"));
        event_copy_str(ev->source.db, sizeof(ev->source.db),
                       json_object_get(src, "db"));
        event_copy_str(ev->source.table, sizeof(ev->source.table),
                       json_object_get(src, "table"));
        event_copy_str(ev->source.gtid, sizeof(ev->source.gtid),
                       json_object_get(src, "gtid"));
        event_copy_str(ev->source.file, sizeof(ev->source.file),
                       json_object_get(src, "file"));
        ev->source.server_id =
                (uint32_t)json_integer_value(json_object_get(src, "server_id"));
        ev->source.epoch =
                (uint32_t)json_integer_value(json_object_get(src, "epoch"));
        ev->source.seq =
                (uint64_t)json_integer_value(json_object_get(src, "seq"));
        ev->source.pos =
                (uint64_t)json_integer_value(json_object_get(src, "pos"));
        ev->source.row =
                (uint32_t)json_integer_value(json_object_get(src, "row"));
        ev->source.ts_ms    = json_integer_value(json_object_get(src, "ts_ms"));
        ev->source.snapshot = json_is_true(json_object_get(src, "snapshot"));

        *evp = ev;
        ev   = NULL;
        err  = CDC_ERR_NO_ERROR;
out:
        cdc_event_destroy(ev);
        json_decref(root);
        return err;
}

/* ---- parse: the fast path ----
 *
 * JSON parsing was about half of the consumer's CPU, nearly all of it in
 * jansson's parser (json_loadb: ~100,000 instructions for a 450-byte
 * event). The producer writes one shape only: compact, fields in a fixed
 * set, strings of printable ASCII mostly, integers. That shape is read
 * here in one pass, checking the rules of cdc_event_validate() on the
 * way; anything else (blanks, escapes, other bytes, reals, unknown or
 * duplicate fields, nesting, "oversized", a rule broken) declines, and
 * the full path (jansson + validate) decides and gives the reason. So the
 * fast path may only ever accept what the full one accepts, with the same
 * result: fuzz/fuzz_event_apply.c checks exactly that on every input. */

typedef struct {
        const char *p, *end;
} fp_t;

typedef struct {
        const char *s;
        size_t n;
} fp_str_t;

/* A string of printable ASCII without escapes. */
static int fp_str(fp_t *f, fp_str_t *out) {
        const char *p = f->p;

        if (p >= f->end || *p != '"')
                return -1;
        out->s = ++p;
        for (; p < f->end; p++) {
                unsigned char c = (unsigned char)*p;
                if (c == '"') {
                        out->n = (size_t)(p - out->s);
                        f->p   = p + 1;
                        return 0;
                }
                if (c < 0x20 || c > 0x7e || c == '\\')
                        return -1;
        }
        return -1;
}

/* An integer as jansson reads one (no leading zeros), at most 18 digits
 * (always in range); a real declines. */
static int fp_int(fp_t *f, int64_t *vp) {
        const char *p = f->p, *d;
        int neg       = 0;
        int64_t v     = 0;

        if (p < f->end && *p == '-') {
                neg = 1;
                p++;
        }
        d = p;
        while (p < f->end && *p >= '0' && *p <= '9') {
                if (p - d == 18)
                        return -1; /* a 19th digit may not fit */
                v = v * 10 + (*p - '0');
                p++;
        }
        if (p == d || (*d == '0' && p - d > 1))
                return -1;
        if (p < f->end && (*p == '.' || *p == 'e' || *p == 'E'))
                return -1;
        *vp  = neg ? -v : v;
        f->p = p;
        return 0;
}

static int fp_lit(fp_t *f, const char *lit, size_t n) {
        if ((size_t)(f->end - f->p) < n || memcmp(f->p, lit, n))
                return -1;
        f->p += n;
        return 0;
}

static int fp_char(fp_t *f, char c) {
        if (f->p >= f->end || *f->p != c)
                return -1;
        f->p++;
        return 0;
}

/* A key and its colon. */
static int fp_key(fp_t *f, fp_str_t *k) {
        return fp_str(f, k) || fp_char(f, ':') ? -1 : 0;
}

static int fp_keyis(const fp_str_t *k, const char *name, size_t n) {
        return k->n == n && !memcmp(k->s, name, n);
}

/* A row image: a non-empty object of scalars, or null (*rowp NULL). */
static int fp_row(fp_t *f, json_t **rowp) {
        json_t *row;

        *rowp = NULL;
        if (f->p < f->end && *f->p == 'n')
                return fp_lit(f, "null", 4);
        if (fp_char(f, '{') || !(row = json_object()))
                return -1;
        *rowp = row;
        for (;;) {
                fp_str_t k, sv;
                json_t *v;
                int64_t iv;

                if (fp_key(f, &k) || !k.n || json_object_getn(row, k.s, k.n))
                        return -1;
                if (f->p >= f->end)
                        return -1;
                switch (*f->p) {
                case '"':
                        v = fp_str(f, &sv) ? NULL
                                           : json_stringn_nocheck(sv.s, sv.n);
                        break;
                case 'n':
                        v = fp_lit(f, "null", 4) ? NULL : json_null();
                        break;
                case 't':
                        v = fp_lit(f, "true", 4) ? NULL : json_true();
                        break;
                case 'f':
                        v = fp_lit(f, "false", 5) ? NULL : json_false();
                        break;
                default:
                        v = fp_int(f, &iv) ? NULL : json_integer(iv);
                }
                if (!v || json_object_setn_new_nocheck(row, k.s, k.n, v))
                        return -1;
                if (!fp_char(f, '}'))
                        return 0;
                if (fp_char(f, ','))
                        return -1;
        }
}

/* The source fields, in the order of the encoder. */
enum {
        FS_CONNECTOR,
        FS_VERSION,
        FS_NAME,
        FS_SERVER_ID,
        FS_DB,
        FS_TABLE,
        FS_GTID,
        FS_EPOCH,
        FS_SEQ,
        FS_FILE,
        FS_POS,
        FS_ROW,
        FS_TS_MS,
        FS_SNAPSHOT,
        FS__CNT
};

#define FP_NAME(s) s, sizeof(s) - 1
static const struct {
        const char *name;
        size_t namelen;
        char kind;     /* s string, i integer, g string or null, b bool */
        size_t lo, hi; /* string length, or integer range */
} fp_src[FS__CNT] = {
        [FS_CONNECTOR] = { FP_NAME("connector"), 's', 1, 64 },
        [FS_VERSION]   = { FP_NAME("version"), 's', 0, SIZE_MAX },
        [FS_NAME]      = { FP_NAME("name"), 's', 1, 127 },
        [FS_SERVER_ID] = { FP_NAME("server_id"), 'i', 0, UINT32_MAX },
        [FS_DB]        = { FP_NAME("db"), 's', 1, 64 },
        [FS_TABLE]     = { FP_NAME("table"), 's', 1, 64 },
        [FS_GTID]      = { FP_NAME("gtid"), 'g', 0, 127 },
        [FS_EPOCH]     = { FP_NAME("epoch"), 'i', 0, UINT32_MAX },
        [FS_SEQ]       = { FP_NAME("seq"), 'i', 0, INT64_MAX },
        [FS_FILE]      = { FP_NAME("file"), 's', 0, 255 },
        [FS_POS]       = { FP_NAME("pos"), 'i', 0, INT64_MAX },
        [FS_ROW]       = { FP_NAME("row"), 'i', 0, UINT32_MAX },
        [FS_TS_MS]     = { FP_NAME("ts_ms"), 'i', 0, INT64_MAX },
        [FS_SNAPSHOT]  = { FP_NAME("snapshot"), 'b', 0, 1 },
};

static void fp_copy(char *dst, size_t size, const fp_str_t *s) {
        size_t n = s->n < size ? s->n : size - 1; /* checked: always n */
        memcpy(dst, s->s, n);
        dst[n] = '\0';
}

static int fp_source(fp_t *f, cdc_source_t *src, int *snapshotp) {
        fp_str_t str[FS__CNT] = { { NULL, 0 } };
        int64_t num[FS__CNT]  = { 0 };
        unsigned seen         = 0;
        int i;

        if (fp_char(f, '{'))
                return -1;
        for (;;) {
                fp_str_t k;

                if (fp_key(f, &k))
                        return -1;
                for (i = 0; i < FS__CNT &&
                            !fp_keyis(&k, fp_src[i].name, fp_src[i].namelen);
                     i++)
                        ;
                if (i == FS__CNT || (seen & (1u << i)))
                        return -1; /* unknown or duplicate */
                seen |= 1u << i;
                str[i].n = 0;
                switch (fp_src[i].kind) {
                case 'g':
                        if (f->p < f->end && *f->p == 'n') {
                                if (fp_lit(f, "null", 4))
                                        return -1;
                                str[i].s = "";
                                break;
                        }
                        /* fall through */
                case 's':
                        if (fp_str(f, &str[i]) || str[i].n < fp_src[i].lo ||
                            str[i].n > fp_src[i].hi)
                                return -1;
                        break;
                case 'i':
                        if (fp_int(f, &num[i]) || num[i] < 0 ||
                            (uint64_t)num[i] > fp_src[i].hi)
                                return -1;
                        break;
                default:
                        if (!fp_lit(f, "true", 4))
                                num[i] = 1;
                        else if (!fp_lit(f, "false", 5))
                                num[i] = 0;
                        else
                                return -1;
                }
                if (!fp_char(f, '}'))
                        break;
                if (fp_char(f, ','))
                        return -1;
        }
        if ((seen | (1u << FS_VERSION)) != (1u << FS__CNT) - 1)
                return -1; /* a required field missing */
        for (i = 0; i < (int)str[FS_NAME].n; i++) { /* event_check_name */
                char c = str[FS_NAME].s[i];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                      c == '-'))
                        return -1;
        }
        fp_copy(src->name, sizeof(src->name), &str[FS_NAME]);
        fp_copy(src->db, sizeof(src->db), &str[FS_DB]);
        fp_copy(src->table, sizeof(src->table), &str[FS_TABLE]);
        fp_copy(src->gtid, sizeof(src->gtid), &str[FS_GTID]);
        fp_copy(src->file, sizeof(src->file), &str[FS_FILE]);
        src->server_id = (uint32_t)num[FS_SERVER_ID];
        src->epoch     = (uint32_t)num[FS_EPOCH];
        src->seq       = (uint64_t)num[FS_SEQ];
        src->pos       = (uint64_t)num[FS_POS];
        src->row       = (uint32_t)num[FS_ROW];
        src->ts_ms     = num[FS_TS_MS];
        *snapshotp     = (int)num[FS_SNAPSHOT];
        return 0;
}

enum {
        FE_SCHEMA,
        FE_OP,
        FE_BEFORE,
        FE_AFTER,
        FE_SOURCE,
        FE_TS_MS,
        FE__CNT
};

int cdc_event_parse_fast(const char *buf, size_t len, cdc_event_t **evp) {
        static const struct {
                const char *name;
                size_t namelen;
        } names[FE__CNT] = {
                { FP_NAME("schema_version") }, { FP_NAME("op") },
                { FP_NAME("before") },         { FP_NAME("after") },
                { FP_NAME("source") },         { FP_NAME("ts_ms") },
        };
        fp_t f          = { buf, buf + len };
        cdc_event_t *ev = NULL;
        json_t *before = NULL, *after = NULL;
        fp_str_t op    = { NULL, 0 };
        int64_t schema = 0, ts = 0;
        unsigned seen = 0;
        int snapshot  = 0, i;
        cdc_source_t src;

        *evp = NULL;
        if (!buf || fp_char(&f, '{'))
                return 0;
        for (;;) {
                fp_str_t k;
                int bad;

                if (fp_key(&f, &k))
                        goto decline;
                for (i = 0; i < FE__CNT &&
                            !fp_keyis(&k, names[i].name, names[i].namelen);
                     i++)
                        ;
                if (i == FE__CNT || (seen & (1u << i)))
                        goto decline;
                seen |= 1u << i;
                switch (i) {
                case FE_SCHEMA:
                        bad = fp_int(&f, &schema);
                        break;
                case FE_OP:
                        bad = fp_str(&f, &op);
                        break;
                case FE_BEFORE:
                        bad = fp_row(&f, &before);
                        break;
                case FE_AFTER:
                        bad = fp_row(&f, &after);
                        break;
                case FE_SOURCE:
                        memset(&src, 0, sizeof(src));
                        bad = fp_source(&f, &src, &snapshot);
                        break;
                default:
                        bad = fp_int(&f, &ts);
                }
                if (bad)
                        goto decline;
                if (!fp_char(&f, '}'))
                        break;
                if (fp_char(&f, ','))
                        goto decline;
        }
        if (f.p != f.end || seen != (1u << FE__CNT) - 1 ||
            schema != CDC_EVENT_SCHEMA_VERSION || op.n != 1 || ts < 0)
                goto decline;
        switch (*op.s) {
        case 'c':
        case 'r':
                if (before || !after)
                        goto decline;
                break;
        case 'u':
                if (!before || !after)
                        goto decline;
                break;
        case 'd':
                if (!before || after)
                        goto decline;
                break;
        default:
                goto decline;
        }
        if (snapshot != (*op.s == 'r'))
                goto decline;
        ev = cdc_event_new((cdc_op_t)*op.s);
        if (!ev)
                goto decline;
        ev->before          = before;
        ev->after           = after;
        ev->source          = src;
        ev->source.snapshot = snapshot;
        ev->ts_ms           = ts;
        *evp                = ev;
        return 1;
decline:
        json_decref(before);
        json_decref(after);
        return 0;
}

/* ---- parse ---- */

cdc_err_t cdc_event_parse(const char *buf, size_t len, cdc_event_t **evp,
                          char *errstr, size_t errstr_size) {
        if (cdc_event_parse_fast(buf, len, evp))
                return CDC_ERR_NO_ERROR;
        return cdc_event_parse_full(buf, len, evp, errstr, errstr_size);
}

/* ---- keys ---- */

cdc_err_t cdc_key_parse(const char *buf, size_t len, json_t **arrp,
                        char *errstr, size_t errstr_size) {
        json_error_t jerr;
        json_t *arr, *v;
        size_t i;

        *arrp = NULL;
        arr   = json_loadb(buf, len, JSON_DECODE_ANY, &jerr);
        if (!arr) {
                snprintf(errstr, errstr_size, "key is not JSON: %s", jerr.text);
                return CDC_ERR__BAD_EVENT;
        }
        if (!json_is_array(arr) || json_array_size(arr) == 0) {
                snprintf(errstr, errstr_size,
                         "key is not a non-empty JSON array");
                json_decref(arr);
                return CDC_ERR__BAD_EVENT;
        }
        json_array_foreach(arr, i, v) {
                if (!json_is_string(v) && !json_is_integer(v)) {
                        snprintf(errstr, errstr_size,
                                 "key element %zu is not a string or "
                                 "integer",
                                 i);
                        json_decref(arr);
                        return CDC_ERR__BAD_EVENT;
                }
        }
        *arrp = arr;
        return CDC_ERR_NO_ERROR;
}

/* ---- topics ---- */

int cdc_topic_name(char *buf, size_t size, const char *prefix, const char *db,
                   const char *table) {
        int r = snprintf(buf, size, "%s.%s.%s", prefix, db, table);
        int i;

        if (r < 0 || (size_t)r >= size || r > 249)
                return -1;
        for (i = 0; i < r; i++) {
                char c = buf[i];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                      c == '-'))
                        return -1;
        }
        return 0;
}
