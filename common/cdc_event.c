#include "cdc_event.h"

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

void cdc_event_version(const cdc_source_t *src, char *buf) {
        snprintf(buf, CDC_VERSION_LEN + 1,
                 "%010" PRIu32 "%020" PRIu64 "%010" PRIu32, src->epoch,
                 src->seq, src->row);
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

cdc_err_t cdc_event_parse(const char *buf, size_t len, cdc_event_t **evp,
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
