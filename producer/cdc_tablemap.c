/**
 * @file cdc_tablemap.c
 * @brief TABLE_MAP parsing (see cdc_tablemap.h), after the MySQL
 *        replication documentation of Table_map_log_event: post-header
 *        (table id, flags), db and table names, column count, types,
 *        type metadata, NULL bitmap, then optional metadata fields
 *        (type, length, value).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cdc_frame.h"
#include "cdc_tablemap.h"

static int bit_get(const uint8_t *bm, uint32_t i) {
        return (bm[i >> 3] >> (i & 7)) & 1;
}

static char *dup_n(const uint8_t *s, size_t n) {
        char *d = malloc(n + 1);
        if (!d)
                return NULL;
        memcpy(d, s, n);
        d[n] = '\0';
        return d;
}

/* ---- table map ---- */

void cdc_tablemap_destroy(cdc_tablemap_t *t) {
        uint32_t i, j;
        if (!t)
                return;
        for (i = 0; t->cols && i < t->ncols; i++) {
                free(t->cols[i].name);
                for (j = 0; j < t->cols[i].label_cnt; j++)
                        free(t->cols[i].labels[j]);
                free(t->cols[i].labels);
        }
        free(t->cols);
        free(t->raw);
        free(t);
}

static int is_numeric(uint8_t type) {
        switch (type) {
        case CDC_T_TINY:
        case CDC_T_SHORT:
        case CDC_T_INT24:
        case CDC_T_LONG:
        case CDC_T_LONGLONG:
        case CDC_T_FLOAT:
        case CDC_T_DOUBLE:
        case CDC_T_NEWDECIMAL:
        case CDC_T_DECIMAL:
                return 1;
        default:
                return 0;
        }
}

static int is_character(uint8_t type) {
        switch (type) {
        case CDC_T_STRING:
        case CDC_T_VAR_STRING:
        case CDC_T_VARCHAR:
        case CDC_T_BLOB:
        case CDC_T_TINY_BLOB:
        case CDC_T_MEDIUM_BLOB:
        case CDC_T_LONG_BLOB:
                return 1;
        default:
                return 0;
        }
}

static int charset_is_latin1(uint32_t cs) {
        /* latin1 collations: 5 8 15 31 47 48 49 94 */
        return cs == 5 || cs == 8 || cs == 15 || cs == 31 || cs == 47 ||
               cs == 48 || cs == 49 || cs == 94;
}

static void col_set_charset(cdc_col_t *c, uint32_t cs) {
        c->charset   = cs;
        c->is_binary = cs == 63;
        c->is_latin1 = charset_is_latin1(cs);
}

cdc_err_t cdc_tablemap_peek(const uint8_t *body, size_t len,
                            unsigned post_header_len, uint64_t *idp, char *db,
                            char *table) {
        cdc_rd_t r     = { body, body + len };
        unsigned idlen = post_header_len == 6 ? 4 : 6;
        size_t n;

        if (!cdc_frame_phl_ok(CDC_EV_TABLE_MAP, post_header_len) ||
            cdc_rd_left(&r) < post_header_len)
                return CDC_ERR__BAD_EVENT;
        *idp = cdc_le(r.p, idlen);
        r.p += post_header_len;
        if (cdc_rd_left(&r) < 1)
                return CDC_ERR__BAD_EVENT;
        n = *r.p++;
        if (n > 64 || cdc_rd_left(&r) < n + 2)
                return CDC_ERR__BAD_EVENT;
        memcpy(db, r.p, n);
        db[n] = '\0';
        r.p += n + 1;
        n = *r.p++;
        if (n > 64 || cdc_rd_left(&r) < n + 1)
                return CDC_ERR__BAD_EVENT;
        memcpy(table, r.p, n);
        table[n] = '\0';
        return CDC_ERR_NO_ERROR;
}

/* Reads the labels of the ENUM (want=ENUM) or SET columns. */
static int tm_labels(cdc_tablemap_t *t, cdc_rd_t *v, uint8_t want) {
        uint32_t i;
        for (i = 0; i < t->ncols; i++) {
                cdc_col_t *c = &t->cols[i];
                uint64_t cnt, k;
                if (c->type != want)
                        continue;
                if (c->labels) /* a second list for the column */
                        return -1;
                if (cdc_rd_lenenc(v, &cnt) || cnt > 65535 ||
                    cnt > cdc_rd_left(v))
                        return -1;
                c->labels = calloc(cnt ? cnt : 1, sizeof(char *));
                if (!c->labels)
                        return -1;
                for (k = 0; k < cnt; k++) {
                        uint64_t l;
                        if (cdc_rd_lenenc(v, &l) || l > cdc_rd_left(v))
                                return -1;
                        c->labels[k] = dup_n(v->p, (size_t)l);
                        if (!c->labels[k])
                                return -1;
                        c->label_cnt = (uint32_t)k + 1;
                        v->p += l;
                }
        }
        return 0;
}

/* DEFAULT_CHARSET: the default collation of the character columns, then
 * (index among the character columns, collation) for the others, in
 * increasing index order. */
static int tm_default_charset(cdc_tablemap_t *t, cdc_rd_t *v) {
        uint32_t *chars = NULL, nchar = 0, i;
        uint64_t def, ci, cs, next = 0;
        int ret = -1;

        if (cdc_rd_lenenc(v, &def))
                return -1;
        chars = malloc((size_t)t->ncols * sizeof(*chars));
        if (!chars)
                return -1;
        for (i = 0; i < t->ncols; i++) {
                if (!is_character(t->cols[i].type))
                        continue;
                col_set_charset(&t->cols[i], (uint32_t)def);
                chars[nchar++] = i;
        }
        while (cdc_rd_left(v) > 0) {
                if (cdc_rd_lenenc(v, &ci) || cdc_rd_lenenc(v, &cs))
                        goto out;
                /* one pair per column, increasing: a repeated or
                 * out-of-order index is malformed, one past the character
                 * columns too */
                if (ci < next || ci >= nchar)
                        goto out;
                col_set_charset(&t->cols[chars[ci]], (uint32_t)cs);
                next = ci + 1;
        }
        ret = 0;
out:
        free(chars);
        return ret;
}

/* The optional metadata fields. Each field type may appear once: a
 * repeated one (a second ENUM label list replaced the first without its
 * count, issue 8 #3) is malformed. @returns 0 or -1 with \p why set. */
static int tm_optional(cdc_tablemap_t *t, cdc_rd_t *r, const char **why) {
        uint64_t seen = 0;

        *why = "malformed optional metadata";
        while (cdc_rd_left(r) > 0) {
                uint8_t ft = *r->p++;
                uint64_t flen;
                cdc_rd_t v;
                uint32_t i, k;

                if (cdc_rd_lenenc(r, &flen) || flen > cdc_rd_left(r))
                        return -1;
                v.p   = r->p;
                v.end = r->p + flen;
                r->p += flen;
                if (ft < 64) {
                        if (seen >> ft & 1) {
                                *why = "an optional metadata field appears "
                                       "twice";
                                return -1;
                        }
                        seen |= (uint64_t)1 << ft;
                }
                switch (ft) {
                case 1: /* SIGNEDNESS: one bit per numeric column */
                        for (i = 0, k = 0; i < t->ncols; i++) {
                                if (!is_numeric(t->cols[i].type))
                                        continue;
                                if ((k >> 3) >= flen)
                                        return -1;
                                t->cols[i].is_unsigned =
                                        (v.p[k >> 3] >> (7 - (k & 7))) & 1;
                                k++;
                        }
                        t->has_sign = 1;
                        break;
                case 2: /* DEFAULT_CHARSET */
                case 3: /* COLUMN_CHARSET: one per character column */
                        if (t->has_charset) { /* servers write one of them */
                                *why = "two charset fields";
                                return -1;
                        }
                        if (ft == 2 && tm_default_charset(t, &v))
                                return -1;
                        for (i = 0; ft == 3 && i < t->ncols; i++) {
                                uint64_t cs;
                                if (!is_character(t->cols[i].type))
                                        continue;
                                if (cdc_rd_lenenc(&v, &cs))
                                        return -1;
                                col_set_charset(&t->cols[i], (uint32_t)cs);
                        }
                        t->has_charset = 1;
                        break;
                case 4: /* COLUMN_NAME */
                        for (i = 0; i < t->ncols; i++) {
                                uint64_t l;
                                if (cdc_rd_lenenc(&v, &l) ||
                                    l > cdc_rd_left(&v) || l > 256 ||
                                    memchr(v.p, 0, (size_t)l))
                                        return -1;
                                free(t->cols[i].name);
                                t->cols[i].name = dup_n(v.p, (size_t)l);
                                if (!t->cols[i].name)
                                        return -1;
                                v.p += l;
                        }
                        t->has_names = 1;
                        break;
                case 5: /* SET_STR_VALUE */
                        if (tm_labels(t, &v, CDC_T_SET))
                                return -1;
                        t->has_labels = 1;
                        break;
                case 6: /* ENUM_STR_VALUE */
                        if (tm_labels(t, &v, CDC_T_ENUM))
                                return -1;
                        t->has_labels = 1;
                        break;
                default: /* geometry types, keys, enum/set charsets */
                        break;
                }
        }
        return 0;
}

static int tm_name_cmp(const void *a, const void *b) {
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Are the (all set) column names of \p t distinct? @returns 1 yes, 0 no,
 * -1 out of memory. */
static int tm_names_distinct(const cdc_tablemap_t *t) {
        const char **sorted;
        uint32_t i;

        sorted = malloc((size_t)(t->ncols ? t->ncols : 1) * sizeof(*sorted));
        if (!sorted)
                return -1;
        for (i = 0; i < t->ncols; i++)
                sorted[i] = t->cols[i].name;
        qsort(sorted, t->ncols, sizeof(*sorted), tm_name_cmp);
        for (i = 1; i < t->ncols; i++)
                if (!strcmp(sorted[i - 1], sorted[i]))
                        break;
        free(sorted);
        return i >= t->ncols;
}

/* Column names become the keys of every row object: each must be a
 * non-empty UTF-8 string, and no two alike (a second "id" would silently
 * replace the first one's value). @returns 0 or -1 with \p why set. */
static int tm_names_ok(const cdc_tablemap_t *t, const char **why) {
        uint32_t i;

        for (i = 0; i < t->ncols; i++) {
                json_t *s = json_string(t->cols[i].name);
                json_decref(s);
                if (!s || !t->cols[i].name[0]) {
                        *why = "column name is empty or not UTF-8";
                        return -1;
                }
        }
        switch (tm_names_distinct(t)) {
        case 1:
                return 0;
        case 0:
                *why = "two columns have the same name";
                return -1;
        default:
                *why = "out of memory";
                return -1;
        }
}

cdc_err_t cdc_tablemap_parse(const uint8_t *body, size_t len,
                             unsigned post_header_len, cdc_tablemap_t **tp,
                             char *errstr, size_t errstr_size) {
        cdc_tablemap_t *t = NULL;
        cdc_rd_t r        = { body, body + len }, m;
        uint64_t ncols, mlen;
        const uint8_t *types;
        uint32_t i;
        int need_labels = 0, need_sign, need_cs;
        cdc_err_t err   = CDC_ERR__BAD_EVENT;
        const char *why = "truncated";

        *tp = NULL;
        t   = calloc(1, sizeof(*t));
        if (!t) {
                err = CDC_ERR__NOMEM;
                why = "out of memory";
                goto out;
        }
        if (cdc_tablemap_peek(body, len, post_header_len, &t->id, t->db,
                              t->name))
                goto out;
        r.p += post_header_len;
        r.p += 1 + strlen(t->db) + 1;
        r.p += 1 + strlen(t->name) + 1;
        if (r.p > r.end || cdc_rd_lenenc(&r, &ncols))
                goto out;
        if (ncols == 0 || ncols > CDC_TABLEMAP_MAX_COLS ||
            ncols > cdc_rd_left(&r)) {
                why = "bad column count";
                goto out;
        }
        t->ncols = (uint32_t)ncols;
        types    = r.p;
        r.p += ncols;
        if (cdc_rd_lenenc(&r, &mlen) || mlen > cdc_rd_left(&r))
                goto out;
        m.p   = r.p;
        m.end = r.p + mlen;
        r.p += mlen;
        if (cdc_rd_left(&r) < (ncols + 7) / 8)
                goto out;
        t->cols = calloc(t->ncols, sizeof(*t->cols));
        if (!t->cols) {
                err = CDC_ERR__NOMEM;
                why = "out of memory";
                goto out;
        }
        for (i = 0; i < t->ncols; i++) {
                cdc_col_t *c = &t->cols[i];
                c->type      = types[i];
                c->nullable  = bit_get(r.p, i);
                switch (c->type) {
                case CDC_T_FLOAT:
                case CDC_T_DOUBLE:
                case CDC_T_BLOB:
                case CDC_T_TINY_BLOB:
                case CDC_T_MEDIUM_BLOB:
                case CDC_T_LONG_BLOB:
                case CDC_T_GEOMETRY:
                case CDC_T_JSON:
                case CDC_T_TIMESTAMP2:
                case CDC_T_DATETIME2:
                case CDC_T_TIME2:
                        if (cdc_rd_left(&m) < 1)
                                goto badmeta;
                        c->meta = *m.p++;
                        break;
                case CDC_T_VARCHAR:
                case CDC_T_VAR_STRING:
                        if (cdc_rd_left(&m) < 2)
                                goto badmeta;
                        c->meta = (uint16_t)cdc_le(m.p, 2);
                        m.p += 2;
                        break;
                case CDC_T_NEWDECIMAL:
                case CDC_T_BIT:
                        if (cdc_rd_left(&m) < 2)
                                goto badmeta;
                        c->meta = (uint16_t)(m.p[0] << 8 | m.p[1]);
                        m.p += 2;
                        break;
                case CDC_T_STRING:
                case CDC_T_ENUM:
                case CDC_T_SET: {
                        uint8_t b0, b1;
                        if (cdc_rd_left(&m) < 2)
                                goto badmeta;
                        b0 = m.p[0];
                        b1 = m.p[1];
                        m.p += 2;
                        if ((b0 & 0x30) != 0x30) {
                                /* CHAR longer than 255 bytes: the high
                                 * bits of the length live in byte 0 */
                                c->meta = (uint16_t)(b1 | (((b0 & 0x30) ^ 0x30)
                                                           << 4));
                                c->type = CDC_T_STRING;
                        } else {
                                c->meta = b1;
                                c->type = b0 == CDC_T_ENUM  ? CDC_T_ENUM
                                          : b0 == CDC_T_SET ? CDC_T_SET
                                                            : CDC_T_STRING;
                        }
                        if (c->type != CDC_T_STRING)
                                need_labels = 1;
                        break;
                }
                default:
                        break;
                }
        }
        r.p += (ncols + 7) / 8;
        if (tm_optional(t, &r, &why) == -1)
                goto out;
        /* the server writes a field only for tables that have such
         * columns: absent and not needed is complete */
        if (!need_labels)
                t->has_labels = 1;
        for (i = 0, need_sign = 0, need_cs = 0; i < t->ncols; i++) {
                need_sign |= is_numeric(t->cols[i].type);
                need_cs |= is_character(t->cols[i].type);
        }
        if (!need_sign)
                t->has_sign = 1;
        if (!need_cs)
                t->has_charset = 1;
        if (t->has_names && tm_names_ok(t, &why) == -1)
                goto out;
        t->raw = malloc(len);
        if (!t->raw) {
                err = CDC_ERR__NOMEM;
                why = "out of memory";
                goto out;
        }
        memcpy(t->raw, body, len);
        t->raw_len = len;
        *tp        = t;
        t          = NULL;
        err        = CDC_ERR_NO_ERROR;
        goto out;
badmeta:
        why = "column metadata truncated";
out:
        if (err != CDC_ERR_NO_ERROR)
                snprintf(errstr, errstr_size, "TABLE_MAP %s%s%s: %s",
                         t ? t->db : "", t ? "." : "", t ? t->name : "", why);
        cdc_tablemap_destroy(t);
        return err;
}

int cdc_tablemap_flat(cdc_tablemap_t *t) {
        uint32_t i;
        int d;

        if (t->flat)
                return t->flat > 0;
        t->flat = -1;
        for (i = 0; i < t->ncols; i++) {
                if (!t->cols[i].name || !t->cols[i].name[0])
                        return 0;
                t->cols[i].name_len = strlen(t->cols[i].name);
        }
        d       = tm_names_distinct(t);
        t->flat = d < 0 ? 0 /* out of memory: ask again */ : d ? 1 : -1;
        return d > 0;
}

int cdc_tablemap_set_col(cdc_tablemap_t *t, uint32_t i, const char *name,
                         int is_unsigned, int is_binary,
                         const char *const *labels, uint32_t label_cnt) {
        cdc_col_t *c;
        uint32_t j;

        if (!t || i >= t->ncols)
                return -1;
        c       = &t->cols[i];
        t->flat = 0;
        if (name) {
                char *n = strdup(name);
                if (!n)
                        return -1;
                free(c->name);
                c->name = n;
        }
        if (!t->has_sign && is_numeric(c->type))
                c->is_unsigned = (uint8_t)(is_unsigned != 0);
        if (!t->has_charset && is_character(c->type))
                c->is_binary = (uint8_t)(is_binary != 0);
        if (labels && !c->labels &&
            (c->type == CDC_T_ENUM || c->type == CDC_T_SET)) {
                c->labels = calloc(label_cnt ? label_cnt : 1, sizeof(char *));
                if (!c->labels)
                        return -1;
                for (j = 0; j < label_cnt; j++) {
                        c->labels[j] = strdup(labels[j]);
                        if (!c->labels[j])
                                return -1;
                        c->label_cnt = j + 1;
                }
        }
        return 0;
}
