/*
 * libFuzzer harness: whole binlog event streams through the server-less
 * stream decoder (cdc_stream, and so cdc_frame, cdc_tablemap, cdc_rowdec,
 * cdc_value, cdc_ddl, cdc_pos), as the replication connection feeds it.
 *
 * Input layout:
 *   byte 0   bit 0: the server is MySQL; bit 1: the start is the server's
 *            end; bits 2-3: start position (harness_starts)
 *   then events, each a 2-byte little-endian length and that many bytes
 *   (header, body, CRC), each copied to a buffer of exactly its size.
 * Watched: followcdc.follow, .idempotent_log and the tables of
 * tests/data/binlog/capture.sh; DATETIME read in +08:00; no metadata
 * connection (maps are used as they are).
 *
 * Checks beyond the sanitizers: every event's items end; every resume
 * position (COMMIT, HEARTBEAT) survives the checkpoint text round trip
 * (cdc_pos_format, cdc_pos_parse); every row image serializes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "cdc_log.h"
#include "cdc_pos.h"
#include "cdc_stream.h"

static const char *const harness_starts[] = {
        "gtid=0-1-22;file=mysql-bin.000001;pos=10521",
        "gtid=;file=mysql-bin.000001;pos=4",
        "gtid=0-1-22,1-2-3;file=;pos=0",
        "gtid=;file=mysql-bin.000002;pos=342",
};

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        (void)argc;
        (void)argv;
        cdc_log_set_level(LOG_CRIT); /* no NOTICE per DDL */
        return 0;
}

static void check_pos(const cdc_pos_t *p) {
        char text[CDC_POS_GTID_MAX + 400];
        cdc_pos_t q;
        int n = cdc_pos_format(p, text, sizeof(text));
        if (n < 0 || cdc_pos_parse(text, (size_t)n, &q) ||
            strcmp(q.gtid, p->gtid) || strcmp(q.file, p->file) ||
            q.pos != p->pos) {
                fprintf(stderr, "resume position does not round trip: %s\n",
                        n < 0 ? "(too long)" : text);
                abort();
        }
}

static void check_item(const cdc_binlog_item_t *it) {
        char *s;
        switch (it->type) {
        case CDC_BINLOG_COMMIT:
        case CDC_BINLOG_HEARTBEAT:
                check_pos(&it->next);
                break;
        case CDC_BINLOG_ROW: {
                json_t *b = NULL, *a = NULL;
                if (!it->table || cdc_binlog_item_json(it, &b, &a) ||
                    (!b && !a))
                        abort();
                s = json_dumps(a ? a : b, JSON_COMPACT);
                if (!s)
                        abort();
                free(s);
                json_decref(b);
                json_decref(a);
                break;
        }
        case CDC_BINLOG_DDL:
                if (!it->table || !it->statement)
                        abort();
                break;
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const char *const tables[] = { "follow", "idempotent_log",
                                              "t_ints", "t_num",
                                              "t_str",  "t_time" };
        cdc_stream_opts_t o;
        cdc_stream_t *st;
        cdc_pos_t start;
        char errstr[256];
        const char *sp;
        size_t off = 1;

        if (size < 1)
                return 0;
        memset(&o, 0, sizeof(o));
        o.db        = "followcdc";
        o.tables    = tables;
        o.table_cnt = sizeof(tables) / sizeof(tables[0]);
        o.source_tz = "+08:00";
        st          = cdc_stream_new(&o, errstr, sizeof(errstr));
        if (!st)
                abort();
        sp = harness_starts[(data[0] >> 2) & 3];
        if (cdc_pos_parse(sp, strlen(sp), &start))
                abort();
        if (cdc_stream_reset(st, &start, data[0] & 1, (data[0] >> 1) & 1))
                goto out;
        while (off + 2 <= size) {
                size_t len = (size_t)data[off] | (size_t)data[off + 1] << 8;
                const cdc_binlog_item_t *it;
                uint8_t *ev;
                long guard = 0;
                cdc_err_t err;
                off += 2;
                if (len > size - off)
                        len = size - off;
                ev = malloc(len ? len : 1);
                if (!ev)
                        abort();
                memcpy(ev, data + off, len);
                off += len;
                err = cdc_stream_event(st, ev, len, &it);
                if (!err && it)
                        check_item(it);
                while (!err) {
                        err = cdc_stream_next(st, &it);
                        if (err || !it)
                                break;
                        check_item(it);
                        if (++guard > 1000000) /* items must end */
                                abort();
                }
                free(ev);
                if (err && err != CDC_ERR__BAD_EVENT && err != CDC_ERR__NOMEM)
                        abort(); /* no other code without a server */
                if (err)
                        break; /* the stream cannot go past a bad event */
        }
out:
        cdc_stream_destroy(st);
        return 0;
}
