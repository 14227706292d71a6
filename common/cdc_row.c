/**
 * @file cdc_row.c
 * @brief Flat row images (see cdc_row.h).
 */
#include <stdlib.h>
#include <string.h>

#include "cdc_row.h"
#include "cdc_time.h"

void cdc_row_clear(cdc_row_t *r) {
        uint32_t i;
        for (i = 0; i < r->n; i++)
                if (r->v[i].kind == CDC_RV_JSON)
                        json_decref(r->v[i].j);
        r->n = 0;
}

void cdc_row_free(cdc_row_t *r) {
        cdc_row_clear(r);
        free(r->v);
        r->v   = NULL;
        r->cap = 0;
}

int cdc_row_reserve(cdc_row_t *r, uint32_t n) {
        cdc_rv_t *v;
        if (n <= r->cap)
                return 0;
        v = realloc(r->v, (size_t)n * sizeof(*v));
        if (!v)
                return -1;
        r->v   = v;
        r->cap = n;
        return 0;
}

const cdc_rv_t *cdc_row_get(const cdc_row_t *r, const char *name) {
        uint32_t i;
        for (i = 0; i < r->n; i++)
                if (!strcmp(r->v[i].name, name))
                        return &r->v[i];
        return NULL;
}

json_t *cdc_rv_json(const cdc_rv_t *v) {
        char buf[CDC_TIME_TEXT_MAX + 1];
        int n;

        switch (v->kind) {
        case CDC_RV_NULL:
                return json_null();
        case CDC_RV_INT:
                return json_integer((json_int_t)v->i);
        case CDC_RV_INSTANT:
                n = cdc_time_format_us(buf, sizeof(buf), v->i);
                return n < 0 ? NULL : json_stringn_nocheck(buf, (size_t)n);
        case CDC_RV_JSON:
                return json_incref(v->j);
        }
        return NULL;
}

json_t *cdc_row_json(const cdc_row_t *r) {
        json_t *o = json_object();
        uint32_t i;

        if (!o)
                return NULL;
        for (i = 0; i < r->n; i++) {
                json_t *v = cdc_rv_json(&r->v[i]);
                if (!v || json_object_setn_new_nocheck(o, r->v[i].name,
                                                       r->v[i].name_len, v)) {
                        json_decref(o);
                        return NULL;
                }
        }
        return o;
}
