/**
 * @file cdc_vsource.c
 * @brief Consistent, chunked reads of the source tables for verify.
 */
#include "cdc_vsource.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cdc_mysql.h"
#include "cdc_rowdec.h"
#include "cdc_snapshot.h"

struct cdc_vsource_s {
        cdc_mysql_target_t vs_tgt;
        cdc_mysql_opts_t vs_opts;
        MYSQL *vs_my;
        cdc_tz_t *vs_tz;
        uint32_t vs_epoch;
        int64_t vs_chunk;
        char vs_follow[80], vs_fr[80], vs_fe[80]; /* quoted identifiers */
        char vs_idem[80], vs_req[80];
        char vs_errstr[512];
};

/* `name` quoted; the names passed cdc_cconf_finalize()'s identifier
 * check, so no backquote can be inside. */
static void vsource_ident(char *buf, size_t size, const char *name) {
        snprintf(buf, size, "`%s`", name);
}

cdc_vsource_t *cdc_vsource_new(const cdc_vconf_t *vc, char *errstr,
                               size_t errstr_size) {
        cdc_vsource_t *vs     = calloc(1, sizeof(*vs));
        const cdc_cconf_t *cc = &vc->vc_cc;
        const char *db =
                vc->mysql_db && *vc->mysql_db ? vc->mysql_db : cc->source_db;

        if (!vs)
                goto nomem;
        if (cdc_mysql_target_set(&vs->vs_tgt, vc->mysql_host,
                                 (unsigned)vc->mysql_port, vc->mysql_socket,
                                 vc->mysql_user, vc->mysql_password, db) ||
            cdc_mysql_target_set_ssl(&vs->vs_tgt, vc->mysql_ssl_mode,
                                     vc->mysql_ssl_ca, vc->mysql_ssl_cert,
                                     vc->mysql_ssl_key))
                goto nomem;
        vs->vs_opts.connect_timeout_s =
                (unsigned)((vc->mysql_timeout_ms + 999) / 1000);
        vs->vs_opts.rw_timeout_s = vs->vs_opts.connect_timeout_s * 10;
        vs->vs_opts.charset      = "utf8mb4";
        vs->vs_tz = cdc_tz_new(cc->source_tz, errstr, errstr_size);
        if (!vs->vs_tz) {
                cdc_vsource_destroy(vs);
                return NULL;
        }
        vs->vs_epoch = (uint32_t)vc->source_epoch;
        vs->vs_chunk = vc->chunk_rows;
        vsource_ident(vs->vs_follow, sizeof(vs->vs_follow), cc->follow_table);
        /* a pair table (follow.model=pair) is read by its two user
         * columns the same way */
        vsource_ident(vs->vs_fr, sizeof(vs->vs_fr),
                      cc->cc_follow_model == CDC_APPLY_MODEL_PAIR
                              ? cc->follow_col_a
                              : cc->follow_col_follower);
        vsource_ident(vs->vs_fe, sizeof(vs->vs_fe),
                      cc->cc_follow_model == CDC_APPLY_MODEL_PAIR
                              ? cc->follow_col_b
                              : cc->follow_col_followee);
        vsource_ident(vs->vs_idem, sizeof(vs->vs_idem), cc->idem_table);
        vsource_ident(vs->vs_req, sizeof(vs->vs_req), cc->idem_col_request);
        return vs;
nomem:
        snprintf(errstr, errstr_size, "out of memory");
        cdc_vsource_destroy(vs);
        return NULL;
}

void cdc_vsource_destroy(cdc_vsource_t *vs) {
        if (!vs)
                return;
        if (vs->vs_my)
                mysql_close(vs->vs_my);
        cdc_tz_destroy(vs->vs_tz);
        cdc_mysql_target_clear(&vs->vs_tgt);
        free(vs);
}

const char *cdc_vsource_errstr(const cdc_vsource_t *vs) {
        return vs->vs_errstr;
}

static cdc_err_t vsource_err(cdc_vsource_t *vs, const char *what) {
        cdc_err_t err = cdc_mysql_err(vs->vs_my, what, vs->vs_errstr,
                                      sizeof(vs->vs_errstr));
        if (err == CDC_ERR__TRANSPORT && vs->vs_my) {
                mysql_close(vs->vs_my);
                vs->vs_my = NULL;
        }
        return err;
}

static cdc_err_t vsource_exec(cdc_vsource_t *vs, const char *sql) {
        MYSQL_RES *res;
        if (mysql_query(vs->vs_my, sql))
                return vsource_err(vs, sql);
        res = mysql_store_result(vs->vs_my);
        if (res)
                mysql_free_result(res);
        return CDC_ERR_NO_ERROR;
}

static cdc_err_t vsource_connect(cdc_vsource_t *vs) {
        cdc_err_t err;

        if (vs->vs_my)
                return CDC_ERR_NO_ERROR;
        err = cdc_mysql_connect(&vs->vs_tgt, &vs->vs_opts, "connect",
                                &vs->vs_my, NULL, vs->vs_errstr,
                                sizeof(vs->vs_errstr));
        if (err)
                return err;
        if ((err = vsource_exec(vs, "SET SESSION time_zone = '+00:00'")) ||
            (err = vsource_exec(vs, "SET SESSION TRANSACTION ISOLATION LEVEL "
                                    "REPEATABLE READ")))
                return err;
        return CDC_ERR_NO_ERROR;
}

cdc_err_t cdc_vsource_begin(cdc_vsource_t *vs, cdc_vsnap_t *snap,
                            cdc_pos_t *pos) {
        MYSQL_RES *res = NULL;
        MYSQL_ROW row;
        char sql[700], esc[520];
        cdc_err_t err;

        memset(pos, 0, sizeof(*pos));
        memset(snap, 0, sizeof(*snap));
        if ((err = vsource_connect(vs)) ||
            (err = vsource_exec(vs, "START TRANSACTION WITH CONSISTENT "
                                    "SNAPSHOT")))
                return err;
        if (mysql_query(vs->vs_my, "SHOW STATUS LIKE 'binlog_snapshot_%'"))
                return vsource_err(vs, "SHOW STATUS");
        res = mysql_store_result(vs->vs_my);
        if (!res)
                return vsource_err(vs, "SHOW STATUS");
        while ((row = mysql_fetch_row(res))) {
                if (!row[0] || !row[1])
                        continue;
                if (!strcasecmp(row[0], "binlog_snapshot_file"))
                        snprintf(pos->file, sizeof(pos->file), "%s", row[1]);
                else if (!strcasecmp(row[0], "binlog_snapshot_position"))
                        pos->pos = strtoull(row[1], NULL, 10);
        }
        mysql_free_result(res);
        if (!pos->file[0]) {
                snprintf(vs->vs_errstr, sizeof(vs->vs_errstr),
                         "the server reports no binlog_snapshot_file: verify "
                         "needs MariaDB with log_bin (the position of a "
                         "consistent read)");
                return CDC_ERR__CONFIG;
        }
        mysql_real_escape_string(vs->vs_my, esc, pos->file,
                                 (unsigned long)strnlen(pos->file, 255));
        snprintf(sql, sizeof(sql), "SELECT BINLOG_GTID_POS('%s', %" PRIu64 ")",
                 esc, pos->pos);
        if (mysql_query(vs->vs_my, sql))
                return vsource_err(vs, "BINLOG_GTID_POS");
        res = mysql_store_result(vs->vs_my);
        row = res ? mysql_fetch_row(res) : NULL;
        if (row && row[0])
                snprintf(pos->gtid, sizeof(pos->gtid), "%s", row[0]);
        if (res)
                mysql_free_result(res);
        snap->epoch = vs->vs_epoch;
        snap->seq   = cdc_snapshot_pos_seq(pos, NULL, NULL, 0);
        snap->gtid  = pos->gtid[0] != '\0';
        return CDC_ERR_NO_ERROR;
}

cdc_err_t cdc_vsource_end(cdc_vsource_t *vs) {
        if (!vs->vs_my)
                return CDC_ERR_NO_ERROR;
        return vsource_exec(vs, "COMMIT");
}

/* One uint64 from a one-column query; *hasp 0 when no row or NULL. */
static cdc_err_t vsource_u64(cdc_vsource_t *vs, const char *sql, uint64_t *vp,
                             int *hasp) {
        MYSQL_RES *res;
        MYSQL_ROW row;

        *hasp = 0;
        if (mysql_query(vs->vs_my, sql))
                return vsource_err(vs, "boundary");
        res = mysql_store_result(vs->vs_my);
        if (!res)
                return vsource_err(vs, "boundary");
        row = mysql_fetch_row(res);
        if (row && row[0]) {
                *vp   = strtoull(row[0], NULL, 10);
                *hasp = 1;
        }
        mysql_free_result(res);
        return CDC_ERR_NO_ERROR;
}

cdc_err_t cdc_vsource_next_range(cdc_vsource_t *vs, uint64_t lo, uint64_t *hip,
                                 int *boundedp, int *emptyp) {
        const char *col[2] = { vs->vs_fr, vs->vs_fe };
        uint64_t first = UINT64_MAX, hi = UINT64_MAX, v;
        int bounded = 0, any = 0, has, i;
        char sql[600];
        cdc_err_t err;

        if ((err = vsource_connect(vs)))
                return err;
        for (i = 0; i < 2; i++) {
                snprintf(sql, sizeof(sql),
                         "SELECT MIN(%s) FROM %s WHERE %s >= %" PRIu64, col[i],
                         vs->vs_follow, col[i], lo);
                if ((err = vsource_u64(vs, sql, &v, &has)))
                        return err;
                if (!has)
                        continue;
                any = 1;
                if (v < first)
                        first = v;
                snprintf(sql, sizeof(sql),
                         "SELECT %s FROM %s WHERE %s >= %" PRIu64
                         " ORDER BY %s LIMIT 1 OFFSET %" PRId64,
                         col[i], vs->vs_follow, col[i], lo, col[i],
                         vs->vs_chunk);
                if ((err = vsource_u64(vs, sql, &v, &has)))
                        return err;
                if (has && (!bounded || v < hi)) {
                        hi      = v;
                        bounded = 1;
                }
        }
        *emptyp = !any;
        if (!any)
                return CDC_ERR_NO_ERROR;
        /* one user with more rows than a chunk: that user alone */
        if (bounded && hi <= first) {
                if (first == UINT64_MAX)
                        bounded = 0;
                else
                        hi = first + 1;
        }
        *hip      = hi;
        *boundedp = bounded;
        return CDC_ERR_NO_ERROR;
}

static cdc_err_t vsource_rows(cdc_vsource_t *vs, const char *sql, int side,
                              cdc_vsource_row_cb_t *cb, void *opaque,
                              size_t *rowsp) {
        MYSQL_RES *res;
        MYSQL_ROW row;
        MYSQL_FIELD *f;
        unsigned nf, k;
        cdc_err_t err = CDC_ERR_NO_ERROR;

        if (rowsp)
                *rowsp = 0;
        if (mysql_query(vs->vs_my, sql))
                return vsource_err(vs, "SELECT");
        res = mysql_use_result(vs->vs_my);
        if (!res)
                return vsource_err(vs, "SELECT");
        nf = mysql_num_fields(res);
        f  = mysql_fetch_fields(res);
        while ((row = mysql_fetch_row(res))) {
                unsigned long *lens = mysql_fetch_lengths(res);
                json_t *obj         = json_object();

                if (!obj) {
                        err = CDC_ERR__NOMEM;
                        break;
                }
                for (k = 0; k < nf; k++) {
                        json_t *v = cdc_snapshot_value(
                                &f[k], row[k], row[k] ? lens[k] : 0, vs->vs_tz);
                        if (!v || json_object_set_new(obj, f[k].name, v)) {
                                err = CDC_ERR__NOMEM;
                                break;
                        }
                }
                if (!err)
                        err = cb(opaque, side, obj);
                json_decref(obj);
                if (err)
                        break;
                if (rowsp)
                        (*rowsp)++;
        }
        if (!err && mysql_errno(vs->vs_my)) {
                mysql_free_result(res);
                return vsource_err(vs, "fetch");
        }
        /* drain what is left after an early stop */
        while (err && mysql_fetch_row(res))
                ;
        mysql_free_result(res);
        if (err == CDC_ERR__NOMEM)
                snprintf(vs->vs_errstr, sizeof(vs->vs_errstr), "out of memory");
        return err;
}

cdc_err_t cdc_vsource_follow_range(cdc_vsource_t *vs, int side, uint64_t lo,
                                   uint64_t hi, int bounded,
                                   cdc_vsource_row_cb_t *cb, void *opaque) {
        const char *c = side == CDC_VSOURCE_BY_FOLLOWER ? vs->vs_fr : vs->vs_fe;
        char sql[800], tail[200] = "";

        if (bounded)
                snprintf(tail, sizeof(tail), " AND %s < %" PRIu64, c, hi);
        snprintf(sql, sizeof(sql), "SELECT * FROM %s WHERE %s >= %" PRIu64 "%s",
                 vs->vs_follow, c, lo, tail);
        return vsource_rows(vs, sql, side, cb, opaque, NULL);
}

cdc_err_t cdc_vsource_follow_users(cdc_vsource_t *vs, int side,
                                   const uint64_t *ids, size_t n,
                                   cdc_vsource_row_cb_t *cb, void *opaque) {
        const char *c = side == CDC_VSOURCE_BY_FOLLOWER ? vs->vs_fr : vs->vs_fe;
        size_t cap    = 256 + n * 22, len, i;
        char *sql;
        cdc_err_t err;

        if (n == 0)
                return CDC_ERR_NO_ERROR;
        sql = malloc(cap);
        if (!sql)
                return CDC_ERR__NOMEM;
        len = (size_t)snprintf(sql, cap, "SELECT * FROM %s WHERE %s IN (",
                               vs->vs_follow, c);
        for (i = 0; i < n; i++)
                len += (size_t)snprintf(sql + len, cap - len, "%s%" PRIu64,
                                        i ? "," : "", ids[i]);
        snprintf(sql + len, cap - len, ")");
        err = vsource_rows(vs, sql, side, cb, opaque, NULL);
        free(sql);
        return err;
}

static int vsource_u64_cmp(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
        return x < y ? -1 : x > y;
}

cdc_err_t cdc_vsource_present_users(cdc_vsource_t *vs, const uint64_t *ids,
                                    size_t n, unsigned char *present) {
        size_t cap = 512 + n * 44, len, i;
        MYSQL_RES *res;
        MYSQL_ROW row;
        cdc_err_t err;
        char *sql;
        int side;

        memset(present, 0, n);
        if (n == 0)
                return CDC_ERR_NO_ERROR;
        if ((err = vsource_connect(vs)))
                return err;
        sql = malloc(cap);
        if (!sql)
                return CDC_ERR__NOMEM;
        len = 0;
        for (side = 0; side < 2; side++) {
                const char *c = side ? vs->vs_fe : vs->vs_fr;
                len += (size_t)snprintf(sql + len, cap - len,
                                        "%sSELECT DISTINCT %s FROM %s WHERE "
                                        "%s IN (",
                                        side ? " UNION " : "", c, vs->vs_follow,
                                        c);
                for (i = 0; i < n; i++)
                        len += (size_t)snprintf(sql + len, cap - len,
                                                "%s%" PRIu64, i ? "," : "",
                                                ids[i]);
                len += (size_t)snprintf(sql + len, cap - len, ")");
        }
        if (mysql_query(vs->vs_my, sql)) {
                free(sql);
                return vsource_err(vs, "SELECT");
        }
        free(sql);
        res = mysql_store_result(vs->vs_my);
        if (!res)
                return vsource_err(vs, "SELECT");
        while ((row = mysql_fetch_row(res))) {
                uint64_t id;
                const uint64_t *hit;
                if (!row[0])
                        continue;
                id  = strtoull(row[0], NULL, 10);
                hit = bsearch(&id, ids, n, sizeof(*ids), vsource_u64_cmp);
                if (hit)
                        present[hit - ids] = 1;
        }
        mysql_free_result(res);
        return CDC_ERR_NO_ERROR;
}

cdc_err_t cdc_vsource_present_rids(cdc_vsource_t *vs, const char *const *rids,
                                   const size_t *lens, size_t n,
                                   unsigned char *present) {
        size_t cap = 256, len, i;
        MYSQL_RES *res;
        MYSQL_ROW row;
        cdc_err_t err;
        char *sql;

        memset(present, 0, n);
        if (n == 0)
                return CDC_ERR_NO_ERROR;
        if ((err = vsource_connect(vs)))
                return err;
        for (i = 0; i < n; i++)
                cap += lens[i] * 2 + 4;
        sql = malloc(cap);
        if (!sql)
                return CDC_ERR__NOMEM;
        len = (size_t)snprintf(sql, cap, "SELECT %s FROM %s WHERE %s IN (",
                               vs->vs_req, vs->vs_idem, vs->vs_req);
        for (i = 0; i < n; i++) {
                if (i)
                        sql[len++] = ',';
                sql[len++] = '\'';
                len += mysql_real_escape_string(vs->vs_my, sql + len, rids[i],
                                                (unsigned long)lens[i]);
                sql[len++] = '\'';
        }
        sql[len++] = ')';
        if (mysql_real_query(vs->vs_my, sql, (unsigned long)len)) {
                free(sql);
                return vsource_err(vs, "SELECT");
        }
        free(sql);
        res = mysql_store_result(vs->vs_my);
        if (!res)
                return vsource_err(vs, "SELECT");
        while ((row = mysql_fetch_row(res))) {
                unsigned long *l = mysql_fetch_lengths(res);
                if (!row[0])
                        continue;
                /* few rows (a batch): a linear match is enough */
                for (i = 0; i < n; i++)
                        if (lens[i] == l[0] && !memcmp(rids[i], row[0], l[0]))
                                present[i] = 1;
        }
        mysql_free_result(res);
        return CDC_ERR_NO_ERROR;
}

cdc_err_t cdc_vsource_idem_chunk(cdc_vsource_t *vs, const char *after,
                                 size_t after_len, size_t n,
                                 cdc_vsource_row_cb_t *cb, void *opaque,
                                 size_t *rowsp) {
        char *sql = NULL, *esc = NULL;
        size_t cap = 512 + after_len * 2 + 1;
        cdc_err_t err;

        sql = malloc(cap);
        esc = malloc(after_len * 2 + 1);
        if (!sql || !esc) {
                free(sql);
                free(esc);
                return CDC_ERR__NOMEM;
        }
        if (after) {
                mysql_real_escape_string(vs->vs_my, esc, after,
                                         (unsigned long)after_len);
                snprintf(sql, cap,
                         "SELECT * FROM %s WHERE %s > '%s' ORDER BY %s "
                         "LIMIT %zu",
                         vs->vs_idem, vs->vs_req, esc, vs->vs_req, n);
        } else {
                snprintf(sql, cap, "SELECT * FROM %s ORDER BY %s LIMIT %zu",
                         vs->vs_idem, vs->vs_req, n);
        }
        free(esc);
        err = vsource_rows(vs, sql, 0, cb, opaque, rowsp);
        free(sql);
        return err;
}

cdc_err_t cdc_vsource_sample(cdc_vsource_t *vs, size_t n, uint64_t seed,
                             uint64_t *out, size_t *np) {
        uint64_t lo = 0, hi = 0, x = seed ? seed : 0x9e3779b97f4a7c15ULL;
        int has1, has2;
        size_t got = 0, tries = 0;
        char sql[600];
        cdc_err_t err;

        *np = 0;
        if ((err = vsource_connect(vs)))
                return err;
        snprintf(sql, sizeof(sql), "SELECT MIN(%s) FROM %s", vs->vs_fr,
                 vs->vs_follow);
        if ((err = vsource_u64(vs, sql, &lo, &has1)))
                return err;
        snprintf(sql, sizeof(sql), "SELECT MAX(%s) FROM %s", vs->vs_fr,
                 vs->vs_follow);
        if ((err = vsource_u64(vs, sql, &hi, &has2)))
                return err;
        if (!has1 || !has2)
                return CDC_ERR_NO_ERROR;
        while (got < n && tries++ < n * 4) {
                uint64_t r, v;
                int has, side = (int)(tries & 1);
                const char *c = side ? vs->vs_fe : vs->vs_fr;
                size_t k;

                /* xorshift64* */
                x ^= x >> 12;
                x ^= x << 25;
                x ^= x >> 27;
                r = x * 0x2545F4914F6CDD1DULL;
                r = lo + (hi > lo ? r % (hi - lo + 1) : 0);
                snprintf(sql, sizeof(sql),
                         "SELECT %s FROM %s WHERE %s >= %" PRIu64
                         " ORDER BY %s LIMIT 1",
                         c, vs->vs_follow, c, r, c);
                if ((err = vsource_u64(vs, sql, &v, &has)))
                        return err;
                if (!has)
                        continue;
                for (k = 0; k < got && out[k] != v; k++)
                        ;
                if (k == got)
                        out[got++] = v;
        }
        *np = got;
        return CDC_ERR_NO_ERROR;
}

static int vsource_plain(const char *s, const char *extra) {
        if (!s || !*s)
                return 0;
        for (; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
                      (*s >= '0' && *s <= '9') || *s == '_' ||
                      strchr(extra, *s)))
                        return 0;
        return 1;
}

cdc_err_t cdc_vsource_signal(cdc_vsource_t *vs, const char *table,
                             const char *kind, const char *payload) {
        size_t n = strlen(payload) + strlen(table) + 128;
        char *sql;
        cdc_err_t err;

        if (!vsource_plain(table, "") || !vsource_plain(kind, "") ||
            !vsource_plain(payload, ",")) {
                snprintf(vs->vs_errstr, sizeof(vs->vs_errstr),
                         "repair request: bad table, kind or payload");
                return CDC_ERR__CONFIG;
        }
        if ((err = vsource_connect(vs)))
                return err;
        sql = malloc(n);
        if (!sql)
                return CDC_ERR__NOMEM;
        snprintf(sql, n, "INSERT INTO `%s` (kind, payload) VALUES ('%s', '%s')",
                 table, kind, payload);
        err = vsource_exec(vs, sql);
        free(sql);
        return err;
}
