/**
 * @file binlog_stream.c
 * @brief Test and bench driver for the cdc_binlog module against a real
 *        server, used by tests/integration/0010-binlog-*.sh and by
 *        tests/data/binlog/capture.sh.
 *
 * Connection from the environment: CDC_MYSQL_HOST, CDC_MYSQL_PORT,
 * CDC_MYSQL_SOCK, CDC_MYSQL_USER, CDC_MYSQL_PASS, CDC_MYSQL_DB,
 * CDC_TABLES (comma separated), CDC_SOURCE_TZ, CDC_SERVER_ID.
 *
 *   binlog_stream check
 *   binlog_stream pos
 *   binlog_stream dump [--from POS] [--items N] [--idle-ms MS] [--hb-ms MS]
 *       one JSON line per item; stops after N items (heartbeats not
 *       counted) or MS without any item. Exit 0; 3 purged (NOENT);
 *       4 transport; 5 other error.
 *   binlog_stream bench --from POS --rows N
 *       stream and decode N rows, print rows/s (network + decode), the
 *       events fetched and those held in the kept event block
 *   binlog_stream capture --from FILE:POS --table T --dir D
 *       save the raw TABLE_MAP / rows events of table T (up to the end of
 *       the binlog) as D/NN-table_map.bin, D/NN-rows.bin; with T "*"
 *       every event as D/NNN-ev.bin
 *   binlog_stream decode-bench --dir D [--loops N]
 *       decode the captured events of D again and again, print rows/s
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <mysql.h>
#include <mariadb_rpl.h>
#include "cdc_binlog.h"
#include "cdc_log.h"
#include "cdc_frame.h"
#include "cdc_rowdec.h"
#include "cdc_tablemap.h"
#include "cdc_time.h"

static const char *env_or(const char *name, const char *def) {
        const char *v = getenv(name);
        return v && *v ? v : def;
}

static double now_s(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long num(const char *s) {
        char *e;
        long v;
        errno = 0;
        v     = strtol(s, &e, 10);
        if (errno || e == s || *e) {
                fprintf(stderr, "bad number: %s\n", s);
                exit(5);
        }
        return v;
}

static const char *arg(int argc, char **argv, const char *name,
                       const char *def) {
        int i;
        for (i = 2; i + 1 < argc; i++)
                if (!strcmp(argv[i], name))
                        return argv[i + 1];
        return def;
}

static cdc_binlog_t *make(int hb_ms) {
        static char tabbuf[1024];
        static const char *tables[32];
        static cdc_mysql_target_t tgt;
        cdc_binlog_opts_t o;
        char errstr[512];
        size_t n = 0;
        char *p;
        cdc_binlog_t *bl;

        memset(&o, 0, sizeof(o));
        cdc_mysql_target_clear(&tgt);
        if (cdc_mysql_target_set(
                    &tgt, env_or("CDC_MYSQL_HOST", "127.0.0.1"),
                    (unsigned)num(env_or("CDC_MYSQL_PORT", "3306")),
                    getenv("CDC_MYSQL_SOCK"), env_or("CDC_MYSQL_USER", "root"),
                    env_or("CDC_MYSQL_PASS", ""), NULL)) {
                fprintf(stderr, "out of memory\n");
                exit(1);
        }
        o.target = &tgt;
        o.db     = env_or("CDC_MYSQL_DB", "followcdc");
        snprintf(tabbuf, sizeof(tabbuf), "%s",
                 env_or("CDC_TABLES", "follow,idempotent_log"));
        p = tabbuf;
        while (*p && n < 32) {
                char *c     = strchr(p, ',');
                tables[n++] = p;
                if (!c)
                        break;
                *c = '\0';
                p  = c + 1;
        }
        o.tables             = tables;
        o.table_cnt          = n;
        o.server_id          = (uint32_t)num(env_or("CDC_SERVER_ID", "4242"));
        o.source_tz          = env_or("CDC_SOURCE_TZ", "UTC");
        o.heartbeat_ms       = hb_ms;
        o.connect_timeout_ms = 5000;
        o.read_timeout_ms    = 30000;
        bl                   = cdc_binlog_new(&o, errstr, sizeof(errstr));
        if (!bl) {
                fprintf(stderr, "cdc_binlog_new: %s\n", errstr);
                exit(5);
        }
        return bl;
}

static int exit_code(cdc_err_t err) {
        switch (err) {
        case CDC_ERR_NO_ERROR:
                return 0;
        case CDC_ERR__NOENT:
                return 3;
        case CDC_ERR__TRANSPORT:
                return 4;
        case CDC_ERR__SERVER:
                return 2;
        default:
                return 5;
        }
}

static void print_item(const cdc_binlog_item_t *it) {
        char pos[CDC_POS_GTID_MAX + 400];
        json_t *o = json_object();
        char *s;

        switch (it->type) {
        case CDC_BINLOG_ROW: {
                char op[2] = { (char)it->op, 0 };
                json_t *b = NULL, *a = NULL;
                if (cdc_binlog_item_json(it, &b, &a)) {
                        fprintf(stderr, "out of memory\n");
                        exit(1);
                }
                json_object_set_new(o, "type", json_string("row"));
                json_object_set_new(o, "op", json_string(op));
                json_object_set_new(o, "table", json_string(it->table));
                json_object_set_new(o, "before", b ? b : json_null());
                json_object_set_new(o, "after", a ? a : json_null());
                json_object_set_new(o, "server_id",
                                    json_integer(it->source.server_id));
                json_object_set_new(o, "db", json_string(it->source.db));
                json_object_set_new(o, "gtid", json_string(it->source.gtid));
                json_object_set_new(o, "seq",
                                    json_integer((json_int_t)it->source.seq));
                json_object_set_new(o, "file", json_string(it->source.file));
                json_object_set_new(o, "pos",
                                    json_integer((json_int_t)it->source.pos));
                json_object_set_new(o, "row", json_integer(it->source.row));
                json_object_set_new(o, "ts_ms", json_integer(it->source.ts_ms));
                break;
        }
        case CDC_BINLOG_COMMIT:
        case CDC_BINLOG_HEARTBEAT:
                json_object_set_new(o, "type",
                                    json_string(it->type == CDC_BINLOG_COMMIT
                                                        ? "commit"
                                                        : "heartbeat"));
                if (cdc_pos_format(&it->next, pos, sizeof(pos)) < 0)
                        pos[0] = '\0';
                json_object_set_new(o, "next", json_string(pos));
                break;
        case CDC_BINLOG_DDL:
                json_object_set_new(o, "type", json_string("ddl"));
                json_object_set_new(o, "table", json_string(it->table));
                json_object_set_new(o, "statement", json_string(it->statement));
                break;
        }
        s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
        if (s) {
                puts(s);
                free(s);
        }
        fflush(stdout);
        json_decref(o);
}

static int open_from(cdc_binlog_t *bl, const char *from) {
        cdc_pos_t p;
        cdc_err_t err;
        memset(&p, 0, sizeof(p));
        if (from && cdc_pos_parse(from, strlen(from), &p)) {
                fprintf(stderr, "bad position: %s\n", from);
                return 5;
        }
        err = cdc_binlog_open(bl, &p);
        if (err) {
                fprintf(stderr, "open: %s: %s\n", cdc_err2str(err),
                        cdc_binlog_errstr(bl));
                return exit_code(err);
        }
        return 0;
}

static int cmd_dump(int argc, char **argv) {
        const char *from = arg(argc, argv, "--from", NULL);
        long items       = num(arg(argc, argv, "--items", "1000000"));
        long idle_ms     = num(arg(argc, argv, "--idle-ms", "3000"));
        int hb           = (int)num(arg(argc, argv, "--hb-ms", "0"));
        cdc_binlog_t *bl = make(hb);
        long got = 0, idle = 0;
        int rc = open_from(bl, from);

        while (!rc && got < items) {
                const cdc_binlog_item_t *it;
                cdc_err_t err = cdc_binlog_next(bl, 200, &it);
                if (err == CDC_ERR__TIMED_OUT) {
                        idle += 200;
                        if (idle >= idle_ms)
                                break;
                        continue;
                }
                if (err) {
                        fprintf(stderr, "next: %s: %s\n", cdc_err2str(err),
                                cdc_binlog_errstr(bl));
                        rc = exit_code(err);
                        break;
                }
                print_item(it);
                if (it->type != CDC_BINLOG_HEARTBEAT) {
                        got++;
                        idle = 0;
                }
        }
        cdc_binlog_destroy(bl);
        return rc;
}

static int cmd_bench(int argc, char **argv) {
        const char *from = arg(argc, argv, "--from", NULL);
        long rows        = num(arg(argc, argv, "--rows", "100000"));
        cdc_binlog_t *bl = make(0);
        long got = 0, idle = 0;
        double t0 = 0;
        int rc    = open_from(bl, from);

        while (!rc && got < rows) {
                const cdc_binlog_item_t *it;
                cdc_err_t err = cdc_binlog_next(bl, 500, &it);
                if (err == CDC_ERR__TIMED_OUT) {
                        if ((idle += 500) >= 5000)
                                break;
                        continue;
                }
                if (err) {
                        fprintf(stderr, "next: %s: %s\n", cdc_err2str(err),
                                cdc_binlog_errstr(bl));
                        rc = exit_code(err);
                        break;
                }
                idle = 0;
                if (it->type == CDC_BINLOG_ROW) {
                        if (got++ == 0)
                                t0 = now_s();
                }
        }
        if (!rc && got > 1) {
                double dt = now_s() - t0;
                uint64_t kept, evs = cdc_binlog_events(bl, &kept);
                printf("stream: rows=%ld secs=%.3f rows_per_s=%.0f "
                       "events=%llu events_kept=%llu\n",
                       got, dt, dt > 0 ? (double)got / dt : 0.0,
                       (unsigned long long)evs, (unsigned long long)kept);
        }
        cdc_binlog_destroy(bl);
        return rc;
}

static int write_file(const char *path, const void *b, size_t n) {
        FILE *f = fopen(path, "wb");
        if (!f || fwrite(b, 1, n, f) != n) {
                if (f)
                        fclose(f);
                return -1;
        }
        return fclose(f);
}

/* Raw capture straight through mariadb_rpl (non-blocking dump: the
 * server ends the stream at the end of the binlog). */
static int cmd_capture(int argc, char **argv) {
        const char *from  = arg(argc, argv, "--from", NULL);
        const char *table = arg(argc, argv, "--table", NULL);
        const char *dir   = arg(argc, argv, "--dir", NULL);
        MYSQL *m          = mysql_init(NULL);
        MARIADB_RPL *rpl;
        MARIADB_RPL_EVENT *ev = NULL;
        char file[256], path[1200];
        const char *colon;
        unsigned long pos;
        int crc = 0, n = 0, keep_rows = 0;
        uint64_t want_id = (uint64_t)-1;
        const char *sock = getenv("CDC_MYSQL_SOCK");

        if (!from || !table || !dir || !(colon = strrchr(from, ':'))) {
                fprintf(stderr, "capture --from FILE:POS --table T --dir D\n");
                return 5;
        }
        snprintf(file, sizeof(file), "%.*s", (int)(colon - from), from);
        pos = (unsigned long)num(colon + 1);
        if (!mysql_real_connect(m,
                                sock && *sock
                                        ? NULL
                                        : env_or("CDC_MYSQL_HOST", "127.0.0.1"),
                                env_or("CDC_MYSQL_USER", "root"),
                                env_or("CDC_MYSQL_PASS", ""), NULL,
                                (unsigned)num(env_or("CDC_MYSQL_PORT", "3306")),
                                sock && *sock ? sock : NULL, 0) ||
            mysql_query(m, "SET @master_binlog_checksum = "
                           "@@global.binlog_checksum") ||
            mysql_query(m, "SET @mariadb_slave_capability = 4")) {
                fprintf(stderr, "capture: %s\n", mysql_error(m));
                return 4;
        }
        rpl = mariadb_rpl_init(m);
        mariadb_rpl_optionsv(rpl, MARIADB_RPL_SERVER_ID, 4243u);
        mariadb_rpl_optionsv(rpl, MARIADB_RPL_FLAGS,
                             (unsigned)MARIADB_RPL_BINLOG_DUMP_NON_BLOCK);
        mariadb_rpl_optionsv(rpl, MARIADB_RPL_FILENAME, file, strlen(file));
        mariadb_rpl_optionsv(rpl, MARIADB_RPL_START, pos);
        if (mariadb_rpl_open(rpl)) {
                fprintf(stderr, "capture: %s\n", mysql_error(m));
                return 4;
        }
        for (ev = mariadb_rpl_fetch(rpl, NULL); ev;
             ev = mariadb_rpl_fetch(rpl, ev)) {
                size_t ofs       = ev->raw_data_ofs ? ev->raw_data_ofs : 1;
                const uint8_t *b = ev->raw_data + ofs;
                size_t len       = ev->raw_data_size - ofs;
                uint8_t type     = len > 4 ? b[4] : 0;
                if (type == CDC_EV_FORMAT_DESCRIPTION)
                        crc = cdc_frame_fde_has_crc(b, len) == 1;
                if (!strcmp(table, "*")) { /* every event */
                        snprintf(path, sizeof(path), "%s/%03d-ev.bin", dir,
                                 n++);
                        if (write_file(path, b, len))
                                return 5;
                        continue;
                }
                if (type == CDC_EV_TABLE_MAP && len > 30) {
                        char db[65], t[65];
                        uint64_t id;
                        if (!cdc_tablemap_peek(b + 19, len - 19 - (crc ? 4 : 0),
                                               8, &id, db, t) &&
                            !strcmp(t, table)) {
                                want_id   = id;
                                keep_rows = 1;
                                snprintf(path, sizeof(path),
                                         "%s/%02d-table_map.bin", dir, n++);
                                if (write_file(path, b, len))
                                        return 5;
                        } else {
                                keep_rows = 0;
                        }
                }
                if (keep_rows && ((type >= CDC_EV_WRITE_ROWS_V1 &&
                                   type <= CDC_EV_DELETE_ROWS_V1) ||
                                  (type >= CDC_EV_WRITE_ROWS_V2 &&
                                   type <= CDC_EV_DELETE_ROWS_V2))) {
                        uint64_t id;
                        if (!cdc_rowdec_rows_table_id(b + 19, len - 19, 8,
                                                      &id) &&
                            id == want_id) {
                                snprintf(path, sizeof(path), "%s/%02d-rows.bin",
                                         dir, n++);
                                if (write_file(path, b, len))
                                        return 5;
                        }
                }
        }
        snprintf(path, sizeof(path), "%s/crc", dir);
        write_file(path, crc ? "1\n" : "0\n", 2);
        mariadb_rpl_close(rpl);
        mysql_close(m);
        printf("captured %d events\n", n);
        return n ? 0 : 5;
}

static uint8_t *read_file(const char *path, size_t *lenp) {
        FILE *f = fopen(path, "rb");
        uint8_t *b;
        long n;
        if (!f)
                return NULL;
        fseek(f, 0, SEEK_END);
        n = ftell(f);
        fseek(f, 0, SEEK_SET);
        b = malloc(n > 0 ? (size_t)n : 1);
        if (!b || fread(b, 1, (size_t)n, f) != (size_t)n) {
                free(b);
                fclose(f);
                return NULL;
        }
        fclose(f);
        *lenp = (size_t)n;
        return b;
}

/* Decode-only throughput: the captured events decoded in a loop. */
static int cmd_decode_bench(int argc, char **argv) {
        const char *dir = arg(argc, argv, "--dir", NULL);
        long loops      = num(arg(argc, argv, "--loops", "20000"));
        char path[1200], errstr[256];
        uint8_t *tmb = NULL, *rb[16];
        size_t tml   = 0, rl[16];
        int nr = 0, i, crc = 1;
        long l, rows = 0;
        cdc_tablemap_t *t = NULL;
        cdc_frame_t ev;
        cdc_tz_t *tz = cdc_tz_new("UTC", errstr, sizeof(errstr));
        double t0;

        if (!dir)
                return 5;
        for (i = 0; i < 64 && nr < 16; i++) {
                size_t len;
                uint8_t *b;
                snprintf(path, sizeof(path), "%s/%02d-table_map.bin", dir, i);
                if ((b = read_file(path, &len)) != NULL) {
                        if (tmb) {
                                free(b);
                                continue;
                        }
                        tmb = b;
                        tml = len;
                        continue;
                }
                snprintf(path, sizeof(path), "%s/%02d-rows.bin", dir, i);
                if ((b = read_file(path, &len)) != NULL) {
                        rb[nr]   = b;
                        rl[nr++] = len;
                }
        }
        if (!tmb || !nr ||
            cdc_frame_parse(tmb, tml, crc, &ev, errstr, sizeof(errstr)) ||
            cdc_tablemap_parse(ev.body, ev.body_len, 8, &t, errstr,
                               sizeof(errstr))) {
                fprintf(stderr, "decode-bench: no usable events in %s\n", dir);
                return 5;
        }
        t0 = now_s();
        for (l = 0; l < loops; l++) {
                for (i = 0; i < nr; i++) {
                        cdc_rowdec_rows_t r;
                        if (cdc_frame_parse(rb[i], rl[i], crc, &ev, errstr,
                                            sizeof(errstr)) ||
                            cdc_rowdec_rows(ev.type, ev.body, ev.body_len, 8,
                                            &r, errstr, sizeof(errstr)))
                                return 5;
                        while (cdc_rowdec_rows_more(&r)) {
                                json_t *b, *a;
                                if (cdc_rowdec_row_next(t, &r, tz, &b, &a,
                                                        errstr,
                                                        sizeof(errstr))) {
                                        fprintf(stderr, "%s\n", errstr);
                                        return 5;
                                }
                                json_decref(b);
                                json_decref(a);
                                rows++;
                        }
                }
        }
        {
                double dt = now_s() - t0;
                printf("decode-only: rows=%ld cols=%u secs=%.3f "
                       "rows_per_s=%.0f\n",
                       rows, t->ncols, dt, dt > 0 ? (double)rows / dt : 0.0);
        }
        for (i = 0; i < nr; i++)
                free(rb[i]);
        free(tmb);
        cdc_tablemap_destroy(t);
        cdc_tz_destroy(tz);
        return 0;
}

int main(int argc, char **argv) {
        cdc_binlog_t *bl;
        cdc_err_t err;
        int rc = 0;

        if (argc < 2) {
                fprintf(stderr, "usage: binlog_stream check|pos|dump|bench|"
                                "capture|decode-bench ...\n");
                return 5;
        }
        if (!strcmp(argv[1], "dump"))
                return cmd_dump(argc, argv);
        if (!strcmp(argv[1], "bench"))
                return cmd_bench(argc, argv);
        if (!strcmp(argv[1], "capture"))
                return cmd_capture(argc, argv);
        if (!strcmp(argv[1], "decode-bench"))
                return cmd_decode_bench(argc, argv);
        bl = make(0);
        if (!strcmp(argv[1], "check")) {
                err = cdc_binlog_check(bl);
                if (err)
                        fprintf(stderr, "check: %s: %s\n", cdc_err2str(err),
                                cdc_binlog_errstr(bl));
                else
                        puts("ok");
                rc = exit_code(err);
        } else if (!strcmp(argv[1], "pos")) {
                cdc_pos_t p;
                char buf[CDC_POS_GTID_MAX + 400];
                err = cdc_binlog_current_pos(bl, &p);
                if (err || cdc_pos_format(&p, buf, sizeof(buf)) < 0) {
                        fprintf(stderr, "pos: %s: %s\n", cdc_err2str(err),
                                cdc_binlog_errstr(bl));
                        rc = err ? exit_code(err) : 5;
                } else {
                        puts(buf);
                }
        } else {
                fprintf(stderr, "unknown command %s\n", argv[1]);
                rc = 5;
        }
        cdc_binlog_destroy(bl);
        return rc;
}
