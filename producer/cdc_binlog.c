/**
 * @file cdc_binlog.c
 * @brief The replication stream: a replica connection through libmariadb's
 *        mariadb_rpl_* API, server checks, GTID / file:pos tracking, and
 *        row events of the watched tables turned into items.
 *
 * libmariadb is used for the connection and the packet framing only
 * (mariadb_rpl_open / mariadb_rpl_fetch); every event is decoded from its
 * raw bytes by cdc_rowdec.c. Reasons, Connector/C 3.3.20:
 * - mariadb_rpl_extract_rows() fails on all-integer tables and loses the
 *   sign of TINYINT..INT;
 * - there is no GTID start option: we set the replica session variables
 *   (@slave_connect_state, ...) before COM_BINLOG_DUMP ourselves;
 * - mariadb_rpl_fetch(rpl, ev) frees the previous event held in ev, so
 *   anything kept across events (TABLE_MAPs) is copied.
 * A second plain connection answers metadata queries (information_schema
 * column names when binlog_row_metadata is not FULL, current position).
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <strings.h>
#include <sys/types.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <mysql.h>
#include <errmsg.h>
#include <mariadb_rpl.h>
#include <ma_pvio.h>
#include "cdc_binlog.h"
#include "cdc_binlog_int.h"
#include "cdc_log.h"
#include "cdc_mysql.h"
#include "cdc_rowdec.h"

#define BINLOG_GTID_DOMAINS 64
#define BINLOG_TABLE_CACHE  64

typedef struct binlog_gtid_s {
        uint32_t domain;
        uint32_t server;
        uint64_t seq;
} binlog_gtid_t;

/* Column information of a watched table from information_schema. */
typedef struct binlog_schema_s {
        int loaded;
        uint32_t ncols;
        char **names;
        uint8_t *is_unsigned;
        uint8_t *is_binary;
        char ***labels;
        uint32_t *label_cnt;
} binlog_schema_t;

typedef struct binlog_tcache_s {
        cdc_rowdec_table_t *t;
        size_t watched; /* index in bl_tables */
        uint64_t used;  /* LRU stamp */
} binlog_tcache_t;

struct cdc_binlog_s {
        /* options (copied) */
        cdc_mysql_target_t bl_tgt; /* the server */
        char *bl_db;
        char **bl_tables;
        size_t bl_table_cnt;
        uint32_t bl_server_id;
        int bl_heartbeat_ms, bl_connect_timeout_ms, bl_read_timeout_ms;
        cdc_tz_t *bl_tz;

        /* servers */
        MYSQL *bl_meta;  /* plain SQL connection */
        MYSQL *bl_mysql; /* replication connection */
        MARIADB_RPL *bl_rpl;
        MARIADB_RPL_EVENT *bl_ev; /* reused by mariadb_rpl_fetch */
        int bl_is_mysql;          /* MySQL (not MariaDB) server */
        int bl_gtid_mode;         /* streaming by GTID */

        /* format */
        int bl_has_crc;
        int bl_fde_seen;
        uint8_t bl_phl[256]; /* post-header length per event type */

        /* positions */
        char bl_file[256];                        /* current binlog file */
        binlog_gtid_t bl_gs[BINLOG_GTID_DOMAINS]; /* committed GTID set */
        size_t bl_gs_n;
        int bl_gs_complete;     /* the set covers every domain */
        cdc_pos_t bl_committed; /* after the last complete transaction */

        /* current transaction */
        int bl_in_trx;
        int bl_trx_standalone;
        int bl_trx_has_gtid;
        binlog_gtid_t bl_trx_gtid;
        uint64_t bl_trx_start;
        uint32_t bl_trx_ts; /* GTID event time (commit), 0: none */
        uint32_t bl_trx_row;

        /* tables */
        binlog_tcache_t bl_tc[BINLOG_TABLE_CACHE];
        size_t bl_tc_n;
        uint64_t bl_tc_clock;
        binlog_schema_t *bl_schema; /* one per watched table */

        /* rows event being returned row by row */
        int bl_rows_active;
        cdc_rowdec_rows_t bl_rows;
        const cdc_rowdec_table_t *bl_rows_t;
        uint32_t bl_rows_ts;
        uint32_t bl_rows_server; /* server id in the event header */

        /* pending items */
        int bl_pending_commit;
        int bl_pending_ddl;
        char *bl_stmt;
        char bl_ddl_table[65];

        int64_t bl_last_rx_ms; /* last packet from the server */

        cdc_binlog_item_t bl_item;
        char bl_errstr[512];
};

/* ---- helpers ---- */

static void binlog_seterr(cdc_binlog_t *bl, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static void binlog_seterr(cdc_binlog_t *bl, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(bl->bl_errstr, sizeof(bl->bl_errstr), fmt, ap);
        va_end(ap);
}

static char *binlog_strdup(const char *s) {
        return s ? strdup(s) : NULL;
}

static int64_t binlog_now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Maps a MySQL client / server error to our codes. */
static cdc_err_t binlog_mysql_err(cdc_binlog_t *bl, MYSQL *m,
                                  const char *what) {
        unsigned e = mysql_errno(m);
        binlog_seterr(bl, "%s: %s (%u)", what,
                      e ? mysql_error(m) : "connection closed by server", e);
        if (e == 1236)
                return CDC_ERR__NOENT;
        if (e == 0 || e >= 2000)
                return CDC_ERR__TRANSPORT;
        return CDC_ERR__SERVER;
}

static MYSQL *binlog_connect(cdc_binlog_t *bl, cdc_err_t *errp) {
        unsigned ct = (unsigned)((bl->bl_connect_timeout_ms + 999) / 1000);
        unsigned rt = (unsigned)((bl->bl_read_timeout_ms + 999) / 1000);
        cdc_mysql_opts_t o = {
                .connect_timeout_s = ct ? ct : 10,
                .rw_timeout_s      = rt ? rt : 30,
                .charset           = "utf8mb4",
                .no_db             = 1,
        };
        MYSQL *m;

        if (cdc_mysql_connect(&bl->bl_tgt, &o, &m)) {
                if (!m) {
                        binlog_seterr(bl, "mysql_init: out of memory");
                        *errp = CDC_ERR__NOMEM;
                        return NULL;
                }
                *errp = binlog_mysql_err(bl, m, "connect");
                /* access denied is a configuration problem, not transient */
                if (mysql_errno(m) == 1045 || mysql_errno(m) == 1044)
                        *errp = CDC_ERR__SERVER;
                mysql_close(m);
                return NULL;
        }
        *errp = CDC_ERR_NO_ERROR;
        return m;
}

static cdc_err_t binlog_meta_conn(cdc_binlog_t *bl) {
        cdc_err_t err;
        if (bl->bl_meta) {
                if (mysql_ping(bl->bl_meta) == 0)
                        return CDC_ERR_NO_ERROR;
                mysql_close(bl->bl_meta);
                bl->bl_meta = NULL;
        }
        bl->bl_meta = binlog_connect(bl, &err);
        return err;
}

/* Runs a query on \p m, returns its result (may be NULL for no rows). */
static cdc_err_t binlog_query(cdc_binlog_t *bl, MYSQL *m, const char *q,
                              MYSQL_RES **resp) {
        if (resp)
                *resp = NULL;
        if (mysql_real_query(m, q, (unsigned long)strlen(q)))
                return binlog_mysql_err(bl, m, q);
        if (resp) {
                *resp = mysql_store_result(m);
                if (!*resp && mysql_errno(m))
                        return binlog_mysql_err(bl, m, q);
        }
        return CDC_ERR_NO_ERROR;
}

/* ---- lifecycle ---- */

cdc_binlog_t *cdc_binlog_new(const cdc_binlog_opts_t *opts, char *errstr,
                             size_t errstr_size) {
        cdc_binlog_t *bl = NULL, *ret = NULL;
        size_t i;

        if (!opts || !opts->target || !opts->target->user || !opts->db ||
            !opts->tables || opts->table_cnt == 0 || opts->server_id == 0) {
                snprintf(errstr, errstr_size,
                         "binlog: user, db, tables and a non-zero server id "
                         "are required");
                goto out;
        }
        if (strlen(opts->db) > 64) {
                snprintf(errstr, errstr_size, "binlog: db name too long");
                goto out;
        }
        bl = calloc(1, sizeof(*bl));
        if (!bl)
                goto nomem;
        bl->bl_db     = binlog_strdup(opts->db);
        bl->bl_tables = calloc(opts->table_cnt, sizeof(char *));
        bl->bl_schema = calloc(opts->table_cnt, sizeof(binlog_schema_t));
        if (cdc_mysql_target_copy(&bl->bl_tgt, opts->target) || !bl->bl_db ||
            !bl->bl_tables || !bl->bl_schema)
                goto nomem;
        bl->bl_table_cnt = opts->table_cnt;
        for (i = 0; i < opts->table_cnt; i++) {
                if (!opts->tables[i] || strlen(opts->tables[i]) > 64) {
                        snprintf(errstr, errstr_size, "binlog: bad table name");
                        goto out;
                }
                bl->bl_tables[i] = strdup(opts->tables[i]);
                if (!bl->bl_tables[i])
                        goto nomem;
        }
        bl->bl_server_id          = opts->server_id;
        bl->bl_heartbeat_ms       = opts->heartbeat_ms;
        bl->bl_connect_timeout_ms = opts->connect_timeout_ms;
        bl->bl_read_timeout_ms    = opts->read_timeout_ms;
        bl->bl_tz = cdc_tz_new(opts->source_tz, errstr, errstr_size);
        if (!bl->bl_tz)
                goto out;
        ret = bl;
        bl  = NULL;
        goto out;
nomem:
        snprintf(errstr, errstr_size, "binlog: out of memory");
out:
        cdc_binlog_destroy(bl);
        return ret;
}

static void binlog_schema_clear(binlog_schema_t *s) {
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

static void binlog_tcache_clear(cdc_binlog_t *bl) {
        size_t i;
        for (i = 0; i < bl->bl_tc_n; i++)
                cdc_rowdec_table_destroy(bl->bl_tc[i].t);
        bl->bl_tc_n = 0;
}

static void binlog_item_release(cdc_binlog_t *bl) {
        json_decref(bl->bl_item.before);
        json_decref(bl->bl_item.after);
        memset(&bl->bl_item, 0, sizeof(bl->bl_item));
}

void cdc_binlog_close(cdc_binlog_t *bl) {
        if (!bl)
                return;
        binlog_item_release(bl);
        bl->bl_rows_active    = 0;
        bl->bl_rows_t         = NULL;
        bl->bl_pending_commit = 0;
        bl->bl_pending_ddl    = 0;
        if (bl->bl_ev) {
                mariadb_free_rpl_event(bl->bl_ev);
                bl->bl_ev = NULL;
        }
        if (bl->bl_rpl) {
                mariadb_rpl_close(bl->bl_rpl);
                bl->bl_rpl = NULL;
        }
        if (bl->bl_mysql) {
                mysql_close(bl->bl_mysql);
                bl->bl_mysql = NULL;
        }
        binlog_tcache_clear(bl);
}

void cdc_binlog_destroy(cdc_binlog_t *bl) {
        size_t i;
        if (!bl)
                return;
        cdc_binlog_close(bl);
        if (bl->bl_meta)
                mysql_close(bl->bl_meta);
        for (i = 0; bl->bl_tables && i < bl->bl_table_cnt; i++) {
                free(bl->bl_tables[i]);
                if (bl->bl_schema)
                        binlog_schema_clear(&bl->bl_schema[i]);
        }
        free(bl->bl_tables);
        free(bl->bl_schema);
        cdc_mysql_target_clear(&bl->bl_tgt);
        free(bl->bl_db);
        free(bl->bl_stmt);
        cdc_tz_destroy(bl->bl_tz);
        free(bl);
}

const char *cdc_binlog_errstr(const cdc_binlog_t *bl) {
        return bl ? bl->bl_errstr : "";
}

/* ---- server checks ---- */

/* Value of one global variable, "" if the server does not have it. */
static cdc_err_t binlog_var(cdc_binlog_t *bl, const char *name, char *val,
                            size_t size) {
        char q[160];
        MYSQL_RES *res = NULL;
        MYSQL_ROW row;
        cdc_err_t err;

        val[0] = '\0';
        snprintf(q, sizeof(q), "SHOW GLOBAL VARIABLES LIKE '%s'", name);
        err = binlog_query(bl, bl->bl_meta, q, &res);
        if (err)
                return err;
        row = res ? mysql_fetch_row(res) : NULL;
        if (row && row[1])
                snprintf(val, size, "%s", row[1]);
        mysql_free_result(res);
        return CDC_ERR_NO_ERROR;
}

/* Whether a SHOW GRANTS line grants \p priv globally. */
static int binlog_grant_has(const char *g, const char *priv) {
        const char *p;
        size_t l = strlen(priv);
        if (!strstr(g, " ON *.*"))
                return 0;
        if (strstr(g, "ALL PRIVILEGES ON *.*"))
                return 1;
        for (p = strstr(g, priv); p; p = strstr(p + l, priv)) {
                char next = p[l];
                if ((p == g || p[-1] == ' ' || p[-1] == ',') &&
                    (next == ',' || next == ' ') &&
                    strncmp(p + l, " ADMIN", 6) != 0)
                        return 1;
        }
        return 0;
}

cdc_err_t cdc_binlog_check(cdc_binlog_t *bl) {
        char v[256], q[400];
        MYSQL_RES *res = NULL;
        MYSQL_ROW row;
        cdc_err_t err;
        int repl_slave = 0, repl_client = 0;
        size_t i;

        err = binlog_meta_conn(bl);
        if (err)
                goto out;
        bl->bl_is_mysql =
                strstr(mysql_get_server_info(bl->bl_meta), "MariaDB") == NULL;
        if ((err = binlog_var(bl, "log_bin", v, sizeof(v))))
                goto out;
        if (strcasecmp(v, "ON") && strcmp(v, "1")) {
                binlog_seterr(bl, "the server's binary log is off: start it "
                                  "with log_bin=mysql-bin (my.cnf [mysqld])");
                err = CDC_ERR__SERVER;
                goto out;
        }
        if ((err = binlog_var(bl, "binlog_format", v, sizeof(v))))
                goto out;
        if (strcasecmp(v, "ROW")) {
                binlog_seterr(bl,
                              "binlog_format is %s: set "
                              "binlog_format=ROW (SET GLOBAL binlog_format="
                              "'ROW' and in my.cnf)",
                              v);
                err = CDC_ERR__SERVER;
                goto out;
        }
        if ((err = binlog_var(bl, "binlog_row_image", v, sizeof(v))))
                goto out;
        if (v[0] && strcasecmp(v, "FULL")) {
                binlog_seterr(bl,
                              "binlog_row_image is %s: set "
                              "binlog_row_image=FULL (SET GLOBAL and my.cnf)",
                              v);
                err = CDC_ERR__SERVER;
                goto out;
        }
        if ((err = binlog_var(bl, "log_bin_compress", v, sizeof(v))))
                goto out;
        if (!strcasecmp(v, "ON")) {
                binlog_seterr(bl, "log_bin_compress is ON: compressed binlog "
                                  "events are not supported, set "
                                  "log_bin_compress=OFF");
                err = CDC_ERR__SERVER;
                goto out;
        }
        if ((err = binlog_var(bl, "binlog_row_value_options", v, sizeof(v))))
                goto out;
        if (strcasestr(v, "PARTIAL_JSON")) {
                binlog_seterr(bl,
                              "binlog_row_value_options is %s: partial "
                              "JSON updates are not supported, set "
                              "binlog_row_value_options=''",
                              v);
                err = CDC_ERR__SERVER;
                goto out;
        }
        if ((err = binlog_var(bl, "binlog_row_metadata", v, sizeof(v))))
                goto out;
        if (strcasecmp(v, "FULL"))
                cdc_log(LOG_NOTICE, "BINLOG",
                        "binlog_row_metadata is %s: column names come from "
                        "information_schema (set binlog_row_metadata=FULL "
                        "to take them from the binlog)",
                        v[0] ? v : "absent");
        if (!bl->bl_is_mysql) {
                if ((err = binlog_var(bl, "gtid_strict_mode", v, sizeof(v))))
                        goto out;
                if (strcasecmp(v, "ON"))
                        cdc_log(LOG_WARNING, "BINLOG",
                                "gtid_strict_mode is %s: GTID positions may "
                                "not survive a failover (set "
                                "gtid_strict_mode=ON)",
                                v);
        } else {
                cdc_log(LOG_NOTICE, "BINLOG",
                        "MySQL server: positions are binlog file:pos");
        }

        /* privileges */
        if ((err = binlog_query(bl, bl->bl_meta,
                                "SHOW GRANTS FOR CURRENT_USER()", &res)))
                goto out;
        for (row = res ? mysql_fetch_row(res) : NULL; row;
             row = mysql_fetch_row(res)) {
                if (!row[0])
                        continue;
                repl_slave |= binlog_grant_has(row[0], "REPLICATION SLAVE");
                repl_client |= binlog_grant_has(row[0], "REPLICATION CLIENT") |
                               binlog_grant_has(row[0], "BINLOG MONITOR") |
                               binlog_grant_has(row[0], "SUPER");
        }
        mysql_free_result(res);
        res = NULL;
        if (!repl_slave) {
                binlog_seterr(bl,
                              "user %s lacks REPLICATION SLAVE: GRANT "
                              "REPLICATION SLAVE, REPLICATION CLIENT ON *.* "
                              "TO the producer user",
                              bl->bl_tgt.user);
                err = CDC_ERR__SERVER;
                goto out;
        }
        if (!repl_client) {
                binlog_seterr(bl,
                              "user %s lacks REPLICATION CLIENT / BINLOG "
                              "MONITOR: GRANT REPLICATION CLIENT ON *.* TO "
                              "the producer user",
                              bl->bl_tgt.user);
                err = CDC_ERR__SERVER;
                goto out;
        }
        for (i = 0; i < bl->bl_table_cnt; i++) {
                unsigned e;
                snprintf(q, sizeof(q), "SELECT 1 FROM `%s`.`%s` LIMIT 0",
                         bl->bl_db, bl->bl_tables[i]);
                if (strchr(bl->bl_db, '`') || strchr(bl->bl_tables[i], '`')) {
                        binlog_seterr(bl,
                                      "table name %s.%s: backquotes "
                                      "are not supported",
                                      bl->bl_db, bl->bl_tables[i]);
                        err = CDC_ERR__CONFIG;
                        goto out;
                }
                if (mysql_real_query(bl->bl_meta, q,
                                     (unsigned long)strlen(q)) == 0) {
                        res = mysql_store_result(bl->bl_meta);
                        mysql_free_result(res);
                        res = NULL;
                        continue;
                }
                e = mysql_errno(bl->bl_meta);
                if (e >= 2000) {
                        err = binlog_mysql_err(bl, bl->bl_meta, q);
                        goto out;
                }
                if (e == 1146 || e == 1049)
                        binlog_seterr(bl,
                                      "table %s.%s does not exist: "
                                      "create it (schemas/mysql) or fix the "
                                      "table list",
                                      bl->bl_db, bl->bl_tables[i]);
                else
                        binlog_seterr(bl,
                                      "no SELECT on %s.%s (or it does "
                                      "not exist): GRANT SELECT ON %s.%s TO "
                                      "the producer user (%s)",
                                      bl->bl_db, bl->bl_tables[i], bl->bl_db,
                                      bl->bl_tables[i],
                                      mysql_error(bl->bl_meta));
                err = CDC_ERR__SERVER;
                goto out;
        }
        err = CDC_ERR_NO_ERROR;
out:
        mysql_free_result(res);
        return err;
}

cdc_err_t cdc_binlog_current_pos(cdc_binlog_t *bl, cdc_pos_t *pos) {
        MYSQL_RES *res = NULL;
        MYSQL_ROW row;
        cdc_err_t err;
        cdc_pos_t p;

        memset(&p, 0, sizeof(p));
        err = binlog_meta_conn(bl);
        if (err)
                goto out;
        bl->bl_is_mysql =
                strstr(mysql_get_server_info(bl->bl_meta), "MariaDB") == NULL;
        if (!bl->bl_is_mysql) {
                /* GTID first: if a transaction commits in between, the
                 * file:pos is the later one and resuming by GTID replays
                 * it (a harmless duplicate) instead of skipping it. */
                if ((err = binlog_query(bl, bl->bl_meta,
                                        "SELECT @@global.gtid_binlog_pos",
                                        &res)))
                        goto out;
                row = res ? mysql_fetch_row(res) : NULL;
                if (row && row[0])
                        snprintf(p.gtid, sizeof(p.gtid), "%s", row[0]);
                mysql_free_result(res);
                res = NULL;
        }
        if ((err = binlog_query(bl, bl->bl_meta, "SHOW MASTER STATUS", &res)))
                goto out;
        row = res ? mysql_fetch_row(res) : NULL;
        if (!row || !row[0] || !row[1]) {
                binlog_seterr(bl, "SHOW MASTER STATUS: no binary log (is "
                                  "log_bin on and do we have BINLOG MONITOR?)");
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

/* ---- GTID set ---- */

static int binlog_gs_parse(cdc_binlog_t *bl, const char *s) {
        const char *p = s;
        bl->bl_gs_n   = 0;
        while (*p) {
                unsigned long long d, sv, n;
                char *e;
                errno = 0;
                d     = strtoull(p, &e, 10);
                if (e == p || *e != '-')
                        return -1;
                p  = e + 1;
                sv = strtoull(p, &e, 10);
                if (e == p || *e != '-')
                        return -1;
                p = e + 1;
                n = strtoull(p, &e, 10);
                if (e == p || errno || d > UINT32_MAX || sv > UINT32_MAX)
                        return -1;
                p = e;
                if (bl->bl_gs_n >= BINLOG_GTID_DOMAINS)
                        return -1;
                bl->bl_gs[bl->bl_gs_n].domain = (uint32_t)d;
                bl->bl_gs[bl->bl_gs_n].server = (uint32_t)sv;
                bl->bl_gs[bl->bl_gs_n].seq    = n;
                bl->bl_gs_n++;
                if (*p == ',')
                        p++;
                else if (*p)
                        return -1;
        }
        return 0;
}

static binlog_gtid_t *binlog_gs_find(cdc_binlog_t *bl, uint32_t domain) {
        size_t i;
        for (i = 0; i < bl->bl_gs_n; i++)
                if (bl->bl_gs[i].domain == domain)
                        return &bl->bl_gs[i];
        return NULL;
}

static int binlog_gs_set(cdc_binlog_t *bl, const binlog_gtid_t *g,
                         int only_new) {
        binlog_gtid_t *e = binlog_gs_find(bl, g->domain);
        if (e) {
                if (!only_new)
                        *e = *g;
                return 0;
        }
        if (bl->bl_gs_n >= BINLOG_GTID_DOMAINS)
                return -1;
        bl->bl_gs[bl->bl_gs_n++] = *g;
        return 0;
}

static int binlog_gs_format(const cdc_binlog_t *bl, char *buf, size_t size) {
        size_t i, j, o = 0;
        uint32_t last = 0;
        buf[0]        = '\0';
        for (i = 0; i < bl->bl_gs_n; i++) { /* in domain order */
                const binlog_gtid_t *best = NULL;
                int n;
                for (j = 0; j < bl->bl_gs_n; j++) {
                        const binlog_gtid_t *g = &bl->bl_gs[j];
                        if ((i == 0 || g->domain > last) &&
                            (!best || g->domain < best->domain))
                                best = g;
                }
                if (!best)
                        break;
                last = best->domain;
                n    = snprintf(buf + o, size - o, "%s%u-%u-%llu", o ? "," : "",
                                best->domain, best->server,
                                (unsigned long long)best->seq);
                if (n < 0 || (size_t)n >= size - o)
                        return -1;
                o += (size_t)n;
        }
        return 0;
}

/* Stream state for streaming from \p sp (no I/O). */
static cdc_err_t binlog_stream_reset(cdc_binlog_t *bl, const cdc_pos_t *sp,
                                     int from_end) {
        bl->bl_gtid_mode = !bl->bl_is_mysql && sp->gtid[0];
        bl->bl_gs_n      = 0;
        if (bl->bl_gtid_mode && binlog_gs_parse(bl, sp->gtid)) {
                binlog_seterr(bl, "bad GTID set \"%s\"", sp->gtid);
                bl->bl_gs_n = 0;
                return CDC_ERR__CONFIG;
        }
        /* From file:pos the set is only known once a GTID_LIST (at the
         * start of the next file) has told us every domain. At the end of
         * a MariaDB binlog without any GTID yet, the empty set is the
         * whole set. */
        bl->bl_gs_complete = bl->bl_gtid_mode || (from_end && !bl->bl_is_mysql);
        if (!bl->bl_gtid_mode && !sp->file[0]) {
                binlog_seterr(bl, "no binlog file in the start position and "
                                  "no GTID support");
                return CDC_ERR__CONFIG;
        }
        bl->bl_committed = *sp;
        snprintf(bl->bl_file, sizeof(bl->bl_file), "%s", sp->file);
        bl->bl_in_trx         = 0;
        bl->bl_trx_has_gtid   = 0;
        bl->bl_trx_standalone = 0;
        bl->bl_has_crc        = 0;
        bl->bl_fde_seen       = 0;
        memset(bl->bl_phl, 0, sizeof(bl->bl_phl));
        return CDC_ERR_NO_ERROR;
}

/* ---- open ---- */

static cdc_err_t binlog_process(cdc_binlog_t *bl, int *producedp);
static cdc_err_t binlog_stream_reset(cdc_binlog_t *bl, const cdc_pos_t *sp,
                                     int from_end);

cdc_err_t cdc_binlog_open(cdc_binlog_t *bl, const cdc_pos_t *start) {
        char q[CDC_POS_GTID_MAX + 128];
        cdc_pos_t sp;
        cdc_err_t err;
        int produced = 0, from_end = 0;

        cdc_binlog_close(bl);
        bl->bl_errstr[0] = '\0';
        if (!start || cdc_pos_is_empty(start)) {
                from_end = 1;
                err      = cdc_binlog_current_pos(bl, &sp);
                if (err)
                        return err;
        } else {
                sp = *start;
        }
        bl->bl_mysql = binlog_connect(bl, &err);
        if (!bl->bl_mysql)
                return err;
        bl->bl_is_mysql =
                strstr(mysql_get_server_info(bl->bl_mysql), "MariaDB") == NULL;
        err = binlog_stream_reset(bl, &sp, from_end);
        if (err)
                goto fail;

        /* The replica handshake libmariadb has no options for. */
        if ((err = binlog_query(bl, bl->bl_mysql,
                                "SET @master_binlog_checksum = "
                                "@@global.binlog_checksum",
                                NULL)))
                goto fail;
        if (!bl->bl_is_mysql &&
            (err = binlog_query(bl, bl->bl_mysql,
                                "SET @mariadb_slave_capability = 4", NULL)))
                goto fail;
        if (bl->bl_heartbeat_ms > 0) {
                snprintf(q, sizeof(q), "SET @master_heartbeat_period = %lld",
                         (long long)bl->bl_heartbeat_ms * 1000000LL);
                if ((err = binlog_query(bl, bl->bl_mysql, q, NULL)))
                        goto fail;
        }
        if (bl->bl_gtid_mode) {
                snprintf(q, sizeof(q), "SET @slave_connect_state = '%s'",
                         sp.gtid); /* digits, '-' and ',' only */
                if ((err = binlog_query(bl, bl->bl_mysql, q, NULL)) ||
                    (err = binlog_query(bl, bl->bl_mysql,
                                        "SET @slave_gtid_strict_mode = 1",
                                        NULL)) ||
                    (err = binlog_query(bl, bl->bl_mysql,
                                        "SET @slave_gtid_ignore_duplicates "
                                        "= 0",
                                        NULL)))
                        goto fail;
        }
        bl->bl_rpl = mariadb_rpl_init(bl->bl_mysql);
        if (!bl->bl_rpl) {
                err = binlog_mysql_err(bl, bl->bl_mysql, "mariadb_rpl_init");
                goto fail;
        }
        mariadb_rpl_optionsv(bl->bl_rpl, MARIADB_RPL_SERVER_ID,
                             (unsigned)bl->bl_server_id);
        mariadb_rpl_optionsv(bl->bl_rpl, MARIADB_RPL_FLAGS, 0u);
        if (bl->bl_gtid_mode) {
                mariadb_rpl_optionsv(bl->bl_rpl, MARIADB_RPL_FILENAME, "",
                                     (size_t)0);
                mariadb_rpl_optionsv(bl->bl_rpl, MARIADB_RPL_START, 4UL);
        } else {
                mariadb_rpl_optionsv(bl->bl_rpl, MARIADB_RPL_FILENAME, sp.file,
                                     strlen(sp.file));
                mariadb_rpl_optionsv(bl->bl_rpl, MARIADB_RPL_START,
                                     (unsigned long)(sp.pos ? sp.pos : 4));
        }
        if (mariadb_rpl_open(bl->bl_rpl)) {
                err = binlog_mysql_err(bl, bl->bl_mysql, "binlog dump");
                goto fail;
        }
        /* The server answers the dump at once with a ROTATE or an error
         * (1236: position purged): read it here so _open reports it. */
        bl->bl_ev = mariadb_rpl_fetch(bl->bl_rpl, NULL);
        if (!bl->bl_ev) {
                err = binlog_mysql_err(bl, bl->bl_mysql, "binlog dump");
                goto fail;
        }
        bl->bl_last_rx_ms = binlog_now_ms();
        err               = binlog_process(bl, &produced);
        if (err)
                goto fail;
        if (bl->bl_gtid_mode)
                cdc_log(LOG_NOTICE, "BINLOG",
                        "streaming from GTID %s as "
                        "server id %u",
                        sp.gtid, bl->bl_server_id);
        else
                cdc_log(LOG_NOTICE, "BINLOG",
                        "streaming from %s:%llu as "
                        "server id %u",
                        sp.file, (unsigned long long)sp.pos, bl->bl_server_id);
        return CDC_ERR_NO_ERROR;
fail : {
        char keep[sizeof(bl->bl_errstr)];
        memcpy(keep, bl->bl_errstr, sizeof(keep));
        cdc_binlog_close(bl);
        memcpy(bl->bl_errstr, keep, sizeof(keep));
}
        return err;
}

/* ---- schema from information_schema ---- */

/* Parses "enum('a','b''c')" / "set(...)" labels. */
static int binlog_parse_labels(const char *ct, char ***labelsp,
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

static cdc_err_t binlog_schema_load(cdc_binlog_t *bl, size_t w) {
        binlog_schema_t *s = &bl->bl_schema[w];
        char q[600], edb[140], et[140];
        MYSQL_RES *res = NULL;
        MYSQL_ROW row;
        cdc_err_t err;
        uint32_t n, i = 0;

        binlog_schema_clear(s);
        if ((err = binlog_meta_conn(bl)))
                return err;
        mysql_real_escape_string(bl->bl_meta, edb, bl->bl_db,
                                 (unsigned long)strlen(bl->bl_db));
        mysql_real_escape_string(bl->bl_meta, et, bl->bl_tables[w],
                                 (unsigned long)strlen(bl->bl_tables[w]));
        snprintf(q, sizeof(q),
                 "SELECT COLUMN_NAME, COLUMN_TYPE, CHARACTER_SET_NAME, "
                 "DATA_TYPE FROM information_schema.COLUMNS WHERE "
                 "TABLE_SCHEMA = '%s' AND TABLE_NAME = '%s' ORDER BY "
                 "ORDINAL_POSITION",
                 edb, et);
        if ((err = binlog_query(bl, bl->bl_meta, q, &res)))
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
                    binlog_parse_labels(ct, &s->labels[i], &s->label_cnt[i])) {
                        err = CDC_ERR__NOMEM;
                        goto out;
                }
                i++;
        }
        s->loaded = 1;
        err       = CDC_ERR_NO_ERROR;
out:
        if (err)
                binlog_schema_clear(s);
        mysql_free_result(res);
        return err;
}

/* Fills what the TABLE_MAP lacks from information_schema. */
static cdc_err_t binlog_table_complete(cdc_binlog_t *bl, cdc_rowdec_table_t *t,
                                       size_t w) {
        binlog_schema_t *s = &bl->bl_schema[w];
        cdc_err_t err;
        uint32_t i;

        if (t->has_names && t->has_sign && t->has_charset && t->has_labels)
                return CDC_ERR_NO_ERROR;
        if (!s->loaded && (err = binlog_schema_load(bl, w)))
                return err;
        if (s->ncols != t->ncols) {
                /* a cached schema may predate a DDL we did not see */
                if ((err = binlog_schema_load(bl, w)))
                        return err;
        }
        if (s->ncols != t->ncols) {
                binlog_seterr(bl,
                              "%s.%s: the binlog has %u columns, "
                              "information_schema %u (DDL since that event): "
                              "set binlog_row_metadata=FULL so names come "
                              "from the binlog",
                              t->db, t->name, t->ncols, s->ncols);
                return CDC_ERR__BAD_EVENT;
        }
        for (i = 0; i < t->ncols; i++)
                if (cdc_rowdec_table_set_col(
                            t, i, t->has_names ? NULL : s->names[i],
                            s->is_unsigned[i], s->is_binary[i],
                            t->has_labels ? NULL
                                          : (const char *const *)s->labels[i],
                            s->label_cnt[i]))
                        return CDC_ERR__NOMEM;
        return CDC_ERR_NO_ERROR;
}

/* ---- event processing ---- */

static ssize_t binlog_watched(const cdc_binlog_t *bl, const char *db,
                              const char *table) {
        size_t i;
        if (strcmp(db, bl->bl_db))
                return -1;
        for (i = 0; i < bl->bl_table_cnt; i++)
                if (!strcmp(table, bl->bl_tables[i]))
                        return (ssize_t)i;
        return -1;
}

static binlog_tcache_t *binlog_tc_find(cdc_binlog_t *bl, uint64_t id) {
        size_t i;
        for (i = 0; i < bl->bl_tc_n; i++)
                if (bl->bl_tc[i].t->id == id)
                        return &bl->bl_tc[i];
        return NULL;
}

static void binlog_tc_remove(cdc_binlog_t *bl, size_t i) {
        cdc_rowdec_table_destroy(bl->bl_tc[i].t);
        bl->bl_tc[i] = bl->bl_tc[--bl->bl_tc_n];
}

static void binlog_tc_forget_table(cdc_binlog_t *bl, size_t w) {
        size_t i = 0;
        while (i < bl->bl_tc_n) {
                if (bl->bl_tc[i].watched == w)
                        binlog_tc_remove(bl, i);
                else
                        i++;
        }
}

static cdc_err_t binlog_on_table_map(cdc_binlog_t *bl,
                                     const cdc_rowdec_ev_t *ev) {
        unsigned phl = bl->bl_phl[CDC_EV_TABLE_MAP];
        char db[65], table[65];
        uint64_t id;
        ssize_t w;
        binlog_tcache_t *tc;
        cdc_rowdec_table_t *t = NULL;
        cdc_err_t err;

        if (!phl)
                phl = 8;
        if (cdc_rowdec_table_map_peek(ev->body, ev->body_len, phl, &id, db,
                                      table)) {
                binlog_seterr(bl, "TABLE_MAP at %s:%u: truncated", bl->bl_file,
                              ev->next_pos);
                return CDC_ERR__BAD_EVENT;
        }
        tc = binlog_tc_find(bl, id);
        w  = binlog_watched(bl, db, table);
        if (w < 0) {
                if (tc)
                        binlog_tc_remove(bl, (size_t)(tc - bl->bl_tc));
                return CDC_ERR_NO_ERROR;
        }
        if (tc && tc->t->raw_len == ev->body_len &&
            !memcmp(tc->t->raw, ev->body, ev->body_len)) {
                tc->used = ++bl->bl_tc_clock; /* same map as before */
                return CDC_ERR_NO_ERROR;
        }
        err = cdc_rowdec_table_map(ev->body, ev->body_len, phl, &t,
                                   bl->bl_errstr, sizeof(bl->bl_errstr));
        if (err)
                return err;
        err = binlog_table_complete(bl, t, (size_t)w);
        if (err) {
                cdc_rowdec_table_destroy(t);
                return err;
        }
        if (tc) {
                cdc_rowdec_table_destroy(tc->t);
        } else if (bl->bl_tc_n < BINLOG_TABLE_CACHE) {
                tc = &bl->bl_tc[bl->bl_tc_n++];
        } else {
                size_t i, lru = 0;
                for (i = 1; i < bl->bl_tc_n; i++)
                        if (bl->bl_tc[i].used < bl->bl_tc[lru].used)
                                lru = i;
                tc = &bl->bl_tc[lru];
                cdc_rowdec_table_destroy(tc->t);
        }
        tc->t       = t;
        tc->watched = (size_t)w;
        tc->used    = ++bl->bl_tc_clock;
        return CDC_ERR_NO_ERROR;
}

static uint64_t binlog_file_no(const char *file) {
        const char *dot = strrchr(file, '.');
        return dot ? strtoull(dot + 1, NULL, 10) : 0;
}

static void binlog_trx_begin(cdc_binlog_t *bl, const cdc_rowdec_ev_t *ev) {
        bl->bl_in_trx    = 1;
        bl->bl_trx_row   = 0;
        bl->bl_trx_start = ev->next_pos >= ev->len ? ev->next_pos - ev->len : 0;
}

/* The transaction ends: the committed position moves past it. */
static cdc_err_t binlog_trx_commit(cdc_binlog_t *bl,
                                   const cdc_rowdec_ev_t *ev) {
        if (bl->bl_trx_has_gtid && binlog_gs_set(bl, &bl->bl_trx_gtid, 0)) {
                binlog_seterr(bl, "more than %d GTID domains",
                              BINLOG_GTID_DOMAINS);
                return CDC_ERR__BAD_EVENT;
        }
        if (!bl->bl_gs_complete) {
                bl->bl_committed.gtid[0] = '\0';
        } else if (binlog_gs_format(bl, bl->bl_committed.gtid,
                                    sizeof(bl->bl_committed.gtid))) {
                binlog_seterr(bl, "GTID set too long");
                return CDC_ERR__BAD_EVENT;
        }
        snprintf(bl->bl_committed.file, sizeof(bl->bl_committed.file), "%s",
                 bl->bl_file);
        if (ev->next_pos)
                bl->bl_committed.pos = ev->next_pos;
        bl->bl_in_trx         = 0;
        bl->bl_trx_has_gtid   = 0;
        bl->bl_trx_standalone = 0;
        bl->bl_pending_commit = 1;
        return CDC_ERR_NO_ERROR;
}

static int binlog_is_ident(char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
               (c >= '0' && c <= '9') || c == '_' || c == '$' ||
               (unsigned char)c >= 0x80;
}

/*
 * Whether a statement is DDL (ALTER/RENAME/DROP/CREATE/TRUNCATE) naming a
 * watched table, qualified with our db or unqualified with our db as the
 * default. @returns the watched index or -1.
 */
ssize_t cdc_binlog_ddl_table(const char *db, char *const *tables,
                             size_t table_cnt, const char *q, size_t len,
                             const char *evdb) {
        static const char *const kw[] = { "ALTER", "RENAME", "DROP", "CREATE",
                                          "TRUNCATE" };
        size_t i                      = 0, k;
        char prev[130]                = "", cur[130];
        int prev_dot = 0, found_kw = 0;
        size_t prev_end = 0;

        while (i < len) { /* leading blanks and comments */
                if (q[i] == ' ' || q[i] == '\t' || q[i] == '\n' ||
                    q[i] == '\r') {
                        i++;
                } else if (q[i] == '/' && i + 1 < len && q[i + 1] == '*') {
                        const char *e = NULL;
                        size_t j;
                        for (j = i + 2; j + 1 < len; j++)
                                if (q[j] == '*' && q[j + 1] == '/') {
                                        e = q + j;
                                        break;
                                }
                        if (!e)
                                return -1;
                        i = (size_t)(e - q) + 2;
                } else {
                        break;
                }
        }
        for (k = 0; k < sizeof(kw) / sizeof(kw[0]); k++) {
                size_t l = strlen(kw[k]);
                if (len - i >= l && !strncasecmp(q + i, kw[k], l) &&
                    (len - i == l || !binlog_is_ident(q[i + l]))) {
                        found_kw = 1;
                        break;
                }
        }
        if (!found_kw)
                return -1;
        while (i < len) {
                size_t o = 0;
                if (q[i] == '\'' || q[i] == '"') { /* string literal */
                        char qc = q[i++];
                        while (i < len && q[i] != qc) {
                                if (q[i] == '\\')
                                        i++;
                                i++;
                        }
                        i++;
                        prev[0] = '\0';
                        continue;
                }
                if (q[i] == '`') {
                        i++;
                        while (i < len) {
                                if (q[i] == '`') {
                                        if (i + 1 < len && q[i + 1] == '`') {
                                                i++;
                                        } else {
                                                break;
                                        }
                                }
                                if (o < sizeof(cur) - 1)
                                        cur[o++] = q[i];
                                i++;
                        }
                        i++;
                } else if (binlog_is_ident(q[i])) {
                        while (i < len && binlog_is_ident(q[i])) {
                                if (o < sizeof(cur) - 1)
                                        cur[o++] = q[i];
                                i++;
                        }
                } else {
                        prev_dot = q[i] == '.' && prev[0] && prev_end == i;
                        if (!prev_dot && q[i] != ' ')
                                prev[0] = '\0';
                        i++;
                        continue;
                }
                cur[o] = '\0';
                {
                        const char *qual = NULL;
                        size_t w;
                        if (prev_dot && prev[0])
                                qual = prev;
                        for (w = 0; w < table_cnt; w++) {
                                if (strcmp(cur, tables[w]))
                                        continue;
                                if (qual ? !strcmp(qual, db)
                                         : (evdb && !strcmp(evdb, db)))
                                        return (ssize_t)w;
                        }
                }
                memcpy(prev, cur, o + 1);
                prev_end = i;
                prev_dot = 0;
        }
        return -1;
}

static cdc_err_t binlog_on_query(cdc_binlog_t *bl, const cdc_rowdec_ev_t *ev,
                                 int *producedp) {
        unsigned phl = bl->bl_phl[CDC_EV_QUERY] ? bl->bl_phl[CDC_EV_QUERY] : 13;
        const uint8_t *b = ev->body;
        size_t dblen, stlen, off;
        char db[65];
        const char *q;
        size_t qlen;
        ssize_t w;
        int was_in_trx;

        if (ev->body_len < phl || phl < 13)
                goto bad;
        dblen = b[8];
        stlen = (size_t)b[11] | (size_t)b[12] << 8;
        off   = phl + stlen;
        if (dblen > 64 || off + dblen + 1 > ev->body_len)
                goto bad;
        memcpy(db, b + off, dblen);
        db[dblen] = '\0';
        q         = (const char *)b + off + dblen + 1;
        qlen      = ev->body_len - (off + dblen + 1);

        if (qlen == 5 && !strncasecmp(q, "BEGIN", 5)) {
                if (!bl->bl_trx_has_gtid)
                        binlog_trx_begin(bl, ev);
                return CDC_ERR_NO_ERROR;
        }
        if ((qlen == 6 && !strncasecmp(q, "COMMIT", 6)) ||
            (qlen == 8 && !strncasecmp(q, "ROLLBACK", 8)))
                return binlog_trx_commit(bl, ev);
        was_in_trx = bl->bl_in_trx;
        if (!was_in_trx) /* a statement outside BEGIN..COMMIT */
                binlog_trx_begin(bl, ev);
        w = cdc_binlog_ddl_table(bl->bl_db, bl->bl_tables, bl->bl_table_cnt, q,
                                 qlen, db);
        if (w >= 0) {
                char *s = malloc(qlen + 1);
                if (!s)
                        return CDC_ERR__NOMEM;
                memcpy(s, q, qlen);
                s[qlen] = '\0';
                free(bl->bl_stmt);
                bl->bl_stmt = s;
                snprintf(bl->bl_ddl_table, sizeof(bl->bl_ddl_table), "%s",
                         bl->bl_tables[w]);
                bl->bl_pending_ddl = 1;
                /* names and types change: reload them for later maps */
                binlog_tc_forget_table(bl, (size_t)w);
                binlog_schema_clear(&bl->bl_schema[w]);
                cdc_log(LOG_NOTICE, "BINLOG", "DDL on %s.%s at %s:%u: %.*s",
                        bl->bl_db, bl->bl_tables[w], bl->bl_file, ev->next_pos,
                        (int)(qlen > 200 ? 200 : qlen), q);
                *producedp = 1;
        }
        /* DDL and other statements logged outside a transaction end here
         * (MariaDB marks their GTID standalone; without GTIDs: no BEGIN
         * before them), a SAVEPOINT inside one does not */
        if (bl->bl_trx_standalone || (!bl->bl_trx_has_gtid && !was_in_trx))
                return binlog_trx_commit(bl, ev);
        return CDC_ERR_NO_ERROR;
bad:
        binlog_seterr(bl, "QUERY at %s:%u: truncated", bl->bl_file,
                      ev->next_pos);
        return CDC_ERR__BAD_EVENT;
}

static cdc_err_t binlog_on_rows(cdc_binlog_t *bl, const cdc_rowdec_ev_t *ev) {
        unsigned phl = bl->bl_phl[ev->type];
        uint64_t id;
        binlog_tcache_t *tc;
        cdc_err_t err;

        if (!phl)
                phl = ev->type >= CDC_EV_WRITE_ROWS_V2 ? 10 : 8;
        if (cdc_rowdec_rows_table_id(ev->body, ev->body_len, phl, &id)) {
                binlog_seterr(bl, "rows event at %s:%u: truncated", bl->bl_file,
                              ev->next_pos);
                return CDC_ERR__BAD_EVENT;
        }
        tc = binlog_tc_find(bl, id);
        if (!tc)
                return CDC_ERR_NO_ERROR; /* not a watched table */
        err = cdc_rowdec_rows(ev->type, ev->body, ev->body_len, phl,
                              &bl->bl_rows, bl->bl_errstr,
                              sizeof(bl->bl_errstr));
        if (err)
                return err;
        if (!bl->bl_in_trx)
                binlog_trx_begin(bl, ev);
        bl->bl_rows_t      = tc->t;
        bl->bl_rows_ts     = ev->ts;
        bl->bl_rows_server = ev->server_id;
        bl->bl_rows_active = 1;
        return CDC_ERR_NO_ERROR;
}

/* Processes the event in bl_ev. Sets *producedp when an item is ready
 * (pending DDL/commit/rows/heartbeat in bl_item). */
/* A binlog file name from the server: it ends up in checkpoints, so it
 * must be what cdc_pos_parse() accepts. @returns 0 or -1. */
static int binlog_file_set(cdc_binlog_t *bl, const uint8_t *s, size_t l) {
        size_t i;
        if (l == 0 || l >= sizeof(bl->bl_file))
                goto bad;
        for (i = 0; i < l; i++)
                if (s[i] <= ' ' || s[i] >= 0x7f || s[i] == ';' || s[i] == '=')
                        goto bad;
        memcpy(bl->bl_file, s, l);
        bl->bl_file[l] = '\0';
        return 0;
bad:
        binlog_seterr(bl,
                      "binlog file name from the server is not usable "
                      "(%zu bytes)",
                      l);
        return -1;
}

static cdc_err_t binlog_process_raw(cdc_binlog_t *bl, const uint8_t *b,
                                    size_t len, int *producedp) {
        cdc_rowdec_ev_t ev;
        cdc_err_t err;
        int crc;

        *producedp = 0;
        if (len >= CDC_EV_HEADER_LEN && b[4] == CDC_EV_FORMAT_DESCRIPTION) {
                crc = cdc_rowdec_fde_has_crc(b, len);
                if (crc < 0) {
                        binlog_seterr(bl, "malformed FORMAT_DESCRIPTION");
                        return CDC_ERR__BAD_EVENT;
                }
                bl->bl_has_crc  = crc;
                bl->bl_fde_seen = 1;
        }
        crc = bl->bl_has_crc;
        if (!bl->bl_fde_seen)
                /* Events before the FORMAT_DESCRIPTION (the fake ROTATE)
                 * carry a CRC if the server was asked for checksums:
                 * recognise it by its value. */
                crc = cdc_rowdec_crc_ok(b, len);
        err = cdc_rowdec_event(b, len, crc, &ev, bl->bl_errstr,
                               sizeof(bl->bl_errstr));
        if (err)
                return err;

        switch (ev.type) {
        case CDC_EV_FORMAT_DESCRIPTION: {
                /* version(2) server_version(50) ts(4) header_len(1)
                 * post-header lengths, one per type from 1 */
                size_t n, i;
                if (ev.body_len < 57 + 1)
                        break;
                n = ev.body_len - 57 - 1; /* minus the checksum alg byte */
                if (n > 255)
                        n = 255;
                for (i = 0; i < n; i++)
                        bl->bl_phl[i + 1] = ev.body[57 + i];
                break;
        }
        case CDC_EV_ROTATE: {
                size_t l;
                uint64_t pos;
                int artificial = ev.ts == 0 || (ev.flags & 0x20);
                if (ev.body_len < 8)
                        break;
                pos = (uint64_t)ev.body[0] | (uint64_t)ev.body[1] << 8 |
                      (uint64_t)ev.body[2] << 16 | (uint64_t)ev.body[3] << 24 |
                      (uint64_t)ev.body[4] << 32 | (uint64_t)ev.body[5] << 40;
                l = ev.body_len - 8;
                if (binlog_file_set(bl, ev.body + 8, l))
                        return CDC_ERR__BAD_EVENT;
                if (!bl->bl_in_trx &&
                    !(artificial && bl->bl_gtid_mode &&
                      bl->bl_committed.file[0] &&
                      strcmp(bl->bl_committed.file, bl->bl_file) == 0)) {
                        snprintf(bl->bl_committed.file,
                                 sizeof(bl->bl_committed.file), "%s",
                                 bl->bl_file);
                        if (!artificial || !bl->bl_gtid_mode)
                                bl->bl_committed.pos = pos;
                        else if (bl->bl_committed.pos == 0)
                                bl->bl_committed.pos = pos;
                }
                break;
        }
        case CDC_EV_GTID_LIST: {
                /* count(4, low 28 bits) then domain(4) server(4) seq(8) */
                uint32_t cnt, i;
                if (ev.body_len < 4)
                        break;
                cnt = ((uint32_t)ev.body[0] | (uint32_t)ev.body[1] << 8 |
                       (uint32_t)ev.body[2] << 16 |
                       (uint32_t)ev.body[3] << 24) &
                      0x0fffffff;
                if ((size_t)cnt * 16 > ev.body_len - 4) {
                        binlog_seterr(bl, "GTID_LIST: truncated");
                        return CDC_ERR__BAD_EVENT;
                }
                for (i = 0; i < cnt; i++) {
                        const uint8_t *p = ev.body + 4 + (size_t)i * 16;
                        binlog_gtid_t g;
                        memcpy(&g.domain, p, 4); /* little-endian hosts */
                        memcpy(&g.server, p + 4, 4);
                        memcpy(&g.seq, p + 8, 8);
                        /* the list is the state at the file start: it
                         * only adds domains our start position lacks */
                        if (binlog_gs_set(bl, &g, bl->bl_gs_complete)) {
                                binlog_seterr(bl, "more than %d GTID domains",
                                              BINLOG_GTID_DOMAINS);
                                return CDC_ERR__BAD_EVENT;
                        }
                }
                bl->bl_gs_complete = 1;
                break;
        }
        case CDC_EV_GTID: {
                /* seq(8) domain(4) flags(1) */
                if (ev.body_len < 13) {
                        binlog_seterr(bl, "GTID event: truncated");
                        return CDC_ERR__BAD_EVENT;
                }
                binlog_trx_begin(bl, &ev);
                memcpy(&bl->bl_trx_gtid.seq, ev.body, 8);
                memcpy(&bl->bl_trx_gtid.domain, ev.body + 8, 4);
                bl->bl_trx_gtid.server = ev.server_id;
                bl->bl_trx_has_gtid    = 1;
                /* written when the transaction commits */
                bl->bl_trx_ts         = ev.ts;
                bl->bl_trx_standalone = ev.body[12] & FL_STANDALONE;
                break;
        }
        case CDC_EV_XID:
        case CDC_EV_XA_PREPARE:
                /* XA: the rows are in the binlog group that ends with
                 * XA PREPARE (replicas apply them there too) */
                err = binlog_trx_commit(bl, &ev);
                if (err)
                        return err;
                *producedp = 1;
                break;
        case CDC_EV_QUERY:
                err = binlog_on_query(bl, &ev, producedp);
                if (err)
                        return err;
                if (bl->bl_pending_commit)
                        *producedp = 1;
                break;
        case CDC_EV_TABLE_MAP:
                return binlog_on_table_map(bl, &ev);
        case CDC_EV_WRITE_ROWS_V1:
        case CDC_EV_UPDATE_ROWS_V1:
        case CDC_EV_DELETE_ROWS_V1:
        case CDC_EV_WRITE_ROWS_V2:
        case CDC_EV_UPDATE_ROWS_V2:
        case CDC_EV_DELETE_ROWS_V2:
                err = binlog_on_rows(bl, &ev);
                if (err)
                        return err;
                *producedp = bl->bl_rows_active;
                break;
        case 166:
        case 167:
        case 168:
        case 169:
        case 170:
        case 171:
        case CDC_EV_PARTIAL_UPDATE_ROWS: {
                uint64_t id;
                if (cdc_rowdec_rows_table_id(ev.body, ev.body_len, 8, &id) ==
                            CDC_ERR_NO_ERROR &&
                    !binlog_tc_find(bl, id))
                        break;
                binlog_seterr(bl,
                              "rows event type %u at %s:%u (compressed "
                              "or partial JSON) is not supported: set "
                              "log_bin_compress=OFF / binlog_row_value_"
                              "options=''",
                              ev.type, bl->bl_file, ev.next_pos);
                return CDC_ERR__BAD_EVENT;
        }
        case CDC_EV_HEARTBEAT: {
                cdc_binlog_item_t *it = &bl->bl_item;
                size_t l              = ev.body_len;
                if (!bl->bl_in_trx) {
                        if (l) {
                                if (binlog_file_set(bl, ev.body, l))
                                        return CDC_ERR__BAD_EVENT;
                                snprintf(bl->bl_committed.file,
                                         sizeof(bl->bl_committed.file), "%s",
                                         bl->bl_file);
                        }
                        if (ev.next_pos)
                                bl->bl_committed.pos = ev.next_pos;
                }
                it->type   = CDC_BINLOG_HEARTBEAT;
                it->next   = bl->bl_committed;
                *producedp = 2;
                break;
        }
        default:
                break;
        }
        return CDC_ERR_NO_ERROR;
}

static cdc_err_t binlog_process(cdc_binlog_t *bl, int *producedp) {
        MARIADB_RPL_EVENT *rev = bl->bl_ev;
        size_t ofs             = rev->raw_data_ofs ? rev->raw_data_ofs : 1;

        *producedp = 0;
        if (!rev->raw_data || rev->raw_data_size <= ofs) {
                binlog_seterr(bl, "empty event from libmariadb");
                return CDC_ERR__BAD_EVENT;
        }
        return binlog_process_raw(bl, rev->raw_data + ofs,
                                  rev->raw_data_size - ofs, producedp);
}

/* ---- next ---- */

static int binlog_buffered(const cdc_binlog_t *bl) {
        const MARIADB_PVIO *pvio = bl->bl_mysql->net.pvio;
        if (!pvio || !pvio->cache)
                return 0;
        return pvio->cache_pos < pvio->cache + pvio->cache_size;
}

/* Builds the item for the next pending thing. @returns 1 if made. */
static cdc_err_t binlog_emit(cdc_binlog_t *bl, int *madep) {
        cdc_binlog_item_t *it = &bl->bl_item;
        cdc_err_t err;

        *madep = 0;
        if (bl->bl_pending_ddl) {
                bl->bl_pending_ddl = 0;
                it->type           = CDC_BINLOG_DDL;
                it->table          = bl->bl_ddl_table;
                it->statement      = bl->bl_stmt;
                *madep             = 1;
                return CDC_ERR_NO_ERROR;
        }
        if (bl->bl_pending_commit) {
                bl->bl_pending_commit = 0;
                it->type              = CDC_BINLOG_COMMIT;
                it->next              = bl->bl_committed;
                *madep                = 1;
                return CDC_ERR_NO_ERROR;
        }
        if (bl->bl_rows_active && cdc_rowdec_rows_more(&bl->bl_rows)) {
                const cdc_rowdec_table_t *t = bl->bl_rows_t;
                cdc_source_t *src           = &it->source;
                err = cdc_rowdec_row_next(t, &bl->bl_rows, bl->bl_tz,
                                          &it->before, &it->after,
                                          bl->bl_errstr, sizeof(bl->bl_errstr));
                if (err) {
                        bl->bl_rows_active = 0;
                        return err;
                }
                it->type       = CDC_BINLOG_ROW;
                it->op         = (cdc_op_t)bl->bl_rows.op;
                it->table      = t->name;
                src->server_id = bl->bl_trx_has_gtid ? bl->bl_trx_gtid.server
                                                     : bl->bl_rows_server;
                snprintf(src->db, sizeof(src->db), "%s", t->db);
                snprintf(src->table, sizeof(src->table), "%s", t->name);
                if (bl->bl_trx_has_gtid) {
                        snprintf(src->gtid, sizeof(src->gtid), "%u-%u-%llu",
                                 bl->bl_trx_gtid.domain, bl->bl_trx_gtid.server,
                                 (unsigned long long)bl->bl_trx_gtid.seq);
                        src->seq = bl->bl_trx_gtid.seq;
                } else {
                        src->seq = binlog_file_no(bl->bl_file) << 40 |
                                   (bl->bl_trx_start & ((1ULL << 40) - 1));
                }
                snprintf(src->file, sizeof(src->file), "%s", bl->bl_file);
                src->pos   = bl->bl_trx_start;
                src->row   = bl->bl_trx_row++;
                src->ts_ms = (int64_t)(bl->bl_trx_has_gtid && bl->bl_trx_ts
                                               ? bl->bl_trx_ts
                                               : bl->bl_rows_ts) *
                             1000;
                *madep = 1;
                return CDC_ERR_NO_ERROR;
        }
        bl->bl_rows_active = 0;
        return CDC_ERR_NO_ERROR;
}

cdc_err_t cdc_binlog_next(cdc_binlog_t *bl, int timeout_ms,
                          const cdc_binlog_item_t **itemp) {
        int64_t deadline = binlog_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
        cdc_err_t err;
        int made;

        *itemp = NULL;
        binlog_item_release(bl);
        if (!bl->bl_rpl) {
                binlog_seterr(bl, "binlog stream not open");
                return CDC_ERR__STATE;
        }
        for (;;) {
                int produced = 0, wait;
                err          = binlog_emit(bl, &made);
                if (err)
                        return err;
                if (made) {
                        *itemp = &bl->bl_item;
                        return CDC_ERR_NO_ERROR;
                }
                if (!binlog_buffered(bl)) {
                        struct pollfd pfd;
                        int r;
                        wait = (int)(deadline - binlog_now_ms());
                        if (wait < 0)
                                wait = 0;
                        pfd.fd = (int)mysql_get_socket(bl->bl_mysql);
                        if (pfd.fd < 0) {
                                binlog_seterr(bl, "binlog stream: no socket");
                                return CDC_ERR__TRANSPORT;
                        }
                        pfd.events  = POLLIN;
                        pfd.revents = 0;
                        r           = poll(&pfd, 1, wait);
                        if (r == 0 && bl->bl_heartbeat_ms > 0 &&
                            binlog_now_ms() - bl->bl_last_rx_ms >
                                    3 * (int64_t)bl->bl_heartbeat_ms + 1000) {
                                /* heartbeats stopped: the server or the
                                 * network is gone without a FIN */
                                binlog_seterr(bl,
                                              "binlog stream: nothing "
                                              "from the server for %lld ms "
                                              "(heartbeat %d ms)",
                                              (long long)(binlog_now_ms() -
                                                          bl->bl_last_rx_ms),
                                              bl->bl_heartbeat_ms);
                                return CDC_ERR__TRANSPORT;
                        }
                        if (r == 0)
                                return CDC_ERR__TIMED_OUT;
                        if (r < 0 && errno == EINTR)
                                return CDC_ERR__TIMED_OUT;
                }
                bl->bl_ev = mariadb_rpl_fetch(bl->bl_rpl, bl->bl_ev);
                if (!bl->bl_ev) {
                        /* libmariadb freed the event on failure */
                        if (mysql_errno(bl->bl_mysql) == 0 &&
                            mariadb_rpl_errno(bl->bl_rpl)) {
                                /* libmariadb refused the packet itself:
                                 * reconnecting would meet it again */
                                binlog_seterr(bl,
                                              "binlog stream at %s:%llu: "
                                              "%s (%u)",
                                              bl->bl_file,
                                              (unsigned long long)
                                                      bl->bl_committed.pos,
                                              mariadb_rpl_error(bl->bl_rpl),
                                              mariadb_rpl_errno(bl->bl_rpl));
                                return CDC_ERR__BAD_EVENT;
                        }
                        return binlog_mysql_err(bl, bl->bl_mysql,
                                                "binlog stream");
                }
                bl->bl_last_rx_ms = binlog_now_ms();
                err               = binlog_process(bl, &produced);
                if (err)
                        return err;
                if (produced == 2) { /* heartbeat item built in place */
                        *itemp = &bl->bl_item;
                        return CDC_ERR_NO_ERROR;
                }
                if (!produced && binlog_now_ms() >= deadline)
                        return CDC_ERR__TIMED_OUT;
        }
}

/* ---- test hooks (cdc_binlog_int.h) ---- */

cdc_err_t cdc_binlog_feed_start(cdc_binlog_t *bl, const cdc_pos_t *start,
                                int is_mysql) {
        cdc_binlog_close(bl);
        bl->bl_is_mysql = is_mysql;
        return binlog_stream_reset(bl, start, 0);
}

cdc_err_t cdc_binlog_feed(cdc_binlog_t *bl, const uint8_t *buf, size_t len,
                          const cdc_binlog_item_t **itemp) {
        int produced = 0, made = 0;
        cdc_err_t err;

        *itemp = NULL;
        binlog_item_release(bl);
        if (buf) {
                err = binlog_process_raw(bl, buf, len, &produced);
                if (err)
                        return err;
                if (produced == 2) {
                        *itemp = &bl->bl_item;
                        return CDC_ERR_NO_ERROR;
                }
        }
        err = binlog_emit(bl, &made);
        if (err)
                return err;
        if (made)
                *itemp = &bl->bl_item;
        return CDC_ERR_NO_ERROR;
}
