/**
 * @file cdc_srcmeta.c
 * @brief The source metadata connection (see cdc_srcmeta.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <mysql.h>
#include "cdc_srcmeta_int.h"

void cdc_srcmeta_seterr(cdc_srcmeta_t *sm, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(sm->sm_errstr, sizeof(sm->sm_errstr), fmt, ap);
        va_end(ap);
}

/* ---- connection ---- */

cdc_err_t cdc_srcmeta_err(MYSQL *m, const char *what, char *errstr,
                          size_t errstr_size) {
        unsigned e = mysql_errno(m);
        snprintf(errstr, errstr_size, "%s: %s (%u)", what,
                 e ? mysql_error(m) : "connection closed by server", e);
        if (e == 1236)
                return CDC_ERR__NOENT;
        if (e == 0 || e >= 2000)
                return CDC_ERR__TRANSPORT;
        return CDC_ERR__SERVER;
}

MYSQL *cdc_srcmeta_dial(const cdc_mysql_target_t *t, const cdc_mysql_opts_t *o,
                        cdc_err_t *errp, char *errstr, size_t errstr_size) {
        unsigned no;
        MYSQL *m;

        /* As cdc_srcmeta_err(): client-side codes and the newer server
         * codes (>= 2000: MySQL 8's 3xxx, MariaDB's 4xxx, e.g. offline
         * mode) are transient; access denied (1044, 1045) is a
         * configuration problem. TLS refusals are client-side: retried
         * with backoff, /readyz not ready. */
        *errp = cdc_mysql_connect(t, o, "connect", &m, &no, errstr,
                                  errstr_size);
        if (*errp == CDC_ERR__SERVER && no >= 2000)
                *errp = CDC_ERR__TRANSPORT;
        return m;
}

cdc_srcmeta_t *cdc_srcmeta_new(const cdc_mysql_target_t *tgt,
                               const cdc_mysql_opts_t *conn, const char *db,
                               const char *const *tables, size_t table_cnt) {
        cdc_srcmeta_t *sm = calloc(1, sizeof(*sm));
        size_t i;

        if (!sm)
                return NULL;
        sm->sm_db     = strdup(db ? db : "");
        sm->sm_tables = calloc(table_cnt ? table_cnt : 1, sizeof(char *));
        sm->sm_schema =
                calloc(table_cnt ? table_cnt : 1, sizeof(srcmeta_schema_t));
        sm->sm_table_cnt = table_cnt;
        if (!sm->sm_db || !sm->sm_tables || !sm->sm_schema ||
            cdc_mysql_target_copy(&sm->sm_tgt, tgt))
                goto fail;
        for (i = 0; i < table_cnt; i++) {
                sm->sm_tables[i] = strdup(tables[i]);
                if (!sm->sm_tables[i])
                        goto fail;
        }
        sm->sm_connect_timeout_s = conn->connect_timeout_s;
        sm->sm_rw_timeout_s      = conn->rw_timeout_s;
        return sm;
fail:
        cdc_srcmeta_destroy(sm);
        return NULL;
}

static void srcmeta_schema_clear(srcmeta_schema_t *s) {
        uint32_t i, j;
        for (i = 0; i < s->ncols; i++) {
                if (s->names)
                        free(s->names[i]);
                if (s->labels && s->labels[i]) {
                        for (j = 0; j < s->label_cnt[i]; j++)
                                free(s->labels[i][j]);
                        free(s->labels[i]);
                }
        }
        free(s->names);
        free(s->is_unsigned);
        free(s->is_binary);
        free(s->labels);
        free(s->label_cnt);
        memset(s, 0, sizeof(*s));
}

void cdc_srcmeta_destroy(cdc_srcmeta_t *sm) {
        size_t i;
        if (!sm)
                return;
        if (sm->sm_my)
                mysql_close(sm->sm_my);
        for (i = 0; sm->sm_tables && i < sm->sm_table_cnt; i++) {
                free(sm->sm_tables[i]);
                if (sm->sm_schema)
                        srcmeta_schema_clear(&sm->sm_schema[i]);
        }
        free(sm->sm_tables);
        free(sm->sm_schema);
        free(sm->sm_db);
        cdc_mysql_target_clear(&sm->sm_tgt);
        free(sm);
}

const char *cdc_srcmeta_errstr(const cdc_srcmeta_t *sm) {
        return sm ? sm->sm_errstr : "";
}

cdc_err_t cdc_srcmeta_connect(cdc_srcmeta_t *sm, MYSQL **myp) {
        cdc_mysql_opts_t o;
        cdc_err_t err;

        *myp = NULL;
        if (sm->sm_my) {
                if (mysql_ping(sm->sm_my) == 0) {
                        *myp = sm->sm_my;
                        return CDC_ERR_NO_ERROR;
                }
                mysql_close(sm->sm_my);
                sm->sm_my = NULL;
        }
        memset(&o, 0, sizeof(o));
        o.no_db             = 1;
        o.connect_timeout_s = sm->sm_connect_timeout_s;
        o.rw_timeout_s      = sm->sm_rw_timeout_s;
        o.charset           = "utf8mb4";
        sm->sm_my = cdc_srcmeta_dial(&sm->sm_tgt, &o, &err, sm->sm_errstr,
                                     sizeof(sm->sm_errstr));
        if (!sm->sm_my)
                return err;
        sm->sm_is_mysql =
                strstr(mysql_get_server_info(sm->sm_my), "MariaDB") == NULL;
        *myp = sm->sm_my;
        return CDC_ERR_NO_ERROR;
}

int cdc_srcmeta_is_mysql(const cdc_srcmeta_t *sm) {
        return sm->sm_is_mysql;
}

cdc_err_t cdc_srcmeta_query(cdc_srcmeta_t *sm, const char *q,
                            MYSQL_RES **resp) {
        MYSQL *m;
        cdc_err_t err;

        if (resp)
                *resp = NULL;
        if ((err = cdc_srcmeta_connect(sm, &m)))
                return err;
        if (mysql_real_query(m, q, (unsigned long)strlen(q)))
                return cdc_srcmeta_err(m, q, sm->sm_errstr,
                                       sizeof(sm->sm_errstr));
        if (resp) {
                *resp = mysql_store_result(m);
                if (!*resp && mysql_errno(m))
                        return cdc_srcmeta_err(m, q, sm->sm_errstr,
                                               sizeof(sm->sm_errstr));
        }
        return CDC_ERR_NO_ERROR;
}

cdc_err_t cdc_srcmeta_var(cdc_srcmeta_t *sm, const char *name, char *val,
                          size_t size) {
        char q[160];
        MYSQL_RES *res = NULL;
        MYSQL_ROW row;
        cdc_err_t err;

        val[0] = '\0';
        snprintf(q, sizeof(q), "SHOW GLOBAL VARIABLES LIKE '%s'", name);
        err = cdc_srcmeta_query(sm, q, &res);
        if (err)
                return err;
        row = res ? mysql_fetch_row(res) : NULL;
        if (row && row[1])
                snprintf(val, size, "%s", row[1]);
        mysql_free_result(res);
        return CDC_ERR_NO_ERROR;
}

/* ---- current position ---- */

cdc_err_t cdc_srcmeta_current_pos(cdc_srcmeta_t *sm, cdc_pos_t *pos) {
        MYSQL_RES *res   = NULL;
        const char *used = CDC_MYSQL_SQL_MASTER_STATUS;
        MYSQL_ROW row;
        cdc_err_t err;
        cdc_pos_t p;
        MYSQL *m;

        memset(&p, 0, sizeof(p));
        err = cdc_srcmeta_connect(sm, &m);
        if (err)
                goto out;
        if (!sm->sm_is_mysql) {
                /* GTID first: if a transaction commits in between, the
                 * file:pos is the later one and resuming by GTID replays
                 * it (a harmless duplicate) instead of skipping it. */
                if ((err = cdc_srcmeta_query(
                             sm, "SELECT @@global.gtid_binlog_pos", &res)))
                        goto out;
                row = res ? mysql_fetch_row(res) : NULL;
                if (row && row[0])
                        snprintf(p.gtid, sizeof(p.gtid), "%s", row[0]);
                mysql_free_result(res);
                res = NULL;
        }
        /* SHOW BINARY LOG STATUS on MySQL 8.2+ (8.4 removed SHOW MASTER
         * STATUS), SHOW MASTER STATUS elsewhere (cdc_mysql.h) */
        if (cdc_mysql_binlog_status(m, NULL, &res, &used)) {
                err = cdc_srcmeta_err(m, "binlog status", sm->sm_errstr,
                                      sizeof(sm->sm_errstr));
                goto out;
        }
        row = res ? mysql_fetch_row(res) : NULL;
        if (!row || !row[0] || !row[1]) {
                cdc_srcmeta_seterr(sm,
                                   "%s: no binary log (is log_bin on and do "
                                   "we have BINLOG MONITOR / REPLICATION "
                                   "CLIENT?)",
                                   used);
                err = CDC_ERR__SERVER;
                goto out;
        }
        snprintf(p.file, sizeof(p.file), "%s", row[0]);
        p.pos = strtoull(row[1], NULL, 10);
        *pos  = p;
        err   = CDC_ERR_NO_ERROR;
out:
        mysql_free_result(res);
        return err;
}

/* ---- column metadata from information_schema ---- */

/* Parses "enum('a','b''c')" / "set(...)" labels. */
static int srcmeta_parse_labels(const char *ct, char ***labelsp,
                                uint32_t *cntp) {
        const char *p = strchr(ct, '(');
        char **labels = NULL;
        uint32_t n    = 0;
        size_t cap    = 0;

        *labelsp = NULL;
        *cntp    = 0;
        if (!p)
                return 0;
        p++;
        while (*p == '\'') {
                char *lab;
                size_t o      = 0;
                const char *q = p + 1;
                lab           = malloc(strlen(q) + 1);
                if (!lab)
                        goto fail;
                while (*q) {
                        if (*q == '\'' && q[1] == '\'') {
                                lab[o++] = '\'';
                                q += 2;
                        } else if (*q == '\'') {
                                break;
                        } else {
                                lab[o++] = *q++;
                        }
                }
                lab[o] = '\0';
                if (n == cap) {
                        char **nl;
                        cap = cap ? cap * 2 : 8;
                        nl  = realloc(labels, cap * sizeof(char *));
                        if (!nl) {
                                free(lab);
                                goto fail;
                        }
                        labels = nl;
                }
                labels[n++] = lab;
                if (*q != '\'')
                        break;
                p = q + 1;
                if (*p == ',')
                        p++;
        }
        *labelsp = labels;
        *cntp    = n;
        return 0;
fail:
        while (n)
                free(labels[--n]);
        free(labels);
        return -1;
}

static cdc_err_t srcmeta_schema_load(cdc_srcmeta_t *sm, size_t w) {
        srcmeta_schema_t *s = &sm->sm_schema[w];
        char q[600], edb[140], et[140];
        MYSQL_RES *res = NULL;
        MYSQL_ROW row;
        cdc_err_t err;
        uint32_t n, i = 0;
        MYSQL *m;

        srcmeta_schema_clear(s);
        if ((err = cdc_srcmeta_connect(sm, &m)))
                return err;
        mysql_real_escape_string(m, edb, sm->sm_db,
                                 (unsigned long)strlen(sm->sm_db));
        mysql_real_escape_string(m, et, sm->sm_tables[w],
                                 (unsigned long)strlen(sm->sm_tables[w]));
        snprintf(q, sizeof(q),
                 "SELECT COLUMN_NAME, COLUMN_TYPE, CHARACTER_SET_NAME, "
                 "DATA_TYPE FROM information_schema.COLUMNS WHERE "
                 "TABLE_SCHEMA = '%s' AND TABLE_NAME = '%s' ORDER BY "
                 "ORDINAL_POSITION",
                 edb, et);
        if ((err = cdc_srcmeta_query(sm, q, &res)))
                return err;
        n              = res ? (uint32_t)mysql_num_rows(res) : 0;
        s->ncols       = n;
        s->names       = calloc(n + 1, sizeof(char *));
        s->is_unsigned = calloc(n + 1, 1);
        s->is_binary   = calloc(n + 1, 1);
        s->labels      = calloc(n + 1, sizeof(char **));
        s->label_cnt   = calloc(n + 1, sizeof(uint32_t));
        if (!s->names || !s->is_unsigned || !s->is_binary || !s->labels ||
            !s->label_cnt) {
                err = CDC_ERR__NOMEM;
                goto out;
        }
        for (row = res ? mysql_fetch_row(res) : NULL; row && i < n;
             row = mysql_fetch_row(res)) {
                const char *ct = row[1] ? row[1] : "";
                const char *dt = row[3] ? row[3] : "";
                s->names[i]    = strdup(row[0] ? row[0] : "");
                if (!s->names[i]) {
                        err = CDC_ERR__NOMEM;
                        goto out;
                }
                s->is_unsigned[i] = strstr(ct, "unsigned") != NULL;
                s->is_binary[i]   = row[2] == NULL;
                if ((!strcmp(dt, "enum") || !strcmp(dt, "set")) &&
                    srcmeta_parse_labels(ct, &s->labels[i], &s->label_cnt[i])) {
                        err = CDC_ERR__NOMEM;
                        goto out;
                }
                i++;
        }
        s->loaded = 1;
        err       = CDC_ERR_NO_ERROR;
out:
        if (err)
                srcmeta_schema_clear(s);
        mysql_free_result(res);
        return err;
}

/* Fills what the TABLE_MAP lacks from information_schema. */
cdc_err_t cdc_srcmeta_complete(cdc_srcmeta_t *sm, size_t w, cdc_tablemap_t *t) {
        srcmeta_schema_t *s;
        cdc_err_t err;
        uint32_t i;

        if (t->has_names && t->has_sign && t->has_charset && t->has_labels)
                return CDC_ERR_NO_ERROR;
        if (w >= sm->sm_table_cnt) {
                cdc_srcmeta_seterr(sm, "watched table %zu: no such table", w);
                return CDC_ERR__STATE;
        }
        s = &sm->sm_schema[w];
        if (!s->loaded && (err = srcmeta_schema_load(sm, w)))
                return err;
        if (s->ncols != t->ncols) {
                /* a cached schema may predate a DDL we did not see */
                if ((err = srcmeta_schema_load(sm, w)))
                        return err;
        }
        if (s->ncols != t->ncols) {
                cdc_srcmeta_seterr(
                        sm,
                        "%s.%s: the binlog has %u columns, "
                        "information_schema %u (DDL since that event): "
                        "set binlog_row_metadata=FULL so names come "
                        "from the binlog",
                        t->db, t->name, t->ncols, s->ncols);
                return CDC_ERR__BAD_EVENT;
        }
        for (i = 0; i < t->ncols; i++)
                if (cdc_tablemap_set_col(
                            t, i, t->has_names ? NULL : s->names[i],
                            s->is_unsigned[i], s->is_binary[i],
                            t->has_labels ? NULL
                                          : (const char *const *)s->labels[i],
                            s->label_cnt[i]))
                        return CDC_ERR__NOMEM;
        return CDC_ERR_NO_ERROR;
}

void cdc_srcmeta_forget(cdc_srcmeta_t *sm, size_t w) {
        if (w < sm->sm_table_cnt)
                srcmeta_schema_clear(&sm->sm_schema[w]);
}
