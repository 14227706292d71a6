/**
 * @file cdc_stream.c
 * @brief Raw binlog events to items (see cdc_stream.h): event format,
 *        transactions, positions and GTIDs, TABLE_MAPs of the watched
 *        tables, DDL, and the rows of rows events one by one.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "cdc_ddl.h"
#include "cdc_frame.h"
#include "cdc_log.h"
#include "cdc_rowdec.h"
#include "cdc_stream.h"
#include "cdc_tablemap.h"

#define STREAM_TABLE_CACHE 64

/* MariaDB GTID event flag: no terminating COMMIT follows (DDL) */
#define STREAM_GTID_FL_STANDALONE 0x01

typedef struct stream_tcache_s {
        cdc_tablemap_t *t;
        size_t watched; /* index in st_tables */
        uint64_t used;  /* LRU stamp */
} stream_tcache_t;

struct cdc_stream_s {
        char *st_db;
        char **st_tables;
        size_t st_table_cnt;
        cdc_tz_t *st_tz;
        cdc_srcmeta_t *st_meta; /* borrowed, may be NULL */
        int st_is_mysql;        /* MySQL (not MariaDB) server */
        int st_gtid_mode;       /* streaming by GTID */

        /* format */
        int st_has_crc;
        int st_fde_seen;
        uint8_t st_phl[256]; /* post-header length per event type */

        /* positions */
        char st_file[256];      /* current binlog file */
        cdc_gtidset_t st_gs;    /* committed GTID set */
        int st_gs_complete;     /* the set covers every domain */
        cdc_pos_t st_committed; /* after the last complete transaction */

        /* current transaction */
        int st_in_trx;
        int st_trx_standalone;
        int st_trx_has_gtid;
        cdc_gtid_t st_trx_gtid;
        uint64_t st_trx_start;
        uint32_t st_trx_ts; /* GTID event time (commit), 0: none */
        uint32_t st_trx_row;

        /* tables */
        stream_tcache_t st_tc[STREAM_TABLE_CACHE];
        size_t st_tc_n;
        uint64_t st_tc_clock;

        /* rows event being returned row by row */
        int st_rows_active;
        cdc_rowdec_rows_t st_rows;
        cdc_tablemap_t *st_rows_t;
        cdc_row_t st_row_before; /* the flat images of the last ROW item */
        cdc_row_t st_row_after;
        uint32_t st_rows_ts;
        uint32_t st_rows_server; /* server id in the event header */

        /* pending items */
        int st_pending_commit;
        int st_pending_ddl;
        cdc_source_t st_ddl_src; /* where the pending DDL is */
        char *st_stmt;
        char st_ddl_table[65];

        cdc_binlog_item_t st_item;
        char st_errstr[512];
};

static void stream_seterr(cdc_stream_t *st, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static void stream_seterr(cdc_stream_t *st, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(st->st_errstr, sizeof(st->st_errstr), fmt, ap);
        va_end(ap);
}

/* \p src into \p dst of \p size bytes, cut to fit (as snprintf "%s"). */
static void stream_strcpy(char *dst, size_t size, const char *src) {
        size_t n = strnlen(src, size - 1);
        memcpy(dst, src, n);
        dst[n] = '\0';
}

/* Decimal text of \p v at \p p; @returns the end. */
static char *stream_u64(char *p, uint64_t v) {
        char tmp[20], *t = tmp + sizeof(tmp);
        do {
                *--t = (char)('0' + v % 10);
                v /= 10;
        } while (v);
        memcpy(p, t, (size_t)(tmp + sizeof(tmp) - t));
        return p + (tmp + sizeof(tmp) - t);
}

/* "domain-server-seq" (at most 10 + 10 + 20 digits and two dashes: fits
 * cdc_source_t.gtid). */
static void stream_gtid(char *buf, const cdc_gtid_t *g) {
        char *p = stream_u64(buf, g->domain);
        *p++    = '-';
        p       = stream_u64(p, g->server);
        *p++    = '-';
        p       = stream_u64(p, g->seq);
        *p      = '\0';
}

/* ---- lifecycle ---- */

cdc_stream_t *cdc_stream_new(const cdc_stream_opts_t *opts, char *errstr,
                             size_t errstr_size) {
        cdc_stream_t *st = NULL;
        size_t i;

        st = calloc(1, sizeof(*st));
        if (!st)
                goto nomem;
        st->st_db = strdup(opts->db ? opts->db : "");
        st->st_tables =
                calloc(opts->table_cnt ? opts->table_cnt : 1, sizeof(char *));
        st->st_table_cnt = opts->table_cnt;
        st->st_meta      = opts->meta;
        if (!st->st_db || !st->st_tables)
                goto nomem;
        for (i = 0; i < opts->table_cnt; i++) {
                st->st_tables[i] = strdup(opts->tables[i]);
                if (!st->st_tables[i])
                        goto nomem;
        }
        st->st_tz = cdc_tz_new(opts->source_tz, errstr, errstr_size);
        if (!st->st_tz)
                goto fail;
        return st;
nomem:
        snprintf(errstr, errstr_size, "out of memory");
fail:
        cdc_stream_destroy(st);
        return NULL;
}

/* Drops the last item's row images. Only the fields every item kind
 * sets are cleared: the item is 2 KB (a source and a position), and
 * clearing all of it per row cost 7 % of the decoding thread. A ROW item
 * writes its whole source, a DDL item copies one, COMMIT and HEARTBEAT
 * items their position. */
static void stream_item_release(cdc_stream_t *st) {
        cdc_binlog_item_t *it = &st->st_item;
        json_decref(it->before);
        json_decref(it->after);
        if (it->before_row)
                cdc_row_clear(&st->st_row_before);
        if (it->after_row)
                cdc_row_clear(&st->st_row_after);
        it->before     = NULL;
        it->after      = NULL;
        it->before_row = NULL;
        it->after_row  = NULL;
        it->table      = NULL;
        it->statement  = NULL;
        it->op         = 0;
}

static void stream_tc_clear(cdc_stream_t *st) {
        size_t i;
        for (i = 0; i < st->st_tc_n; i++)
                cdc_tablemap_destroy(st->st_tc[i].t);
        st->st_tc_n = 0;
}

void cdc_stream_close(cdc_stream_t *st) {
        if (!st)
                return;
        stream_item_release(st);
        st->st_rows_active    = 0;
        st->st_rows_t         = NULL;
        st->st_pending_commit = 0;
        st->st_pending_ddl    = 0;
        stream_tc_clear(st);
}

void cdc_stream_destroy(cdc_stream_t *st) {
        size_t i;
        if (!st)
                return;
        cdc_stream_close(st);
        cdc_row_free(&st->st_row_before);
        cdc_row_free(&st->st_row_after);
        for (i = 0; st->st_tables && i < st->st_table_cnt; i++)
                free(st->st_tables[i]);
        free(st->st_tables);
        free(st->st_db);
        free(st->st_stmt);
        cdc_tz_destroy(st->st_tz);
        free(st);
}

const char *cdc_stream_errstr(const cdc_stream_t *st) {
        return st->st_errstr;
}

const char *cdc_stream_file(const cdc_stream_t *st) {
        return st->st_file;
}

const cdc_pos_t *cdc_stream_committed(const cdc_stream_t *st) {
        return &st->st_committed;
}

int cdc_stream_gtid_mode(const cdc_stream_t *st) {
        return st->st_gtid_mode;
}

cdc_err_t cdc_stream_reset(cdc_stream_t *st, const cdc_pos_t *sp, int is_mysql,
                           int from_end) {
        cdc_stream_close(st);
        st->st_errstr[0] = '\0';
        st->st_is_mysql  = is_mysql;
        st->st_gtid_mode = !st->st_is_mysql && sp->gtid[0];
        st->st_gs.n      = 0;
        if (st->st_gtid_mode && cdc_pos_gtidset_parse(&st->st_gs, sp->gtid)) {
                stream_seterr(st, "bad GTID set \"%s\"", sp->gtid);
                return CDC_ERR__CONFIG;
        }
        /* From file:pos the set is only known once a GTID_LIST (at the
         * start of the next file) has told us every domain. At the end of
         * a MariaDB binlog without any GTID yet, the empty set is the
         * whole set. */
        st->st_gs_complete = st->st_gtid_mode || (from_end && !st->st_is_mysql);
        if (!st->st_gtid_mode && !sp->file[0]) {
                stream_seterr(st, "no binlog file in the start position and "
                                  "no GTID support");
                return CDC_ERR__CONFIG;
        }
        st->st_committed = *sp;
        snprintf(st->st_file, sizeof(st->st_file), "%s", sp->file);
        st->st_in_trx         = 0;
        st->st_trx_has_gtid   = 0;
        st->st_trx_standalone = 0;
        st->st_has_crc        = 0;
        st->st_fde_seen       = 0;
        memset(st->st_phl, 0, sizeof(st->st_phl));
        return CDC_ERR_NO_ERROR;
}

/* ---- events ---- */

static ssize_t stream_watched(const cdc_stream_t *st, const char *db,
                              const char *table) {
        size_t i;
        if (strcmp(db, st->st_db))
                return -1;
        for (i = 0; i < st->st_table_cnt; i++)
                if (!strcmp(table, st->st_tables[i]))
                        return (ssize_t)i;
        return -1;
}

static stream_tcache_t *stream_tc_find(cdc_stream_t *st, uint64_t id) {
        size_t i;
        for (i = 0; i < st->st_tc_n; i++)
                if (st->st_tc[i].t->id == id)
                        return &st->st_tc[i];
        return NULL;
}

static void stream_tc_remove(cdc_stream_t *st, size_t i) {
        cdc_tablemap_destroy(st->st_tc[i].t);
        st->st_tc[i] = st->st_tc[--st->st_tc_n];
}

static void stream_tc_forget_table(cdc_stream_t *st, size_t w) {
        size_t i = 0;
        while (i < st->st_tc_n) {
                if (st->st_tc[i].watched == w)
                        stream_tc_remove(st, i);
                else
                        i++;
        }
}

static cdc_err_t stream_on_table_map(cdc_stream_t *st, const cdc_frame_t *ev) {
        unsigned phl = st->st_phl[CDC_EV_TABLE_MAP];
        char db[65], table[65];
        uint64_t id;
        ssize_t w;
        stream_tcache_t *tc;
        cdc_tablemap_t *t = NULL;
        cdc_err_t err;

        if (!phl)
                phl = 8;
        if (cdc_tablemap_peek(ev->body, ev->body_len, phl, &id, db, table)) {
                stream_seterr(st, "TABLE_MAP at %s:%u: truncated", st->st_file,
                              ev->next_pos);
                return CDC_ERR__BAD_EVENT;
        }
        tc = stream_tc_find(st, id);
        w  = stream_watched(st, db, table);
        if (w < 0) {
                if (tc)
                        stream_tc_remove(st, (size_t)(tc - st->st_tc));
                return CDC_ERR_NO_ERROR;
        }
        if (tc && tc->t->raw_len == ev->body_len &&
            !memcmp(tc->t->raw, ev->body, ev->body_len)) {
                tc->used = ++st->st_tc_clock; /* same map as before */
                return CDC_ERR_NO_ERROR;
        }
        err = cdc_tablemap_parse(ev->body, ev->body_len, phl, &t, st->st_errstr,
                                 sizeof(st->st_errstr));
        if (err)
                return err;
        if (st->st_meta &&
            !(t->has_names && t->has_sign && t->has_charset && t->has_labels)) {
                err = cdc_srcmeta_complete(st->st_meta, (size_t)w, t);
                if (err) {
                        stream_seterr(st, "%s",
                                      cdc_srcmeta_errstr(st->st_meta));
                        cdc_tablemap_destroy(t);
                        return err;
                }
        }
        if (tc) {
                cdc_tablemap_destroy(tc->t);
        } else if (st->st_tc_n < STREAM_TABLE_CACHE) {
                tc = &st->st_tc[st->st_tc_n++];
        } else {
                size_t i, lru = 0;
                for (i = 1; i < st->st_tc_n; i++)
                        if (st->st_tc[i].used < st->st_tc[lru].used)
                                lru = i;
                tc = &st->st_tc[lru];
                cdc_tablemap_destroy(tc->t);
        }
        tc->t       = t;
        tc->watched = (size_t)w;
        tc->used    = ++st->st_tc_clock;
        return CDC_ERR_NO_ERROR;
}

static uint64_t stream_file_no(const char *file) {
        const char *dot = strrchr(file, '.');
        return dot ? strtoull(dot + 1, NULL, 10) : 0;
}

static void stream_trx_begin(cdc_stream_t *st, const cdc_frame_t *ev) {
        st->st_in_trx    = 1;
        st->st_trx_row   = 0;
        st->st_trx_start = ev->next_pos >= ev->len ? ev->next_pos - ev->len : 0;
}

/* The transaction ends: the committed position moves past it. */
static cdc_err_t stream_trx_commit(cdc_stream_t *st, const cdc_frame_t *ev) {
        if (st->st_trx_has_gtid &&
            cdc_pos_gtidset_update(&st->st_gs, &st->st_trx_gtid, 0)) {
                stream_seterr(st, "more than %d GTID domains", CDC_GTIDSET_MAX);
                return CDC_ERR__BAD_EVENT;
        }
        if (!st->st_gs_complete) {
                st->st_committed.gtid[0] = '\0';
        } else if (cdc_pos_gtidset_format(&st->st_gs, st->st_committed.gtid,
                                          sizeof(st->st_committed.gtid))) {
                stream_seterr(st, "GTID set too long");
                return CDC_ERR__BAD_EVENT;
        }
        snprintf(st->st_committed.file, sizeof(st->st_committed.file), "%s",
                 st->st_file);
        if (ev->next_pos)
                st->st_committed.pos = ev->next_pos;
        st->st_in_trx         = 0;
        st->st_trx_has_gtid   = 0;
        st->st_trx_standalone = 0;
        st->st_pending_commit = 1;
        return CDC_ERR_NO_ERROR;
}

/* Ordering sequence of the current transaction: the sum, over every GTID
 * domain, of the domain's sequence number once this transaction is
 * applied. With gtid_strict_mode each transaction raises exactly one
 * domain's number, so the sum grows with every transaction of the binlog
 * whatever domains they belong to (sequence numbers of two domains are
 * not comparable: a domain change or multi-source replication upstream
 * would make a plain seq go backwards), and with one domain it is that
 * domain's seq. The snapshot's position is summed the same way
 * (cdc_snapshot_pos_seq()). Saturates (never wraps) at UINT64_MAX. */
static uint64_t stream_trx_seq(const cdc_stream_t *st) {
        uint64_t sum = st->st_trx_gtid.seq;
        size_t i;

        for (i = 0; i < st->st_gs.n; i++) {
                uint64_t v = st->st_gs.g[i].seq;

                if (st->st_gs.g[i].domain == st->st_trx_gtid.domain)
                        continue;
                sum = sum > UINT64_MAX - v ? UINT64_MAX : sum + v;
        }
        return sum;
}

/* The source of an item of the current transaction: GTID (or file and
 * position) ordering, commit time. \p server and \p ts: the event's own,
 * used without a GTID. */
static void stream_source(const cdc_stream_t *st, cdc_source_t *src,
                          const char *db, const char *table, uint32_t server,
                          uint32_t ts) {
        src->server_id = st->st_trx_has_gtid ? st->st_trx_gtid.server : server;
        /* once per row: copies and digits, no printf */
        stream_strcpy(src->db, sizeof(src->db), db);
        stream_strcpy(src->table, sizeof(src->table), table);
        if (st->st_trx_has_gtid) {
                stream_gtid(src->gtid, &st->st_trx_gtid);
                src->seq = stream_trx_seq(st);
        } else {
                src->gtid[0] = '\0';
                src->seq     = stream_file_no(st->st_file) << 40 |
                           (st->st_trx_start & ((1ULL << 40) - 1));
        }
        stream_strcpy(src->file, sizeof(src->file), st->st_file);
        src->pos = st->st_trx_start;
        src->row = 0;
        src->ts_ms =
                (int64_t)(st->st_trx_has_gtid && st->st_trx_ts ? st->st_trx_ts
                                                               : ts) *
                1000;
}

static cdc_err_t stream_on_query(cdc_stream_t *st, const cdc_frame_t *ev,
                                 int *producedp) {
        unsigned phl = st->st_phl[CDC_EV_QUERY] ? st->st_phl[CDC_EV_QUERY] : 13;
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
                if (!st->st_trx_has_gtid)
                        stream_trx_begin(st, ev);
                return CDC_ERR_NO_ERROR;
        }
        if ((qlen == 6 && !strncasecmp(q, "COMMIT", 6)) ||
            (qlen == 8 && !strncasecmp(q, "ROLLBACK", 8)))
                return stream_trx_commit(st, ev);
        was_in_trx = st->st_in_trx;
        if (!was_in_trx) /* a statement outside BEGIN..COMMIT */
                stream_trx_begin(st, ev);
        w = cdc_ddl_match(st->st_db, st->st_tables, st->st_table_cnt, q, qlen,
                          db);
        if (w >= 0) {
                char *s = malloc(qlen + 1);
                if (!s)
                        return CDC_ERR__NOMEM;
                memcpy(s, q, qlen);
                s[qlen] = '\0';
                free(st->st_stmt);
                st->st_stmt = s;
                snprintf(st->st_ddl_table, sizeof(st->st_ddl_table), "%s",
                         st->st_tables[w]);
                st->st_pending_ddl = 1;
                /* now: its transaction ends below (standalone) */
                memset(&st->st_ddl_src, 0, sizeof(st->st_ddl_src));
                stream_source(st, &st->st_ddl_src, st->st_db, st->st_tables[w],
                              ev->server_id, ev->ts);
                /* names and types change: reload them for later maps */
                stream_tc_forget_table(st, (size_t)w);
                if (st->st_meta)
                        cdc_srcmeta_forget(st->st_meta, (size_t)w);
                cdc_log(LOG_NOTICE, "BINLOG", "DDL on %s.%s at %s:%u: %.*s",
                        st->st_db, st->st_tables[w], st->st_file, ev->next_pos,
                        (int)(qlen > 200 ? 200 : qlen), q);
                *producedp = 1;
        }
        /* DDL and other statements logged outside a transaction end here
         * (MariaDB marks their GTID standalone; without GTIDs: no BEGIN
         * before them), a SAVEPOINT inside one does not */
        if (st->st_trx_standalone || (!st->st_trx_has_gtid && !was_in_trx))
                return stream_trx_commit(st, ev);
        return CDC_ERR_NO_ERROR;
bad:
        stream_seterr(st, "QUERY at %s:%u: truncated", st->st_file,
                      ev->next_pos);
        return CDC_ERR__BAD_EVENT;
}

static cdc_err_t stream_on_rows(cdc_stream_t *st, const cdc_frame_t *ev) {
        unsigned phl = st->st_phl[ev->type];
        uint64_t id;
        stream_tcache_t *tc;
        cdc_err_t err;

        if (!phl)
                phl = ev->type >= CDC_EV_WRITE_ROWS_V2 ? 10 : 8;
        if (cdc_rowdec_rows_table_id(ev->body, ev->body_len, phl, &id)) {
                stream_seterr(st, "rows event at %s:%u: truncated", st->st_file,
                              ev->next_pos);
                return CDC_ERR__BAD_EVENT;
        }
        tc = stream_tc_find(st, id);
        if (!tc)
                return CDC_ERR_NO_ERROR; /* not a watched table */
        err = cdc_rowdec_rows(ev->type, ev->body, ev->body_len, phl,
                              &st->st_rows, st->st_errstr,
                              sizeof(st->st_errstr));
        if (err)
                return err;
        if (!st->st_in_trx)
                stream_trx_begin(st, ev);
        st->st_rows_t      = tc->t;
        st->st_rows_ts     = ev->ts;
        st->st_rows_server = ev->server_id;
        st->st_rows_active = 1;
        return CDC_ERR_NO_ERROR;
}

/* A binlog file name from the server: it ends up in checkpoints, so it
 * must be what cdc_pos_parse() accepts. @returns 0 or -1. */
static int stream_file_set(cdc_stream_t *st, const uint8_t *s, size_t l) {
        size_t i;
        if (l == 0 || l >= sizeof(st->st_file))
                goto bad;
        for (i = 0; i < l; i++)
                if (s[i] <= ' ' || s[i] >= 0x7f || s[i] == ';' || s[i] == '=')
                        goto bad;
        memcpy(st->st_file, s, l);
        st->st_file[l] = '\0';
        return 0;
bad:
        stream_seterr(st,
                      "binlog file name from the server is not usable "
                      "(%zu bytes)",
                      l);
        return -1;
}

static cdc_err_t stream_process_raw(cdc_stream_t *st, const uint8_t *b,
                                    size_t len, int *producedp) {
        cdc_frame_t ev;
        cdc_err_t err;
        int crc;

        *producedp = 0;
        if (len >= CDC_EV_HEADER_LEN && b[4] == CDC_EV_FORMAT_DESCRIPTION) {
                cdc_fde_t fde;
                err = cdc_frame_fde(b, len, &fde, st->st_errstr,
                                    sizeof(st->st_errstr));
                if (err)
                        return err;
                st->st_has_crc  = fde.has_crc;
                st->st_fde_seen = 1;
                memcpy(st->st_phl, fde.phl, sizeof(st->st_phl));
        }
        crc = st->st_has_crc;
        if (!st->st_fde_seen)
                /* Events before the FORMAT_DESCRIPTION (the fake ROTATE)
                 * carry a CRC if the server was asked for checksums:
                 * recognise it by its value. */
                crc = cdc_frame_crc_ok(b, len);
        err = cdc_frame_parse(b, len, crc, &ev, st->st_errstr,
                              sizeof(st->st_errstr));
        if (err)
                return err;

        switch (ev.type) {
        case CDC_EV_FORMAT_DESCRIPTION: /* read above */
                break;
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
                if (stream_file_set(st, ev.body + 8, l))
                        return CDC_ERR__BAD_EVENT;
                if (!st->st_in_trx &&
                    !(artificial && st->st_gtid_mode &&
                      st->st_committed.file[0] &&
                      strcmp(st->st_committed.file, st->st_file) == 0)) {
                        snprintf(st->st_committed.file,
                                 sizeof(st->st_committed.file), "%s",
                                 st->st_file);
                        if (!artificial || !st->st_gtid_mode)
                                st->st_committed.pos = pos;
                        else if (st->st_committed.pos == 0)
                                st->st_committed.pos = pos;
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
                        stream_seterr(st, "GTID_LIST: truncated");
                        return CDC_ERR__BAD_EVENT;
                }
                for (i = 0; i < cnt; i++) {
                        const uint8_t *p = ev.body + 4 + (size_t)i * 16;
                        cdc_gtid_t g;
                        memcpy(&g.domain, p, 4); /* little-endian hosts */
                        memcpy(&g.server, p + 4, 4);
                        memcpy(&g.seq, p + 8, 8);
                        /* the list is the state at the file start: it
                         * only adds domains our start position lacks */
                        if (cdc_pos_gtidset_update(&st->st_gs, &g,
                                                   st->st_gs_complete)) {
                                stream_seterr(st, "more than %d GTID domains",
                                              CDC_GTIDSET_MAX);
                                return CDC_ERR__BAD_EVENT;
                        }
                }
                st->st_gs_complete = 1;
                break;
        }
        case CDC_EV_GTID: {
                /* seq(8) domain(4) flags(1) */
                if (ev.body_len < 13) {
                        stream_seterr(st, "GTID event: truncated");
                        return CDC_ERR__BAD_EVENT;
                }
                stream_trx_begin(st, &ev);
                memcpy(&st->st_trx_gtid.seq, ev.body, 8);
                memcpy(&st->st_trx_gtid.domain, ev.body + 8, 4);
                st->st_trx_gtid.server = ev.server_id;
                st->st_trx_has_gtid    = 1;
                /* written when the transaction commits */
                st->st_trx_ts         = ev.ts;
                st->st_trx_standalone = ev.body[12] & STREAM_GTID_FL_STANDALONE;
                break;
        }
        case CDC_EV_XID:
        case CDC_EV_XA_PREPARE:
                /* XA: the rows are in the binlog group that ends with
                 * XA PREPARE (replicas apply them there too) */
                err = stream_trx_commit(st, &ev);
                if (err)
                        return err;
                *producedp = 1;
                break;
        case CDC_EV_QUERY:
                err = stream_on_query(st, &ev, producedp);
                if (err)
                        return err;
                if (st->st_pending_commit)
                        *producedp = 1;
                break;
        case CDC_EV_TABLE_MAP:
                return stream_on_table_map(st, &ev);
        case CDC_EV_WRITE_ROWS_V1:
        case CDC_EV_UPDATE_ROWS_V1:
        case CDC_EV_DELETE_ROWS_V1:
        case CDC_EV_WRITE_ROWS_V2:
        case CDC_EV_UPDATE_ROWS_V2:
        case CDC_EV_DELETE_ROWS_V2:
                err = stream_on_rows(st, &ev);
                if (err)
                        return err;
                *producedp = st->st_rows_active;
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
                    !stream_tc_find(st, id))
                        break;
                stream_seterr(st,
                              "rows event type %u at %s:%u (compressed "
                              "or partial JSON) is not supported: set "
                              "log_bin_compress=OFF / binlog_row_value_"
                              "options=''",
                              ev.type, st->st_file, ev.next_pos);
                return CDC_ERR__BAD_EVENT;
        }
        case CDC_EV_HEARTBEAT: {
                cdc_binlog_item_t *it = &st->st_item;
                size_t l              = ev.body_len;
                if (!st->st_in_trx) {
                        if (l) {
                                if (stream_file_set(st, ev.body, l))
                                        return CDC_ERR__BAD_EVENT;
                                snprintf(st->st_committed.file,
                                         sizeof(st->st_committed.file), "%s",
                                         st->st_file);
                        }
                        if (ev.next_pos)
                                st->st_committed.pos = ev.next_pos;
                }
                it->type   = CDC_BINLOG_HEARTBEAT;
                it->next   = st->st_committed;
                *producedp = 2;
                break;
        }
        default:
                break;
        }
        return CDC_ERR_NO_ERROR;
}

/* Builds the item for the next pending thing. @returns 1 if made. */
static cdc_err_t stream_emit(cdc_stream_t *st, int *madep) {
        cdc_binlog_item_t *it = &st->st_item;
        cdc_err_t err;

        *madep = 0;
        if (st->st_pending_ddl) {
                st->st_pending_ddl = 0;
                it->type           = CDC_BINLOG_DDL;
                it->table          = st->st_ddl_table;
                it->statement      = st->st_stmt;
                it->source         = st->st_ddl_src;
                *madep             = 1;
                return CDC_ERR_NO_ERROR;
        }
        if (st->st_pending_commit) {
                st->st_pending_commit = 0;
                it->type              = CDC_BINLOG_COMMIT;
                it->next              = st->st_committed;
                *madep                = 1;
                return CDC_ERR_NO_ERROR;
        }
        if (st->st_rows_active && cdc_rowdec_rows_more(&st->st_rows)) {
                cdc_tablemap_t *t = st->st_rows_t;
                cdc_source_t *src = &it->source;
                if (cdc_tablemap_flat(t)) {
                        int has = 0;
                        err     = cdc_rowdec_row_next_flat(
                                    t, &st->st_rows, st->st_tz, &st->st_row_before,
                                    &st->st_row_after, &has, st->st_errstr,
                                    sizeof(st->st_errstr));
                        if (has & 1)
                                it->before_row = &st->st_row_before;
                        if (has & 2)
                                it->after_row = &st->st_row_after;
                } else {
                        err = cdc_rowdec_row_next(t, &st->st_rows, st->st_tz,
                                                  &it->before, &it->after,
                                                  st->st_errstr,
                                                  sizeof(st->st_errstr));
                }
                if (err) {
                        st->st_rows_active = 0;
                        return err;
                }
                it->type  = CDC_BINLOG_ROW;
                it->op    = (cdc_op_t)st->st_rows.op;
                it->table = t->name;
                stream_source(st, src, t->db, t->name, st->st_rows_server,
                              st->st_rows_ts);
                src->row = st->st_trx_row++;
                *madep   = 1;
                return CDC_ERR_NO_ERROR;
        }
        st->st_rows_active = 0;
        return CDC_ERR_NO_ERROR;
}


/* ---- the two entry points ---- */

cdc_err_t cdc_stream_event(cdc_stream_t *st, const uint8_t *buf, size_t len,
                           const cdc_binlog_item_t **hbp) {
        int produced = 0;
        cdc_err_t err;

        *hbp = NULL;
        stream_item_release(st);
        if (st->st_rows_active && cdc_rowdec_rows_more(&st->st_rows)) {
                /* the rows point into the previous event's buffer */
                stream_seterr(st, "stream: next event before the rows of "
                                  "the last one were taken");
                return CDC_ERR__STATE;
        }
        err = stream_process_raw(st, buf, len, &produced);
        if (err)
                return err;
        if (produced == 2) /* heartbeat item built in place */
                *hbp = &st->st_item;
        return CDC_ERR_NO_ERROR;
}

cdc_err_t cdc_stream_next(cdc_stream_t *st, const cdc_binlog_item_t **itemp) {
        cdc_err_t err;
        int made = 0;

        *itemp = NULL;
        stream_item_release(st);
        err = stream_emit(st, &made);
        if (err)
                return err;
        if (made)
                *itemp = &st->st_item;
        return CDC_ERR_NO_ERROR;
}

int cdc_binlog_item_json(const cdc_binlog_item_t *it, json_t **beforep,
                         json_t **afterp) {
        *beforep = it->before_row ? cdc_row_json(it->before_row)
                                  : json_incref(it->before);
        *afterp  = it->after_row ? cdc_row_json(it->after_row)
                                 : json_incref(it->after);
        if ((it->before_row && !*beforep) || (it->after_row && !*afterp)) {
                json_decref(*beforep);
                json_decref(*afterp);
                *beforep = *afterp = NULL;
                return -1;
        }
        return 0;
}
