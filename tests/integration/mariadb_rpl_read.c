/**
 * @file mariadb_rpl_read.c
 * @brief Integration check of the server settings and of Connector/C's
 *        binlog API (mariadb_rpl_*) against a private MariaDB started by
 *        tests/lib/harness.sh (see 0001-mariadb-rpl.sh).
 *
 * As the producer account: note the binlog position (SHOW MASTER STATUS),
 * let root insert two rows into `follow` in one statement, stream the
 * binlog from the noted position in non-blocking mode (the server sends EOF
 * once it has nothing more) and check that:
 *   - a GTID event precedes the rows (MariaDB GTID capability),
 *   - the TABLE_MAP of `follow` carries the column names
 *     (binlog_row_metadata=FULL),
 *   - the WRITE_ROWS event holds exactly the two rows, whose follower_id and
 *     followee_id decode to the inserted values.
 *
 * Connector/C 3.3.20 notes, kept in mind here:
 *   - mariadb_rpl_fetch(rpl, ev) with a previous event frees that event, so
 *     each event is fetched into its own allocation (NULL) and the
 *     TABLE_MAP is kept alive while the rows are decoded;
 *   - mariadb_rpl_extract_rows() is unreliable on some tables, so the row
 *     image is walked here for the simple fixed-width types only.
 *
 * Environment: H_MYSQL_HOST H_MYSQL_PORT H_MYSQL_SOCK H_MYSQL_DB
 * H_PRODUCER_USER H_PRODUCER_PASS. Exit status 0 on success, 1 on failure.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mysql.h>
#include <mariadb_rpl.h>

#define RPL_FOLLOWER_BASE 910000001ULL
#define RPL_FOLLOWEE_BASE 920000001ULL
#define RPL_ROWS          2

static const char *const rpl_expect_cols[] = { "id",          "follower_id",
                                               "followee_id", "status",
                                               "version",     "created_at",
                                               "updated_at" };
#define RPL_NCOLS (sizeof(rpl_expect_cols) / sizeof(rpl_expect_cols[0]))

static const char *rpl_env(const char *name) {
        const char *v = getenv(name);
        if (!v || !*v) {
                fprintf(stderr, "FAIL: %s is not set\n", name);
                return NULL;
        }
        return v;
}

/* Read a little-endian unsigned integer of n bytes. */
static uint64_t rpl_le(const unsigned char *p, size_t n) {
        uint64_t v = 0;
        size_t i;
        for (i = n; i > 0; i--)
                v = (v << 8) | p[i - 1];
        return v;
}

/* Packed length of the binlog format: 1, 3, 4 or 9 bytes. */
static int rpl_packed_len(const unsigned char *p, size_t avail, uint64_t *valp,
                          size_t *usedp) {
        if (avail < 1)
                return -1;
        if (p[0] < 251) {
                *valp  = p[0];
                *usedp = 1;
        } else if (p[0] == 252 && avail >= 3) {
                *valp  = rpl_le(p + 1, 2);
                *usedp = 3;
        } else if (p[0] == 253 && avail >= 4) {
                *valp  = rpl_le(p + 1, 3);
                *usedp = 4;
        } else if (p[0] == 254 && avail >= 9) {
                *valp  = rpl_le(p + 1, 8);
                *usedp = 9;
        } else {
                return -1;
        }
        return 0;
}

/**
 * Check the column names of the TABLE_MAP (optional metadata
 * COLUMN_NAME: a packed length then the bytes, per column).
 */
static int rpl_check_names(const MARIADB_RPL_EVENT *tm) {
        const unsigned char *p =
                (const unsigned char *)tm->event.table_map.column_names.data;
        size_t left = tm->event.table_map.column_names.length;
        size_t i, used;
        uint64_t len;

        if (tm->event.table_map.column_count != RPL_NCOLS) {
                fprintf(stderr, "FAIL: TABLE_MAP has %u columns, want %zu\n",
                        tm->event.table_map.column_count, RPL_NCOLS);
                return -1;
        }
        if (!p || left == 0) {
                fprintf(stderr, "FAIL: TABLE_MAP has no column names "
                                "(binlog_row_metadata is not FULL?)\n");
                return -1;
        }
        for (i = 0; i < RPL_NCOLS; i++) {
                if (rpl_packed_len(p, left, &len, &used) != 0 ||
                    len > left - used) {
                        fprintf(stderr, "FAIL: column name %zu truncated\n", i);
                        return -1;
                }
                if (len != strlen(rpl_expect_cols[i]) ||
                    memcmp(p + used, rpl_expect_cols[i], (size_t)len) != 0) {
                        fprintf(stderr,
                                "FAIL: column %zu is '%.*s', want '%s'\n", i,
                                (int)len, (const char *)p + used,
                                rpl_expect_cols[i]);
                        return -1;
                }
                printf("column %zu: %s\n", i, rpl_expect_cols[i]);
                p += used + len;
                left -= used + len;
        }
        return 0;
}

/**
 * Byte width of one stored value of column \p col, for the fixed-width
 * types of `follow`; 0 for anything else.
 */
static size_t rpl_col_width(const MARIADB_RPL_EVENT *tm, uint32_t col) {
        const unsigned char *types =
                (const unsigned char *)tm->event.table_map.column_types.str;
        const unsigned char *meta =
                (const unsigned char *)tm->event.table_map.metadata.str;
        size_t mlen = tm->event.table_map.metadata.length;
        size_t moff = 0;
        uint32_t i;

        /* metadata bytes per column: DATETIME2/TIMESTAMP2 have one (the
         * fractional precision), the integer types none */
        for (i = 0; i < col; i++) {
                switch (types[i]) {
                case MYSQL_TYPE_DATETIME2:
                case MYSQL_TYPE_TIMESTAMP2:
                case MYSQL_TYPE_TIME2:
                        moff++;
                        break;
                case MYSQL_TYPE_TINY:
                case MYSQL_TYPE_SHORT:
                case MYSQL_TYPE_INT24:
                case MYSQL_TYPE_LONG:
                case MYSQL_TYPE_LONGLONG:
                        break;
                default:
                        return 0;
                }
        }
        switch (types[col]) {
        case MYSQL_TYPE_TINY:
                return 1;
        case MYSQL_TYPE_SHORT:
                return 2;
        case MYSQL_TYPE_INT24:
                return 3;
        case MYSQL_TYPE_LONG:
                return 4;
        case MYSQL_TYPE_LONGLONG:
                return 8;
        case MYSQL_TYPE_DATETIME2:
                if (moff >= mlen)
                        return 0;
                return 5 + (size_t)(meta[moff] + 1) / 2;
        case MYSQL_TYPE_TIMESTAMP2:
                if (moff >= mlen)
                        return 0;
                return 4 + (size_t)(meta[moff] + 1) / 2;
        default:
                return 0;
        }
}

/**
 * Walk the row images of a WRITE_ROWS event (every column present, as
 * binlog_row_image=FULL guarantees) and check the inserted values.
 */
static int rpl_check_rows(const MARIADB_RPL_EVENT *tm,
                          const MARIADB_RPL_EVENT *rows) {
        const unsigned char *p =
                (const unsigned char *)rows->event.rows.row_data;
        size_t left      = rows->event.rows.row_data_size;
        uint32_t ncols   = tm->event.table_map.column_count;
        size_t nullbytes = (ncols + 7) / 8;
        unsigned nrows   = 0;
        uint32_t c;

        if (rows->event.rows.column_count != ncols) {
                fprintf(stderr, "FAIL: rows event has %u columns, want %u\n",
                        rows->event.rows.column_count, ncols);
                return -1;
        }
        while (left > 0) {
                const unsigned char *nulls = p;
                uint64_t vals[RPL_NCOLS]   = { 0 };

                if (left < nullbytes)
                        goto trunc;
                p += nullbytes;
                left -= nullbytes;
                for (c = 0; c < ncols; c++) {
                        size_t w;
                        if (nulls[c / 8] & (1u << (c % 8)))
                                continue; /* NULL: no bytes */
                        w = rpl_col_width(tm, c);
                        if (w == 0) {
                                fprintf(stderr,
                                        "FAIL: column %u: type %u not "
                                        "handled by this test\n",
                                        c,
                                        (unsigned)(unsigned char)tm->event
                                                .table_map.column_types.str[c]);
                                return -1;
                        }
                        if (left < w)
                                goto trunc;
                        if (c < RPL_NCOLS && w <= 8)
                                vals[c] = rpl_le(p, w);
                        p += w;
                        left -= w;
                }
                printf("row %u: id=%" PRIu64 " follower_id=%" PRIu64
                       " followee_id=%" PRIu64 " status=%" PRIu64
                       " version=%" PRIu64 "\n",
                       nrows, vals[0], vals[1], vals[2], vals[3], vals[4]);
                if (vals[1] != RPL_FOLLOWER_BASE + nrows ||
                    vals[2] != RPL_FOLLOWEE_BASE + nrows || vals[3] != 1 ||
                    vals[4] != 1) {
                        fprintf(stderr, "FAIL: row %u has unexpected values\n",
                                nrows);
                        return -1;
                }
                nrows++;
        }
        if (nrows != RPL_ROWS) {
                fprintf(stderr, "FAIL: %u rows in WRITE_ROWS, want %d\n", nrows,
                        RPL_ROWS);
                return -1;
        }
        return 0;
trunc:
        fprintf(stderr, "FAIL: row %u truncated\n", nrows);
        return -1;
}

static MYSQL *rpl_connect(const char *host, unsigned port, const char *sock,
                          const char *user, const char *pass, const char *db) {
        MYSQL *my            = mysql_init(NULL);
        unsigned int timeout = 30;
        if (!my)
                return NULL;
        mysql_optionsv(my, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
        mysql_optionsv(my, MYSQL_OPT_READ_TIMEOUT, &timeout);
        if (!mysql_real_connect(my, host, user, pass, db, port, sock, 0)) {
                fprintf(stderr, "FAIL: connect as %s: %s\n", user,
                        mysql_error(my));
                mysql_close(my);
                return NULL;
        }
        return my;
}

static int rpl_query(MYSQL *my, const char *q) {
        if (mysql_query(my, q) != 0) {
                fprintf(stderr, "FAIL: %s: %s\n", q, mysql_error(my));
                return -1;
        }
        return 0;
}

int main(void) {
        const char *host, *portstr, *sock, *db, *user, *pass;
        MYSQL *prod = NULL, *root = NULL;
        MYSQL_RES *res = NULL;
        MYSQL_ROW row;
        MARIADB_RPL *rpl      = NULL;
        MARIADB_RPL_EVENT *ev = NULL, *tm = NULL;
        char file[256];
        char sql[256];
        unsigned long long pos;
        unsigned long port;
        char *end;
        int saw_gtid = 0, saw_rows = 0, nevents = 0;
        int rc = 1;

        if (!(host = rpl_env("H_MYSQL_HOST")) ||
            !(portstr = rpl_env("H_MYSQL_PORT")) ||
            !(sock = rpl_env("H_MYSQL_SOCK")) ||
            !(db = rpl_env("H_MYSQL_DB")) ||
            !(user = rpl_env("H_PRODUCER_USER")) ||
            !(pass = rpl_env("H_PRODUCER_PASS")))
                goto out;
        errno = 0;
        port  = strtoul(portstr, &end, 10);
        if (errno || *end || port == 0 || port > 65535) {
                fprintf(stderr, "FAIL: bad H_MYSQL_PORT '%s'\n", portstr);
                goto out;
        }

        /* the producer account over TCP, as the producer connects */
        prod = rpl_connect(host, (unsigned)port, NULL, user, pass, NULL);
        if (!prod)
                goto out;
        if (rpl_query(prod, "SHOW MASTER STATUS") != 0)
                goto out;
        res = mysql_store_result(prod);
        if (!res || !(row = mysql_fetch_row(res)) || !row[0] || !row[1]) {
                fprintf(stderr, "FAIL: SHOW MASTER STATUS gave no row "
                                "(binary log off?)\n");
                goto out;
        }
        if (snprintf(file, sizeof(file), "%s", row[0]) >= (int)sizeof(file))
                goto out;
        errno = 0;
        pos   = strtoull(row[1], &end, 10);
        if (errno || *end || pos < 4) {
                fprintf(stderr, "FAIL: bad position '%s'\n", row[1]);
                goto out;
        }
        mysql_free_result(res);
        res = NULL;
        printf("start: %s:%llu\n", file, pos);

        /* root writes the rows (the producer account may only read) */
        root = rpl_connect(NULL, 0, sock, "root", NULL, db);
        if (!root)
                goto out;
        snprintf(sql, sizeof(sql),
                 "INSERT INTO follow (follower_id, followee_id) VALUES "
                 "(%llu, %llu), (%llu, %llu)",
                 RPL_FOLLOWER_BASE, RPL_FOLLOWEE_BASE, RPL_FOLLOWER_BASE + 1,
                 RPL_FOLLOWEE_BASE + 1);
        if (rpl_query(root, sql) != 0)
                goto out;

        /* GTID events instead of BEGIN queries; checksums as the server
         * writes them (Connector/C verifies and strips them) */
        if (rpl_query(prod, "SET @mariadb_slave_capability = 4") != 0 ||
            rpl_query(prod, "SET @master_binlog_checksum = "
                            "@@global.binlog_checksum") != 0)
                goto out;

        rpl = mariadb_rpl_init(prod);
        if (!rpl) {
                fprintf(stderr, "FAIL: mariadb_rpl_init\n");
                goto out;
        }
        mariadb_rpl_optionsv(rpl, MARIADB_RPL_SERVER_ID,
                             (unsigned int)(100000 + (getpid() % 100000)));
        mariadb_rpl_optionsv(rpl, MARIADB_RPL_FLAGS,
                             (unsigned int)MARIADB_RPL_BINLOG_DUMP_NON_BLOCK);
        mariadb_rpl_optionsv(rpl, MARIADB_RPL_FILENAME, file, strlen(file));
        mariadb_rpl_optionsv(rpl, MARIADB_RPL_START, (unsigned long)pos);
        if (mariadb_rpl_open(rpl) != 0) {
                fprintf(stderr, "FAIL: mariadb_rpl_open: %s\n",
                        mysql_error(prod));
                goto out;
        }

        /* NON_BLOCK: the server ends the stream with EOF (NULL, no error)
         * when it has sent everything, so this loop cannot hang */
        while (!saw_rows) {
                ev = mariadb_rpl_fetch(rpl, NULL);
                if (!ev) {
                        if (mysql_errno(prod)) {
                                fprintf(stderr, "FAIL: fetch: %s\n",
                                        mysql_error(prod));
                                goto out;
                        }
                        break;
                }
                nevents++;
                switch (ev->event_type) {
                case GTID_EVENT:
                        printf("gtid: %u-%u-%" PRIu64 "\n",
                               ev->event.gtid.domain_id, ev->server_id,
                               ev->event.gtid.sequence_nr);
                        saw_gtid = 1;
                        break;
                case TABLE_MAP_EVENT:
                        if (ev->event.table_map.table.length == 6 &&
                            memcmp(ev->event.table_map.table.str, "follow",
                                   6) == 0) {
                                printf("table map: %.*s.follow id %llu\n",
                                       (int)ev->event.table_map.database.length,
                                       ev->event.table_map.database.str,
                                       ev->event.table_map.table_id);
                                if (rpl_check_names(ev) != 0)
                                        goto out;
                                if (tm)
                                        mariadb_free_rpl_event(tm);
                                tm = ev; /* keep it: own allocation */
                                ev = NULL;
                        }
                        break;
                case WRITE_ROWS_EVENT_V1:
                case WRITE_ROWS_EVENT:
                        if (!tm || ev->event.rows.table_id !=
                                           tm->event.table_map.table_id)
                                break;
                        if (!saw_gtid) {
                                fprintf(stderr, "FAIL: rows before any "
                                                "GTID event\n");
                                goto out;
                        }
                        if (rpl_check_rows(tm, ev) != 0)
                                goto out;
                        saw_rows = 1;
                        break;
                default:
                        break;
                }
                mariadb_free_rpl_event(ev);
                ev = NULL;
        }
        if (!saw_rows) {
                fprintf(stderr,
                        "FAIL: no WRITE_ROWS of follow in %d events "
                        "(table map %s)\n",
                        nevents, tm ? "seen" : "missing");
                goto out;
        }
        printf("OK: %d events read, %d rows checked\n", nevents, RPL_ROWS);
        rc = 0;
out:
        if (ev)
                mariadb_free_rpl_event(ev);
        if (tm)
                mariadb_free_rpl_event(tm);
        if (rpl)
                mariadb_rpl_close(rpl);
        mysql_free_result(res);
        if (root)
                mysql_close(root);
        if (prod)
                mysql_close(prod);
        return rc;
}
