/**
 * @file instr_producer.c
 * @brief Fixed, server-free input for the producer's decode + encode path,
 *        for instruction counts (bench/instr.sh runs it under callgrind).
 *
 * From the captured binlog of tests/data/binlog/stream it synthesizes
 * ROWS transactions of TXN_ROWS single-row inserts into `follow` each
 * (the shape bench/producer.sh writes: per row one TABLE_MAP and one
 * WRITE_ROWS event, a GTID event before and an XID event after each
 * transaction, every event with its CRC32), then feeds them through the
 * producer's own modules as the engine does in bench.decode.only:
 * cdc_stream_event / cdc_stream_next (cdc_frame, cdc_tablemap,
 * cdc_rowdec, cdc_value) and cdc_emit_row (key, envelope encoding with
 * cdc_event_enc; no Kafka producer: encoded and discarded).
 *
 * Only instr_run() is measured (callgrind --toggle-collect=instr_run):
 * building the input is not. Built with valgrind's callgrind.h, the
 * driver also switches instrumentation on around it, so bench/instr.sh
 * can run the rest uninstrumented (--instr-atstart=no: much faster). Prints
 * `instr_producer rows=<n>` and exits 1 if the decoder did not return every row
 * as built.
 *
 * Usage: instr_producer [ROWS (100000)] [TXN_ROWS (10)]
 *        instr_producer --requests   exit 0 if built with callgrind.h
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef CDC_HAVE_CALLGRIND_H
#include <valgrind/callgrind.h>
#define CDC_HAVE_REQUESTS 1
#else
#define CDC_HAVE_REQUESTS 0
#define CALLGRIND_START_INSTRUMENTATION
#define CALLGRIND_STOP_INSTRUMENTATION
#endif
#include <libdeflate.h>

#include "cdc_conf.h"
#include "cdc_emit.h"
#include "cdc_log.h"
#include "cdc_metrics.h"
#include "cdc_pconf.h"
#include "cdc_stream.h"

#define STREAM_DIR CDC_SOURCE_DIR "/tests/data/binlog/stream"

/* Captured events used as templates (see tests/data/binlog/capture.sh):
 * 000 ROTATE, 001 FORMAT_DESCRIPTION, 002 GTID 0-1-23, 003 TABLE_MAP of
 * follow (7 columns, names included), 004 WRITE_ROWS of two follow rows,
 * 009 XID. */
enum {
        T_ROTATE,
        T_FDE,
        T_GTID,
        T_MAP,
        T_ROWS,
        T_XID,
        T__CNT
};
static const int tmpl_idx[T__CNT] = { 0, 1, 2, 3, 4, 9 };

#define HDR      19
#define CRC      4
/* WRITE_ROWS v1 body: table id (6), flags (2), column count (1),
 * columns-present bitmap (1), then the rows */
#define ROWS_PRE 10
/* one follow row: NULL bitmap (1), id, follower_id, followee_id (8 each),
 * status (1), version (8), created_at, updated_at (DATETIME(3): 7 each) */
#define ROW_LEN  48

typedef struct buf_s {
        uint8_t *b;
        size_t len;
} buf_t;

typedef struct input_s {
        uint8_t *data; /* every event, back to back */
        size_t len;
        size_t *ofs; /* event i starts at data + ofs[i] */
        size_t n;
        size_t cap;
} input_t;

static uint8_t *slurp(const char *path, size_t *lenp) {
        FILE *f = fopen(path, "rb");
        uint8_t *b;
        long sz;

        if (!f)
                return NULL;
        fseek(f, 0, SEEK_END);
        sz = ftell(f);
        fseek(f, 0, SEEK_SET);
        b = malloc(sz > 0 ? (size_t)sz : 1);
        if (!b || fread(b, 1, (size_t)sz, f) != (size_t)sz) {
                free(b);
                fclose(f);
                return NULL;
        }
        fclose(f);
        *lenp = (size_t)sz;
        return b;
}

static void put32(uint8_t *p, uint32_t v) {
        p[0] = (uint8_t)v;
        p[1] = (uint8_t)(v >> 8);
        p[2] = (uint8_t)(v >> 16);
        p[3] = (uint8_t)(v >> 24);
}

static void put64(uint8_t *p, uint64_t v) {
        put32(p, (uint32_t)v);
        put32(p + 4, (uint32_t)(v >> 32));
}

/* Append an event: header of \p hdr with size and log_pos set, \p body,
 * a fresh CRC32. */
static void input_add(input_t *in, const uint8_t *hdr, const uint8_t *body,
                      size_t blen, uint32_t *logpos) {
        size_t evlen = HDR + blen + CRC;
        uint8_t *e;
        uint32_t crc;

        if (in->n == in->cap) {
                in->cap = in->cap ? 2 * in->cap : 1024;
                in->ofs = realloc(in->ofs, in->cap * sizeof(*in->ofs));
        }
        in->data = realloc(in->data, in->len + evlen);
        if (!in->ofs || !in->data) {
                fprintf(stderr, "instr_producer: out of memory\n");
                exit(2);
        }
        e = in->data + in->len;
        memcpy(e, hdr, HDR);
        memcpy(e + HDR, body, blen);
        put32(e + 9, (uint32_t)evlen);
        if (*logpos) {
                *logpos += (uint32_t)evlen;
                put32(e + 13, *logpos);
        }
        crc = libdeflate_crc32(0, e, HDR + blen);
        put32(e + HDR + blen, crc);
        in->ofs[in->n++] = in->len;
        in->len += evlen;
}

static void input_add_tmpl(input_t *in, const buf_t *t, uint32_t *logpos) {
        input_add(in, t->b, t->b + HDR, t->len - HDR - CRC, logpos);
}

/* The row of insert \p i: id i + 1, follower i / 1000 + 1, followee
 * i % 1000 + 1 (as bench/producer.sh fills the table). */
static void row_fill(uint8_t *row, const uint8_t *tmpl, uint64_t i) {
        memcpy(row, tmpl, ROW_LEN);
        put64(row + 1, i + 1);
        put64(row + 9, i / 1000 + 1);
        put64(row + 17, i % 1000 + 1);
}

static int input_build(input_t *in, uint64_t rows, uint64_t per) {
        char path[512];
        buf_t t[T__CNT];
        uint8_t body[ROWS_PRE + ROW_LEN], gtid[64];
        uint32_t logpos = 0;
        uint64_t i, seq = 23; /* the start position is 0-1-22 */
        int k;

        for (k = 0; k < T__CNT; k++) {
                snprintf(path, sizeof(path), STREAM_DIR "/%03d-ev.bin",
                         tmpl_idx[k]);
                t[k].b = slurp(path, &t[k].len);
                if (!t[k].b || t[k].len < HDR + CRC) {
                        fprintf(stderr, "instr_producer: cannot read %s\n",
                                path);
                        return -1;
                }
        }
        if (t[T_ROWS].len != HDR + ROWS_PRE + 2 * ROW_LEN + CRC ||
            t[T_GTID].len - HDR - CRC > sizeof(gtid) || t[T_MAP].b[4] != 19 ||
            t[T_ROWS].b[4] != 23) {
                fprintf(stderr, "instr_producer: unexpected templates\n");
                return -1;
        }
        input_add_tmpl(in, &t[T_ROTATE], &logpos);
        input_add_tmpl(in, &t[T_FDE], &logpos);
        logpos = 10521; /* the captured start position */
        memcpy(body, t[T_ROWS].b + HDR, ROWS_PRE);
        for (i = 0; i < rows; i++) {
                if (i % per == 0) {
                        size_t glen = t[T_GTID].len - HDR - CRC;
                        memcpy(gtid, t[T_GTID].b + HDR, glen);
                        put64(gtid, seq++);
                        input_add(in, t[T_GTID].b, gtid, glen, &logpos);
                }
                input_add_tmpl(in, &t[T_MAP], &logpos);
                row_fill(body + ROWS_PRE, t[T_ROWS].b + HDR + ROWS_PRE, i);
                input_add(in, t[T_ROWS].b, body, sizeof(body), &logpos);
                if (i % per == per - 1 || i + 1 == rows)
                        input_add_tmpl(in, &t[T_XID], &logpos);
        }
        for (k = 0; k < T__CNT; k++)
                free(t[k].b);
        return 0;
}

/* The measured part: every event through the stream, every row through
 * the emitter, as the engine's STREAM state does. */
uint64_t instr_run(cdc_stream_t *st, cdc_emit_t *em, const input_t *in,
                   uint64_t *badp);
uint64_t instr_run(cdc_stream_t *st, cdc_emit_t *em, const input_t *in,
                   uint64_t *badp) {
        const cdc_binlog_item_t *it;
        uint64_t rows = 0, bad = 0;
        size_t i;

        for (i = 0; i < in->n; i++) {
                size_t end = i + 1 < in->n ? in->ofs[i + 1] : in->len;
                if (cdc_stream_event(st, in->data + in->ofs[i],
                                     end - in->ofs[i], &it) != 0) {
                        bad++;
                        continue;
                }
                for (;;) {
                        if (cdc_stream_next(st, &it) != 0) {
                                bad++;
                                break;
                        }
                        if (!it)
                                break;
                        const cdc_rv_t *id;
                        if (it->type != CDC_BINLOG_ROW)
                                continue;
                        /* check the row is the one built (not measured
                         * as decoding: one lookup) */
                        if (!it->after_row ||
                            !(id = cdc_row_get(it->after_row, "id")) ||
                            id->kind != CDC_RV_INT ||
                            id->i != (int64_t)rows + 1)
                                bad++;
                        if (cdc_emit_row(em, it) != 0)
                                bad++;
                        rows++;
                }
        }
        *badp = bad;
        return rows;
}

int main(int argc, char **argv) {
        static const char *const tabs[] = { "follow", "idempotent_log" };
        uint64_t rows = argc > 1 ? strtoull(argv[1], NULL, 10) : 100000;
        uint64_t per  = argc > 2 ? strtoull(argv[2], NULL, 10) : 10;
        char errstr[512], text[600];
        cdc_stream_opts_t so;
        cdc_stream_t *st;
        cdc_conf_t *conf;
        cdc_pconf_t pc;
        cdc_metrics_t *m;
        cdc_emit_t *em;
        input_t in;
        cdc_pos_t start;
        uint8_t *sb;
        size_t sl;
        uint64_t got, bad;
        const char *why;

        if (argc > 1 && !strcmp(argv[1], "--requests"))
                return CDC_HAVE_REQUESTS ? 0 : 1;
        if (!rows || !per) {
                fprintf(stderr, "usage: instr_producer [ROWS] [TXN_ROWS]\n");
                return 2;
        }
        cdc_log_set_level(LOG_WARNING);
        memset(&in, 0, sizeof(in));
        if (input_build(&in, rows, per))
                return 2;
        sb = slurp(STREAM_DIR "/start", &sl);
        if (!sb)
                return 2;
        snprintf(text, sizeof(text), "%.*s", (int)strcspn((char *)sb, "\n"),
                 (char *)sb);
        free(sb);
        if (cdc_pos_parse(text, strlen(text), &start)) {
                fprintf(stderr, "instr_producer: bad start %s\n", text);
                return 2;
        }

        memset(&so, 0, sizeof(so));
        so.db        = "followcdc";
        so.tables    = tabs;
        so.table_cnt = 2;
        so.source_tz = "UTC";
        st           = cdc_stream_new(&so, errstr, sizeof(errstr));
        if (!st || cdc_stream_reset(st, &start, 0, 0)) {
                fprintf(stderr, "instr_producer: stream: %s\n", errstr);
                return 2;
        }
        memset(&pc, 0, sizeof(pc));
        m    = cdc_metrics_new();
        conf = cdc_conf_new("instr_producer", cdc_pconf_props(), &pc, errstr,
                            sizeof(errstr));
        if (!m || !conf ||
            cdc_conf_set(conf, "mysql.server.id", "4242", errstr,
                         sizeof(errstr))) {
                fprintf(stderr, "instr_producer: conf: %s\n", errstr);
                return 2;
        }
        if ((why = cdc_pconf_finalize(&pc))) {
                fprintf(stderr, "instr_producer: conf: %s\n", why);
                return 2;
        }
        em = cdc_emit_new(&pc, NULL, NULL, m, errstr, sizeof(errstr));
        if (!em) {
                fprintf(stderr, "instr_producer: emit: %s\n", errstr);
                return 2;
        }

        CALLGRIND_START_INSTRUMENTATION;
        got = instr_run(st, em, &in, &bad);
        CALLGRIND_STOP_INSTRUMENTATION;
        printf("instr_producer rows=%" PRIu64 " events=%zu bad=%" PRIu64 "\n",
               got, in.n, bad);

        cdc_emit_destroy(em);
        cdc_stream_destroy(st);
        cdc_conf_destroy(conf);
        cdc_pconf_clear(&pc);
        cdc_metrics_destroy(m);
        free(in.data);
        free(in.ofs);
        return got == rows && !bad ? 0 : 1;
}
