/*
 * The binlog stream without a server (cdc_stream): a captured event
 * stream (transactions, a rollback, an unwatched table, DDL, a binlog
 * rotation, XA) fed event by event, checking every item and resume
 * position; then every event of it truncated or corrupted (with a
 * recomputed CRC, so the parsers see it).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <zlib.h>
#include "cdc_frame.h"
#include "cdc_log.h"
#include "cdc_stream.h"

/* ---- a captured stream fed without a server ---- */

#define STREAM CDC_SOURCE_DIR "/tests/data/binlog/stream"

typedef struct sev_s {
        uint8_t *b;
        size_t len;
} sev_t;

static int stream_load(sev_t *evs, int max, cdc_pos_t *start) {
        char path[512], text[600];
        FILE *f;
        int n;
        size_t l;

        f = fopen(STREAM "/start", "r");
        assert_non_null(f);
        assert_non_null(fgets(text, sizeof(text), f));
        fclose(f);
        l = strcspn(text, "\n");
        assert_int_equal(cdc_pos_parse(text, l, start), 0);
        for (n = 0; n < max; n++) {
                long sz;
                snprintf(path, sizeof(path), STREAM "/%03d-ev.bin", n);
                f = fopen(path, "rb");
                if (!f)
                        break;
                fseek(f, 0, SEEK_END);
                sz = ftell(f);
                fseek(f, 0, SEEK_SET);
                evs[n].b   = malloc((size_t)sz);
                evs[n].len = (size_t)sz;
                assert_int_equal(fread(evs[n].b, 1, (size_t)sz, f), (size_t)sz);
                fclose(f);
        }
        return n;
}

/* A metadata connection that can't connect: a mangled map that asks
 * information_schema gets an error, never a server. */
static cdc_srcmeta_t *meta_refused(void) {
        static const char *const tabs[] = { "follow", "idempotent_log" };
        cdc_mysql_target_t tgt;
        cdc_mysql_opts_t o;
        cdc_srcmeta_t *sm;
        memset(&o, 0, sizeof(o));
        /* port 1: a mangled map may ask information_schema: refused */
        assert_int_equal(cdc_mysql_target_set(&tgt, "127.0.0.1", 1, NULL,
                                              "nobody", NULL, NULL),
                         0);
        o.connect_timeout_s = 1;
        sm                  = cdc_srcmeta_new(&tgt, &o, "followcdc", tabs, 2);
        cdc_mysql_target_clear(&tgt); /* the handle holds a copy */
        assert_non_null(sm);
        return sm;
}

static cdc_stream_t *stream_handle(cdc_srcmeta_t *sm) {
        static const char *const tabs[] = { "follow", "idempotent_log" };
        cdc_stream_opts_t o;
        char errstr[256];
        cdc_stream_t *st;
        memset(&o, 0, sizeof(o));
        o.db        = "followcdc";
        o.tables    = tabs;
        o.table_cnt = 2;
        o.source_tz = "UTC";
        o.meta      = sm;
        st          = cdc_stream_new(&o, errstr, sizeof(errstr));
        assert_non_null(st);
        return st;
}

/* Processes one event (NULL: none) and returns the next item, as the
 * replication connection does: a heartbeat at once, else what is
 * pending. */
static cdc_err_t feed(cdc_stream_t *st, const uint8_t *buf, size_t len,
                      const cdc_binlog_item_t **itemp) {
        cdc_err_t err;
        *itemp = NULL;
        if (buf) {
                err = cdc_stream_event(st, buf, len, itemp);
                if (err || *itemp)
                        return err;
        }
        return cdc_stream_next(st, itemp);
}

static uint32_t hdr_next_pos(const sev_t *e) {
        return (uint32_t)e->b[13] | (uint32_t)e->b[14] << 8 |
               (uint32_t)e->b[15] << 16 | (uint32_t)e->b[16] << 24;
}

/* One line per item: "ROW c follow 0 0-1-23 id=1", "COMMIT <next>" ... */
static void item_line(const cdc_binlog_item_t *it, char *buf, size_t size) {
        char pos[CDC_POS_GTID_MAX + 300];
        int n = 0;
        switch (it->type) {
        case CDC_BINLOG_ROW: {
                json_t *b = NULL, *a = NULL, *img;
                assert_int_equal(cdc_binlog_item_json(it, &b, &a), 0);
                img = a ? a : b;
                assert_non_null(img);
                n = snprintf(buf, size, "ROW %c %s %u %s %s:%llu id=%lld%s%s",
                             (char)it->op, it->table, it->source.row,
                             it->source.gtid, it->source.file,
                             (unsigned long long)it->source.pos,
                             (long long)json_integer_value(
                                     json_object_get(img, "id")),
                             json_object_get(img, "note") ? " note=" : "",
                             json_object_get(img, "note")
                                     ? json_string_value(
                                               json_object_get(img, "note"))
                                     : "");
                json_decref(b);
                json_decref(a);
                break;
        }
        case CDC_BINLOG_COMMIT:
                cdc_pos_format(&it->next, pos, sizeof(pos));
                n = snprintf(buf, size, "COMMIT %s", pos);
                break;
        case CDC_BINLOG_DDL:
                n = snprintf(buf, size, "DDL %s %.20s", it->table,
                             it->statement);
                break;
        case CDC_BINLOG_HEARTBEAT:
                n = snprintf(buf, size, "HEARTBEAT");
                break;
        }
        assert_true(n > 0 && (size_t)n < size); /* never truncated */
}

/* line i starts with text t */
#define PFX(i, t) assert_true(!strncmp(lines[i], t, strlen(t)))

static void test_stream_items(void **s) {
        sev_t evs[64];
        cdc_pos_t start;
        cdc_srcmeta_t *sm = meta_refused();
        cdc_stream_t *st  = stream_handle(sm);
        char lines[64][400];
        int n, i, nl = 0, k;
        uint32_t commit_pos[64];
        (void)s;
        n = stream_load(evs, 64, &start);
        assert_true(n > 30);
        assert_int_equal(cdc_stream_reset(st, &start, 0, 0), 0);
        for (i = 0; i < n; i++) {
                const cdc_binlog_item_t *it;
                const uint8_t *b = evs[i].b;
                size_t l         = evs[i].len;
                for (;;) {
                        cdc_err_t err = feed(st, b, l, &it);
                        if (err)
                                fail_msg("event %d: %s", i,
                                         cdc_stream_errstr(st));
                        b = NULL;
                        if (!it)
                                break;
                        assert_true(nl < 64);
                        item_line(it, lines[nl], sizeof(lines[nl]));
                        commit_pos[nl] = hdr_next_pos(&evs[i]);
                        if (it->type == CDC_BINLOG_ROW)
                                assert_true(it->source.ts_ms >
                                                    1700000000000LL &&
                                            it->source.server_id == 1 &&
                                            it->source.seq > 22);
                        nl++;
                }
        }
        if (getenv("CDC_TEST_VERBOSE"))
                for (k = 0; k < nl; k++)
                        print_message("%s\n", lines[k]);
        {
                /* positions: each COMMIT's next is the end of the event
                 * that closed the transaction */
                for (k = 0; k < nl; k++)
                        if (!strncmp(lines[k], "COMMIT", 6)) {
                                char want[64];
                                snprintf(want, sizeof(want), ";pos=%u",
                                         commit_pos[k]);
                                assert_non_null(strstr(lines[k], want));
                        }
        }
        assert_int_equal(nl, 16);
        PFX(0, "ROW c follow 0 0-1-23 mysql-bin.000001:");
        assert_non_null(strstr(lines[0], " id=1"));
        PFX(1, "ROW c follow 1 0-1-23 ");
        PFX(2, "ROW c idempotent_log 2 0-1-23 ");
        PFX(3, "COMMIT gtid=0-1-23;file=mysql-bin.000001;");
        PFX(4, "ROW u follow 0 0-1-24 ");
        PFX(5, "COMMIT gtid=0-1-24;");
        assert_string_equal(lines[6], "DDL follow ALTER TABLE follow A");
        PFX(7, "COMMIT gtid=0-1-25;");
        PFX(8, "ROW c follow 0 0-1-26 ");
        assert_non_null(strstr(lines[8], "id=4 note=x"));
        PFX(9, "COMMIT gtid=0-1-26;");
        PFX(10, "COMMIT gtid=0-1-27;");
        PFX(11, "ROW d follow 0 0-1-28 mysql-bin.000002:");
        PFX(12, "COMMIT gtid=0-1-28;file=mysql-bin.000002;");
        PFX(13, "ROW c follow 0 0-1-29 ");
        assert_non_null(strstr(lines[13], "id=5 note=xa"));
        PFX(14, "COMMIT gtid=0-1-29;");
        /* XA COMMIT: its own group, no rows */
        assert_string_equal(
                lines[15], "COMMIT gtid=0-1-30;file=mysql-bin.000002;pos=1342");
        /* transaction start positions */
        assert_non_null(strstr(lines[0], "mysql-bin.000001:10521 "));
        assert_non_null(strstr(lines[11], "mysql-bin.000002:342 "));
        for (i = 0; i < n; i++)
                free(evs[i].b);
        cdc_stream_destroy(st);
        cdc_srcmeta_destroy(sm);
}

/* Two GTID domains: the stream's transactions are in domain 0, the start
 * position also holds domain 7 at 1000 (a domain used before a
 * gtid_domain_id change, or by another upstream master). A row's ordering
 * sequence is the sum over the domains, so it stays above everything
 * domain 7 numbered; the committed position keeps both domains. */
static void test_stream_two_domains(void **s) {
        sev_t evs[64];
        cdc_pos_t start;
        cdc_srcmeta_t *sm = meta_refused();
        cdc_stream_t *st  = stream_handle(sm);
        char pos[CDC_POS_GTID_MAX + 300];
        int n, i, rows = 0, commits = 0;
        (void)s;
        n = stream_load(evs, 64, &start);
        snprintf(start.gtid, sizeof(start.gtid), "0-1-22,7-3-1000");
        assert_int_equal(cdc_stream_reset(st, &start, 0, 0), 0);
        for (i = 0; i < n; i++) {
                const cdc_binlog_item_t *it;
                const uint8_t *b = evs[i].b;
                size_t l         = evs[i].len;
                for (;;) {
                        if (feed(st, b, l, &it))
                                fail_msg("event %d: %s", i,
                                         cdc_stream_errstr(st));
                        b = NULL;
                        if (!it)
                                break;
                        if (it->type == CDC_BINLOG_ROW) {
                                unsigned long long g = 0;
                                const char *dash =
                                        strrchr(it->source.gtid, '-');
                                assert_non_null(dash);
                                g = strtoull(dash + 1, NULL, 10);
                                assert_true(g >= 23 && g <= 30);
                                assert_true(it->source.seq == 1000 + g);
                                rows++;
                        } else if (it->type == CDC_BINLOG_COMMIT) {
                                cdc_pos_format(&it->next, pos, sizeof(pos));
                                assert_non_null(strstr(pos, ",7-3-1000;"));
                                commits++;
                        }
                }
        }
        assert_int_equal(rows, 7);
        assert_true(commits >= 8);
        for (i = 0; i < n; i++)
                free(evs[i].b);
        cdc_stream_destroy(st);
        cdc_srcmeta_destroy(sm);
}

static void crc_fix(uint8_t *b, size_t len) {
        uint32_t c;
        if (len < 23)
                return;
        c          = (uint32_t)crc32(0L, b, (uInt)(len - 4));
        b[len - 4] = (uint8_t)c;
        b[len - 3] = (uint8_t)(c >> 8);
        b[len - 2] = (uint8_t)(c >> 16);
        b[len - 1] = (uint8_t)(c >> 24);
}

static uint32_t srnd_state = 777;
static uint32_t srnd(void) {
        srnd_state = srnd_state * 1103515245u + 12345u;
        return srnd_state >> 8;
}

/* Feeds events [0, k) then \p mut; nothing may crash or read out of
 * bounds whatever the mutation (ASan/UBSan in CI). */
static void feed_mutant(cdc_srcmeta_t *sm, sev_t *evs, int k,
                        const cdc_pos_t *start, const uint8_t *mut,
                        size_t mlen) {
        cdc_stream_t *st = stream_handle(sm);
        const cdc_binlog_item_t *it;
        int i, guard;
        assert_int_equal(cdc_stream_reset(st, start, 0, 0), 0);
        for (i = 0; i < k; i++) {
                assert_int_equal(feed(st, evs[i].b, evs[i].len, &it), 0);
                while (it)
                        assert_int_equal(feed(st, NULL, 0, &it), 0);
        }
        if (feed(st, mut, mlen, &it) == CDC_ERR_NO_ERROR)
                for (guard = 0; it && guard < 1000; guard++)
                        if (feed(st, NULL, 0, &it))
                                break;
        cdc_stream_destroy(st);
}

static void test_stream_malformed(void **s) {
        sev_t evs[64];
        cdc_pos_t start;
        cdc_srcmeta_t *sm = meta_refused();
        int n, k, j;
        (void)s;
        n = stream_load(evs, 64, &start);
        for (k = 0; k < n; k++) {
                size_t len = evs[k].len, l;
                /* truncated (with a CRC that matches the short event, so
                 * the event parsers see it), then random changes */
                for (l = 0; l < len; l++) {
                        uint8_t *m = malloc(l ? l : 1);
                        memcpy(m, evs[k].b, l);
                        if (l >= 23) {
                                m[9]  = (uint8_t)l; /* header length */
                                m[10] = (uint8_t)(l >> 8);
                                m[11] = 0;
                                m[12] = 0;
                                crc_fix(m, l);
                        }
                        feed_mutant(sm, evs, k, &start, m, l);
                        free(m);
                }
                for (j = 0; j < 60; j++) {
                        uint8_t *m = malloc(len);
                        int f, flips = 1 + (int)(srnd() % 3);
                        memcpy(m, evs[k].b, len);
                        for (f = 0; f < flips; f++) {
                                size_t at = 19 + srnd() % (len - 23);
                                m[at]     = (uint8_t)srnd();
                        }
                        crc_fix(m, len);
                        feed_mutant(sm, evs, k, &start, m, len);
                        free(m);
                }
        }
        for (k = 0; k < n; k++)
                free(evs[k].b);
        cdc_srcmeta_destroy(sm);
}

/* Issue 8 #6: a FORMAT_DESCRIPTION giving rows events a post-header
 * length of 7 made the rows decoder read one byte past a 7-byte body.
 * The stream refuses such an FDE: every later field would be misplaced. */
static void test_fde_post_header_len(void **s) {
        sev_t evs[64];
        cdc_pos_t start;
        cdc_srcmeta_t *sm = meta_refused();
        const cdc_binlog_item_t *it;
        static const uint8_t types[] = { 2, 19, 23, 24, 25, 30, 31, 32 };
        int n, k;
        size_t j;
        (void)s;
        n = stream_load(evs, 64, &start);
        assert_true(n > 2);
        assert_int_equal(evs[1].b[4], 15); /* FORMAT_DESCRIPTION */
        for (j = 0; j < sizeof(types); j++) {
                /* one length servers never write, per event type */
                static const uint8_t bad[] = { 7, 7, 7, 7, 7, 8, 9, 11 };
                cdc_stream_t *st           = stream_handle(sm);
                uint8_t *fde               = malloc(evs[1].len);
                size_t at                  = 19 + 57 + (size_t)(types[j] - 1);
                memcpy(fde, evs[1].b, evs[1].len);
                fde[at] = types[j] == CDC_EV_QUERY ? 12 : bad[j];
                crc_fix(fde, evs[1].len);
                assert_int_equal(cdc_stream_reset(st, &start, 0, 0), 0);
                assert_int_equal(feed(st, evs[0].b, evs[0].len, &it), 0);
                assert_int_equal(feed(st, fde, evs[1].len, &it),
                                 CDC_ERR__BAD_EVENT);
                cdc_stream_destroy(st);
                free(fde);
        }
        for (k = 0; k < n; k++)
                free(evs[k].b);
        cdc_srcmeta_destroy(sm);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_stream_items),
                cmocka_unit_test(test_stream_two_domains),
                cmocka_unit_test(test_stream_malformed),
                cmocka_unit_test(test_fde_post_header_len),
        };
        cdc_log_set_level(LOG_WARNING); /* no NOTICE per fed DDL */
        return cmocka_run_group_tests(tests, NULL, NULL);
}
