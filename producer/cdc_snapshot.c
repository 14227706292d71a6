/**
 * @file cdc_snapshot.c
 * @brief Consistent, chunked table snapshot (see cdc_snapshot.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <mysql.h>

#include "cdc_snapshot.h"
#include "cdc_backoff.h"
#include "cdc_log.h"
#include "cdc_mysql.h"

#define SNAP_PK_MAX 16

struct cdc_snapshot_s {
        cdc_mysql_target_t sn_tgt; /* where to connect; db: the schema */
        char **sn_tables;
        size_t sn_table_cnt;
        int64_t sn_chunk;
        int sn_timeout_ms;
        cdc_tz_t *sn_tz;
        MYSQL *sn_my;
        cdc_pos_t sn_pos;
        cdc_source_t sn_src; /* template for every row */
        uint64_t sn_rows;
        char sn_errstr[1024];
};

/* ---- value mapping (schemas/events/README.md "Row values") ---- */

json_t *cdc_snapshot_value(const MYSQL_FIELD *f, const char *val, size_t len,
                           const cdc_tz_t *tz) {
        cdc_col_t c;

        memset(&c, 0, sizeof(c));
        c.type        = (uint8_t)f->type; /* CDC_T_* == MYSQL_TYPE_* */
        c.is_unsigned = (f->flags & UNSIGNED_FLAG) != 0;
        c.is_binary =
                f->charsetnr == 63 && !(f->flags & (ENUM_FLAG | SET_FLAG));
        c.meta = (uint16_t)f->decimals;
        return cdc_textval_decode(&c, val, len, tz);
}

/* ---- positions ---- */

uint64_t cdc_snapshot_pos_seq(const cdc_pos_t *pos, uint32_t *server_idp,
                              char *gtid, size_t gtid_size) {
        const char *p = pos->gtid;
        uint64_t best = 0, top = 0;
        int domains = 0, found = 0;

        if (gtid && gtid_size)
                gtid[0] = '\0';
        while (*p) {
                /* "domain-server-seq" */
                unsigned long long dom, srv, seq;
                const char *start = p;
                char *e;
                errno = 0;
                dom   = strtoull(p, &e, 10);
                if (e == p || *e != '-')
                        break;
                p   = e + 1;
                srv = strtoull(p, &e, 10);
                if (e == p || *e != '-')
                        break;
                p   = e + 1;
                seq = strtoull(p, &e, 10);
                if (e == p || errno)
                        break;
                (void)dom;
                domains++;
                /* the GTID shown is the domain's newest one */
                if (!found || seq > top) {
                        top = seq;
                        if (server_idp)
                                *server_idp = (uint32_t)srv;
                        if (gtid && gtid_size)
                                snprintf(gtid, gtid_size, "%.*s",
                                         (int)(e - start), start);
                }
                /* the sequence is the sum over the domains, as the
                 * stream's (cdc_stream.c stream_trx_seq()) */
                best  = best > UINT64_MAX - seq ? UINT64_MAX : best + seq;
                found = 1;
                p     = e;
                if (*p == ',')
                        p++;
                else
                        break;
        }
        if (found)
                return best;
        {
                /* (binlog file number << 40) | position */
                const char *dot      = strrchr(pos->file, '.');
                unsigned long long n = 0;
                if (dot) {
                        char *e;
                        n = strtoull(dot + 1, &e, 10);
                        if (*e)
                                n = 0;
                }
                return ((uint64_t)n << 40) | (pos->pos & ((1ULL << 40) - 1));
        }
}

/* ---- connection ---- */

cdc_snapshot_t *cdc_snapshot_new(const cdc_snapshot_opts_t *opts, char *errstr,
                                 size_t errstr_size) {
        cdc_snapshot_t *sn = calloc(1, sizeof(*sn));
        size_t i;

        if (!sn || !opts->db ||
            cdc_mysql_target_copy(&sn->sn_tgt, opts->target))
                goto nomem;
        /* the connection's default database is the captured one */
        free(sn->sn_tgt.db);
        sn->sn_tgt.db = strdup(opts->db);
        if (!sn->sn_tgt.db)
                goto nomem;
        sn->sn_chunk      = opts->chunk_rows > 0 ? opts->chunk_rows : 5000;
        sn->sn_timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : 30000;
        sn->sn_tables     = calloc(opts->table_cnt + 1, sizeof(char *));
        if (!sn->sn_tables)
                goto nomem;
        for (i = 0; i < opts->table_cnt; i++) {
                if (opts->tables[i] &&
                    !(sn->sn_tables[i] = strdup(opts->tables[i])))
                        goto nomem;
                sn->sn_table_cnt++;
        }
        sn->sn_tz = cdc_tz_new(opts->source_tz ? opts->source_tz : "UTC",
                               errstr, errstr_size);
        if (!sn->sn_tz) {
                cdc_snapshot_destroy(sn);
                return NULL;
        }
        return sn;
nomem:
        snprintf(errstr, errstr_size, "out of memory");
        cdc_snapshot_destroy(sn);
        return NULL;
}

void cdc_snapshot_destroy(cdc_snapshot_t *sn) {
        size_t i;
        if (!sn)
                return;
        if (sn->sn_my)
                mysql_close(sn->sn_my);
        for (i = 0; i < sn->sn_table_cnt; i++)
                free(sn->sn_tables[i]);
        free(sn->sn_tables);
        if (sn->sn_tz)
                cdc_tz_destroy(sn->sn_tz);
        cdc_mysql_target_clear(&sn->sn_tgt);
        free(sn);
}

static cdc_err_t snap_my_err(cdc_snapshot_t *sn, const char *what) {
        return cdc_mysql_err(sn->sn_my, what, sn->sn_errstr,
                             sizeof(sn->sn_errstr));
}

static cdc_err_t snap_exec(cdc_snapshot_t *sn, const char *sql) {
        MYSQL_RES *res;
        if (mysql_query(sn->sn_my, sql))
                return snap_my_err(sn, sql);
        res = mysql_store_result(sn->sn_my);
        if (res)
                mysql_free_result(res);
        return CDC_ERR_NO_ERROR;
}

/* `name` with backticks doubled. */
static int snap_ident(char *buf, size_t size, const char *name) {
        size_t o = 0;
        if (size < 3)
                return -1;
        buf[o++] = '`';
        for (; *name; name++) {
                if (o + 3 >= size)
                        return -1;
                if (*name == '`')
                        buf[o++] = '`';
                buf[o++] = *name;
        }
        buf[o++] = '`';
        buf[o]   = '\0';
        return 0;
}

cdc_err_t cdc_snapshot_begin(cdc_snapshot_t *sn, cdc_pos_t *pos) {
        cdc_mysql_opts_t o = {
                .connect_timeout_s =
                        (unsigned int)((sn->sn_timeout_ms + 999) / 1000),
                .rw_timeout_s =
                        (unsigned int)(sn->sn_timeout_ms / 1000 * 10 + 60),
                .charset = "utf8mb4",
        };
        MYSQL_RES *res = NULL;
        MYSQL_ROW row;
        cdc_err_t err;
        int mariadb = 0;
        char sql[1024], esc[600];

        memset(pos, 0, sizeof(*pos));
        if (sn->sn_my)
                mysql_close(sn->sn_my);
        sn->sn_my = NULL;
        if ((err = cdc_mysql_connect(&sn->sn_tgt, &o, "connect (snapshot)",
                                     &sn->sn_my, NULL, sn->sn_errstr,
                                     sizeof(sn->sn_errstr))))
                return err;

        if ((err = snap_exec(sn, "SET SESSION time_zone = '+00:00'")) ||
            (err = snap_exec(sn, "SET SESSION TRANSACTION ISOLATION LEVEL "
                                 "REPEATABLE READ")))
                return err;

        /* MariaDB: the read view and its binlog position are one atomic
         * step of the server, no lock needed. */
        if (mysql_query(sn->sn_my, "SHOW STATUS LIKE 'binlog_snapshot_file'"))
                return snap_my_err(sn, "SHOW STATUS");
        res = mysql_store_result(sn->sn_my);
        if (res) {
                mariadb = mysql_num_rows(res) > 0;
                mysql_free_result(res);
                res = NULL;
        }
        if (mariadb) {
                if ((err = snap_exec(sn, "START TRANSACTION WITH CONSISTENT "
                                         "SNAPSHOT")))
                        return err;
                if (mysql_query(sn->sn_my,
                                "SHOW STATUS LIKE 'binlog_snapshot_%'"))
                        return snap_my_err(sn, "SHOW STATUS");
                res = mysql_store_result(sn->sn_my);
                if (!res)
                        return snap_my_err(sn, "SHOW STATUS");
                while ((row = mysql_fetch_row(res))) {
                        if (!row[0] || !row[1])
                                continue;
                        if (!strcmp(row[0], "Binlog_snapshot_file") ||
                            !strcmp(row[0], "binlog_snapshot_file"))
                                snprintf(pos->file, sizeof(pos->file), "%s",
                                         row[1]);
                        else if (!strcasecmp(row[0],
                                             "binlog_snapshot_position"))
                                pos->pos = strtoull(row[1], NULL, 10);
                }
                mysql_free_result(res);
                res = NULL;
        } else {
                /* MySQL 8: a brief global read lock makes the read view
                 * and the binlog status name the same instant (SHOW
                 * BINARY LOG STATUS on 8.2+, cdc_mysql_binlog_status). */
                if ((err = snap_exec(sn, "FLUSH TABLES WITH READ LOCK")) ||
                    (err = snap_exec(sn, "START TRANSACTION WITH CONSISTENT "
                                         "SNAPSHOT")))
                        return err;
                if (cdc_mysql_binlog_status(sn->sn_my, NULL, &res, NULL)) {
                        err = snap_my_err(sn, "binlog status");
                        (void)snap_exec(sn, "UNLOCK TABLES");
                        return err;
                }
                row = res ? mysql_fetch_row(res) : NULL;
                if (row && row[0] && row[1]) {
                        snprintf(pos->file, sizeof(pos->file), "%s", row[0]);
                        pos->pos = strtoull(row[1], NULL, 10);
                }
                if (res)
                        mysql_free_result(res);
                res = NULL;
                if ((err = snap_exec(sn, "UNLOCK TABLES")))
                        return err;
        }
        if (!pos->file[0]) {
                snprintf(sn->sn_errstr, sizeof(sn->sn_errstr),
                         "the server reports no binlog position: is "
                         "log_bin enabled?");
                return CDC_ERR__SERVER;
        }
        if (mariadb) {
                mysql_real_escape_string(
                        sn->sn_my, esc, pos->file,
                        (unsigned long)strnlen(pos->file, 255));
                snprintf(sql, sizeof(sql),
                         "SELECT BINLOG_GTID_POS('%s', %" PRIu64 ")", esc,
                         pos->pos);
                if (mysql_query(sn->sn_my, sql))
                        return snap_my_err(sn, "BINLOG_GTID_POS");
                res = mysql_store_result(sn->sn_my);
                row = res ? mysql_fetch_row(res) : NULL;
                if (row && row[0])
                        snprintf(pos->gtid, sizeof(pos->gtid), "%s", row[0]);
                if (res)
                        mysql_free_result(res);
        }

        /* The source every snapshot row carries. */
        memset(&sn->sn_src, 0, sizeof(sn->sn_src));
        if (mysql_query(sn->sn_my, "SELECT @@server_id") == 0) {
                res = mysql_store_result(sn->sn_my);
                row = res ? mysql_fetch_row(res) : NULL;
                if (row && row[0])
                        sn->sn_src.server_id =
                                (uint32_t)strtoul(row[0], NULL, 10);
                if (res)
                        mysql_free_result(res);
        }
        sn->sn_src.seq = cdc_snapshot_pos_seq(pos, NULL, sn->sn_src.gtid,
                                              sizeof(sn->sn_src.gtid));
        snprintf(sn->sn_src.db, sizeof(sn->sn_src.db), "%s", sn->sn_tgt.db);
        snprintf(sn->sn_src.file, sizeof(sn->sn_src.file), "%s", pos->file);
        sn->sn_src.pos      = pos->pos;
        sn->sn_src.row      = 0;
        sn->sn_src.ts_ms    = cdc_wallclock_ms();
        sn->sn_src.snapshot = 1;
        sn->sn_pos          = *pos;
        sn->sn_rows         = 0;
        return CDC_ERR_NO_ERROR;
}

/* ---- reading ---- */

/* Primary key columns of \p table, in key order. */
static cdc_err_t snap_pk(cdc_snapshot_t *sn, const char *table, char pk[][72],
                         size_t *np) {
        char sql[1024], edb[200], etab[200];
        MYSQL_RES *res;
        MYSQL_ROW row;

        *np = 0;
        mysql_real_escape_string(sn->sn_my, edb, sn->sn_tgt.db,
                                 (unsigned long)strnlen(sn->sn_tgt.db, 64));
        mysql_real_escape_string(sn->sn_my, etab, table,
                                 (unsigned long)strnlen(table, 64));
        snprintf(sql, sizeof(sql),
                 "SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE"
                 " WHERE TABLE_SCHEMA = '%s' AND TABLE_NAME = '%s' AND "
                 "CONSTRAINT_NAME = 'PRIMARY' ORDER BY ORDINAL_POSITION",
                 edb, etab);
        if (mysql_query(sn->sn_my, sql))
                return snap_my_err(sn, "primary key lookup");
        res = mysql_store_result(sn->sn_my);
        if (!res)
                return snap_my_err(sn, "primary key lookup");
        while ((row = mysql_fetch_row(res)) && *np < SNAP_PK_MAX)
                if (row[0])
                        snprintf(pk[(*np)++], 72, "%s", row[0]);
        mysql_free_result(res);
        return CDC_ERR_NO_ERROR;
}

static uint64_t snap_estimate(cdc_snapshot_t *sn, const char *table) {
        char sql[1024], edb[200], etab[200];
        MYSQL_RES *res;
        MYSQL_ROW row;
        uint64_t n = 0;

        mysql_real_escape_string(sn->sn_my, edb, sn->sn_tgt.db,
                                 (unsigned long)strnlen(sn->sn_tgt.db, 64));
        mysql_real_escape_string(sn->sn_my, etab, table,
                                 (unsigned long)strnlen(table, 64));
        snprintf(sql, sizeof(sql),
                 "SELECT TABLE_ROWS FROM information_schema.TABLES WHERE "
                 "TABLE_SCHEMA = '%s' AND TABLE_NAME = '%s'",
                 edb, etab);
        if (mysql_query(sn->sn_my, sql))
                return 0;
        res = mysql_store_result(sn->sn_my);
        if (!res)
                return 0;
        row = mysql_fetch_row(res);
        if (row && row[0])
                n = strtoull(row[0], NULL, 10);
        mysql_free_result(res);
        return n;
}

/* Growable text buffer for SQL. */
typedef struct {
        char *b;
        size_t len, cap;
        int fail;
} snap_buf_t;

static void sb_add(snap_buf_t *sb, const char *s, size_t n) {
        if (sb->fail)
                return;
        if (sb->len + n + 1 > sb->cap) {
                size_t cap = (sb->cap ? sb->cap * 2 : 1024) + n;
                char *b    = realloc(sb->b, cap);
                if (!b) {
                        sb->fail = 1;
                        return;
                }
                sb->b   = b;
                sb->cap = cap;
        }
        memcpy(sb->b + sb->len, s, n);
        sb->len += n;
        sb->b[sb->len] = '\0';
}

static void sb_str(snap_buf_t *sb, const char *s) {
        sb_add(sb, s, strlen(s));
}

static void sb_ident(snap_buf_t *sb, const char *name) {
        char q[200];
        if (snap_ident(q, sizeof(q), name)) {
                sb->fail = 1;
                return;
        }
        sb_str(sb, q);
}

static void snap_progress(cdc_snapshot_t *sn, const char *table, uint64_t done,
                          uint64_t est, int64_t start_us, int final) {
        double secs = (double)(cdc_now_us() - start_us) / 1e6;
        double rate = secs > 0 ? (double)done / secs : 0;
        if (est < done)
                est = done;
        if (final)
                cdc_log(LOG_NOTICE, "SNAPSHOT",
                        "%s.%s: %" PRIu64 " rows in %.1fs (%.0f rows/s)",
                        sn->sn_tgt.db, table, done, secs, rate);
        else
                cdc_log(LOG_NOTICE, "SNAPSHOT",
                        "%s.%s: %" PRIu64 "/~%" PRIu64
                        " rows (%.0f%%), %.0f rows/s, ETA %.0fs",
                        sn->sn_tgt.db, table, done, est,
                        est ? 100.0 * (double)done / (double)est : 100.0, rate,
                        rate > 0 ? (double)(est - done) / rate : 0.0);
}

/*
 * The select list of a table: "*", except that FLOAT columns (without a
 * fixed scale) are read as CAST(c AS DOUBLE): the text protocol prints a
 * FLOAT with 6 significant digits (123456.79 as "123457"), so the snapshot
 * would not give the value the binlog has. The double of a float is exact
 * and reads back as that float (cdc_textval). \p is_float (nf entries,
 * caller frees, NULL when the list is "*") marks the cast columns.
 */
static cdc_err_t snap_select_list(cdc_snapshot_t *sn, const char *table,
                                  snap_buf_t *list, uint8_t **is_floatp) {
        snap_buf_t q = { 0 };
        MYSQL_RES *res;
        MYSQL_FIELD *fields;
        unsigned nf, k, nfloat = 0;
        uint8_t *is_float = NULL;
        cdc_err_t err     = CDC_ERR_NO_ERROR;

        *is_floatp = NULL;
        list->len  = 0;
        sb_str(&q, "SELECT * FROM ");
        sb_ident(&q, sn->sn_tgt.db);
        sb_str(&q, ".");
        sb_ident(&q, table);
        sb_str(&q, " LIMIT 0");
        if (q.fail) {
                free(q.b);
                snprintf(sn->sn_errstr, sizeof(sn->sn_errstr), "out of memory");
                return CDC_ERR__NOMEM;
        }
        if (mysql_query(sn->sn_my, q.b)) {
                free(q.b);
                return snap_my_err(sn, "snapshot columns");
        }
        free(q.b);
        res = mysql_store_result(sn->sn_my);
        if (!res)
                return snap_my_err(sn, "snapshot columns");
        nf       = mysql_num_fields(res);
        fields   = mysql_fetch_fields(res);
        is_float = calloc(nf ? nf : 1, 1);
        if (!is_float) {
                err = CDC_ERR__NOMEM;
                goto out;
        }
        for (k = 0; k < nf; k++) {
                if (k)
                        sb_str(list, ",");
                /* decimals 31 (the server's NOT_FIXED_DEC): no scale;
                 * FLOAT(M,D) prints its D decimals, which is exact */
                if (fields[k].type == MYSQL_TYPE_FLOAT &&
                    fields[k].decimals >= 31) {
                        is_float[k] = 1;
                        nfloat++;
                        sb_str(list, "CAST(");
                        sb_ident(list, fields[k].name);
                        sb_str(list, " AS DOUBLE) AS ");
                }
                sb_ident(list, fields[k].name);
        }
        if (list->fail)
                err = CDC_ERR__NOMEM;
out:
        mysql_free_result(res);
        if (err || !nfloat) {
                free(is_float);
                list->len = 0;
                sb_str(list, "*");
                if (!err && list->fail)
                        err = CDC_ERR__NOMEM;
                if (err == CDC_ERR__NOMEM)
                        snprintf(sn->sn_errstr, sizeof(sn->sn_errstr),
                                 "out of memory");
                return err;
        }
        *is_floatp = is_float;
        return CDC_ERR_NO_ERROR;
}

static cdc_err_t snap_table(cdc_snapshot_t *sn, const char *table,
                            cdc_snapshot_row_cb_t *cb, void *opaque,
                            volatile sig_atomic_t *run) {
        char pk[SNAP_PK_MAX][72];
        size_t npk = 0, i;
        int pkidx[SNAP_PK_MAX];
        snap_buf_t last = { 0 }, sql = { 0 }, cols = { 0 };
        uint8_t *is_float = NULL;
        uint64_t est, done = 0;
        int64_t start_us = cdc_now_us(), last_log = start_us;
        cdc_source_t src = sn->sn_src;
        cdc_err_t err;
        char num[32];

        snprintf(src.table, sizeof(src.table), "%s", table);
        err = snap_pk(sn, table, pk, &npk);
        if (err)
                return err;
        err = snap_select_list(sn, table, &cols, &is_float);
        if (err)
                goto out;
        est = snap_estimate(sn, table);
        cdc_log(LOG_NOTICE, "SNAPSHOT", "%s.%s: reading ~%" PRIu64 " rows%s",
                sn->sn_tgt.db, table, est,
                npk ? " by primary key" : " (no primary key: one scan)");

        while (1) {
                MYSQL_RES *res;
                MYSQL_ROW row;
                MYSQL_FIELD *fields;
                unsigned nf;
                uint64_t got = 0;

                sql.len = 0;
                sb_str(&sql, "SELECT ");
                sb_str(&sql, cols.b);
                sb_str(&sql, " FROM ");
                sb_ident(&sql, sn->sn_tgt.db);
                sb_str(&sql, ".");
                sb_ident(&sql, table);
                if (npk && last.len) {
                        sb_str(&sql, " WHERE (");
                        for (i = 0; i < npk; i++) {
                                if (i)
                                        sb_str(&sql, ",");
                                sb_ident(&sql, pk[i]);
                        }
                        sb_str(&sql, ") > (");
                        sb_add(&sql, last.b, last.len);
                        sb_str(&sql, ")");
                }
                if (npk) {
                        sb_str(&sql, " ORDER BY ");
                        for (i = 0; i < npk; i++) {
                                if (i)
                                        sb_str(&sql, ",");
                                sb_ident(&sql, pk[i]);
                        }
                        snprintf(num, sizeof(num), " LIMIT %" PRId64,
                                 sn->sn_chunk);
                        sb_str(&sql, num);
                }
                if (sql.fail) {
                        err = CDC_ERR__NOMEM;
                        snprintf(sn->sn_errstr, sizeof(sn->sn_errstr),
                                 "out of memory");
                        goto out;
                }
                if (mysql_query(sn->sn_my, sql.b)) {
                        err = snap_my_err(sn, "snapshot query");
                        goto out;
                }
                /* a chunk is bounded by LIMIT; without a key stream it */
                res = npk ? mysql_store_result(sn->sn_my)
                          : mysql_use_result(sn->sn_my);
                if (!res) {
                        err = snap_my_err(sn, "snapshot result");
                        goto out;
                }
                nf     = mysql_num_fields(res);
                fields = mysql_fetch_fields(res);
                for (i = 0; i < npk; i++) {
                        unsigned k;
                        pkidx[i] = -1;
                        for (k = 0; k < nf; k++)
                                if (!strcmp(fields[k].name, pk[i]))
                                        pkidx[i] = (int)k;
                }
                while ((row = mysql_fetch_row(res))) {
                        unsigned long *lens = mysql_fetch_lengths(res);
                        json_t *obj         = json_object();
                        unsigned k;
                        if (!obj) {
                                err = CDC_ERR__NOMEM;
                                break;
                        }
                        for (k = 0; k < nf; k++) {
                                MYSQL_FIELD f = fields[k];
                                json_t *v;
                                if (is_float && is_float[k])
                                        f.type = MYSQL_TYPE_FLOAT; /* cast */
                                v = cdc_snapshot_value(&f, row[k],
                                                       row[k] ? lens[k] : 0,
                                                       sn->sn_tz);
                                if (!v || json_object_set_new_nocheck(
                                                  obj, fields[k].name, v)) {
                                        err = CDC_ERR__NOMEM;
                                        break;
                                }
                        }
                        if (err) {
                                json_decref(obj);
                                break;
                        }
                        err = cb(opaque, table, obj, &src);
                        json_decref(obj);
                        if (err) {
                                snprintf(sn->sn_errstr, sizeof(sn->sn_errstr),
                                         "snapshot stopped: %s",
                                         cdc_err2str(err));
                                break;
                        }
                        got++;
                        /* remember the key of the last row read */
                        if (npk) {
                                last.len = 0;
                                for (i = 0; i < npk; i++) {
                                        int c = pkidx[i];
                                        char *e;
                                        size_t l;
                                        if (c < 0 || !row[c]) {
                                                err = CDC_ERR__SERVER;
                                                break;
                                        }
                                        l = lens[c];
                                        e = malloc(l * 2 + 1);
                                        if (!e) {
                                                err = CDC_ERR__NOMEM;
                                                break;
                                        }
                                        mysql_real_escape_string(sn->sn_my, e,
                                                                 row[c], l);
                                        if (i)
                                                sb_str(&last, ",");
                                        sb_str(&last, "'");
                                        sb_str(&last, e);
                                        sb_str(&last, "'");
                                        free(e);
                                }
                                if (err || last.fail) {
                                        if (!err)
                                                err = CDC_ERR__NOMEM;
                                        snprintf(sn->sn_errstr,
                                                 sizeof(sn->sn_errstr),
                                                 "%s: can't keep the key of "
                                                 "the last row",
                                                 table);
                                        break;
                                }
                        }
                        if (run && !*run) {
                                err = CDC_ERR__STATE;
                                snprintf(sn->sn_errstr, sizeof(sn->sn_errstr),
                                         "snapshot interrupted");
                                break;
                        }
                }
                if (!err && !npk && mysql_errno(sn->sn_my))
                        err = snap_my_err(sn, "snapshot fetch");
                mysql_free_result(res);
                if (err)
                        goto out;
                done += got;
                sn->sn_rows += got;
                if (cdc_now_us() - last_log > 5000000) {
                        snap_progress(sn, table, done, est, start_us, 0);
                        last_log = cdc_now_us();
                }
                if (!npk || got < (uint64_t)sn->sn_chunk)
                        break;
        }
        snap_progress(sn, table, done, est, start_us, 1);
        err = CDC_ERR_NO_ERROR;
out:
        free(last.b);
        free(sql.b);
        free(cols.b);
        free(is_float);
        return err;
}

cdc_err_t cdc_snapshot_run(cdc_snapshot_t *sn, cdc_snapshot_row_cb_t *cb,
                           void *opaque, volatile sig_atomic_t *run) {
        size_t i;
        cdc_err_t err;
        if (!sn->sn_my) {
                snprintf(sn->sn_errstr, sizeof(sn->sn_errstr),
                         "snapshot not begun");
                return CDC_ERR__STATE;
        }
        for (i = 0; i < sn->sn_table_cnt; i++) {
                err = snap_table(sn, sn->sn_tables[i], cb, opaque, run);
                if (err)
                        return err;
        }
        (void)snap_exec(sn, "COMMIT");
        return CDC_ERR_NO_ERROR;
}

uint64_t cdc_snapshot_rows(const cdc_snapshot_t *sn) {
        return sn->sn_rows;
}

const char *cdc_snapshot_errstr(const cdc_snapshot_t *sn) {
        return sn->sn_errstr;
}
