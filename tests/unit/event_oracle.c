/**
 * @file event_oracle.c
 * @brief jansson-built change events and keys (see event_oracle.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event_oracle.h"

#ifndef CDC_VERSION
#define CDC_VERSION "0"
#endif

static int oracle_set(json_t *obj, const char *key, json_t *v) {
        return json_object_set_new(obj, key, v); /* consumes v, even NULL */
}

json_t *oracle_event_json(const cdc_event_t *ev) {
        const cdc_source_t *s = &ev->source;
        json_t *root          = json_object();
        json_t *src           = json_object();
        char op[2]            = { (char)ev->op, '\0' };
        int r                 = 0;

        if (!root || !src)
                goto fail;
        r |= oracle_set(src, "connector", json_string("followcdc"));
        r |= oracle_set(src, "version", json_string(CDC_VERSION));
        r |= oracle_set(src, "name", json_string(s->name));
        r |= oracle_set(src, "server_id", json_integer(s->server_id));
        r |= oracle_set(src, "db", json_string(s->db));
        r |= oracle_set(src, "table", json_string(s->table));
        r |= oracle_set(src, "gtid",
                        *s->gtid ? json_string(s->gtid) : json_null());
        r |= oracle_set(src, "epoch", json_integer(s->epoch));
        r |= oracle_set(src, "seq", json_integer((json_int_t)s->seq));
        r |= oracle_set(src, "file", json_string(s->file));
        r |= oracle_set(src, "pos", json_integer((json_int_t)s->pos));
        r |= oracle_set(src, "row", json_integer(s->row));
        r |= oracle_set(src, "ts_ms", json_integer(s->ts_ms));
        r |= oracle_set(src, "snapshot", json_boolean(s->snapshot));

        r |= oracle_set(root, "schema_version",
                        json_integer(CDC_EVENT_SCHEMA_VERSION));
        r |= oracle_set(root, "op", json_string(op));
        r |= json_object_set(root, "before",
                             ev->before ? ev->before : json_null());
        r |= json_object_set(root, "after",
                             ev->after ? ev->after : json_null());
        r |= oracle_set(root, "source", src);
        src = NULL;
        r |= oracle_set(root, "ts_ms", json_integer(ev->ts_ms));
        if (ev->oversized)
                r |= json_object_set(root, "oversized", ev->oversized);
        if (r)
                goto fail;
        return root;
fail:
        json_decref(src);
        json_decref(root);
        return NULL;
}

char *oracle_event_encode(const cdc_event_t *ev, size_t *lenp) {
        json_t *root = oracle_event_json(ev);
        char *s;

        if (!root)
                return NULL;
        s = json_dumps(root, JSON_COMPACT);
        json_decref(root);
        if (s && lenp)
                *lenp = strlen(s);
        return s;
}

char *oracle_key_from_row(const json_t *row, const char *const *cols, size_t n,
                          size_t *lenp, char *errstr, size_t errstr_size) {
        json_t *arr = json_array();
        char *s     = NULL;
        size_t i;

        if (!arr || n == 0) {
                snprintf(errstr, errstr_size, "no key");
                json_decref(arr);
                return NULL;
        }
        for (i = 0; i < n; i++) {
                json_t *v = json_object_get(row, cols[i]);
                if (!json_is_string(v) && !json_is_integer(v)) {
                        snprintf(errstr, errstr_size, "key column \"%s\"",
                                 cols[i]);
                        goto out;
                }
                if (json_array_append(arr, v))
                        goto out;
        }
        s = json_dumps(arr, JSON_COMPACT);
        if (s && lenp)
                *lenp = strlen(s);
out:
        json_decref(arr);
        return s;
}
