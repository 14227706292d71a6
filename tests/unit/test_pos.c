/* cdc_pos: the checkpointed text form of a binlog position; GTID sets. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "cdc_pos.h"

static void test_roundtrip(void **s) {
        cdc_pos_t p, q;
        char buf[CDC_POS_GTID_MAX + 300];
        const char *t = "gtid=0-1-42,7-3-18446744073709551615;"
                        "file=mysql-bin.000123;pos=18446744073709551615";
        (void)s;
        memset(&p, 0, sizeof(p));
        strcpy(p.gtid, "0-1-42,7-3-18446744073709551615");
        strcpy(p.file, "mysql-bin.000123");
        p.pos = UINT64_MAX;
        assert_int_equal(cdc_pos_format(&p, buf, sizeof(buf)), strlen(t));
        assert_string_equal(buf, t);
        assert_int_equal(cdc_pos_parse(buf, strlen(buf), &q), 0);
        assert_string_equal(q.gtid, p.gtid);
        assert_string_equal(q.file, p.file);
        assert_true(q.pos == UINT64_MAX);
        assert_int_equal(cdc_pos_is_empty(&q), 0);
        /* too small a buffer */
        assert_int_equal(cdc_pos_format(&p, buf, 10), -1);
}

static void test_partial(void **s) {
        cdc_pos_t q;
        (void)s;
        assert_int_equal(cdc_pos_parse("gtid=;file=b.000001;pos=4", 25, &q), 0);
        assert_string_equal(q.gtid, "");
        assert_string_equal(q.file, "b.000001");
        assert_true(q.pos == 4);
        assert_int_equal(cdc_pos_parse("gtid=0-1-5", 10, &q), 0);
        assert_string_equal(q.file, "");
        assert_int_equal(cdc_pos_parse("gtid=;file=;pos=0", 17, &q), 0);
        assert_int_equal(cdc_pos_is_empty(&q), 1);
        assert_int_equal(cdc_pos_is_empty(NULL), 1);
        /* only the first len bytes count */
        assert_int_equal(cdc_pos_parse("pos=12junk", 6, &q), 0);
        assert_true(q.pos == 12);
}

static void test_reject(void **s) {
        static const char *const bad[] = { "",
                                           "gtid",
                                           "gtid=0-1",
                                           "gtid=0-1-2-3",
                                           "gtid=a-b-c",
                                           "gtid=0--1",
                                           "gtid=0-1-2,",
                                           "gtid=,0-1-2",
                                           "gtid=0-1-2,,1-1-1",
                                           "gtid=0-1-123456789012345678901",
                                           "pos=",
                                           "pos=-1",
                                           "pos=1x",
                                           "pos=18446744073709551616",
                                           "pos=99999999999999999999",
                                           "file=a;b",
                                           "file=a b",
                                           "file=a\tb",
                                           "gtid=0-1-2;gtid=0-1-3",
                                           "pos=1;pos=2",
                                           "x=1",
                                           "gtid=0-1-2;",
                                           ";",
                                           "=",
                                           "file=a=b",
                                           "GTID=0-1-2",
                                           "pos=1;;file=a" };
        cdc_pos_t q;
        size_t i;
        char big[CDC_POS_GTID_MAX + 20];
        (void)s;
        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                if (cdc_pos_parse(bad[i], strlen(bad[i]), &q) != -1)
                        fail_msg("accepted \"%s\"", bad[i]);
        /* a GTID set longer than the field */
        strcpy(big, "gtid=");
        for (i = 5; i + 6 < sizeof(big) - 1; i += 6)
                memcpy(big + i, "1-1-1,", 6);
        memcpy(big + i, "1-1-1", 6);
        assert_int_equal(cdc_pos_parse(big, strlen(big), &q), -1);
        assert_int_equal(cdc_pos_parse(NULL, 0, &q), -1);
        /* embedded NUL */
        assert_int_equal(cdc_pos_parse("file=a\0b", 8, &q), -1);
}

/* GTID sets: parse, one entry per domain, update, text in domain order. */
static void test_gtidset(void **s) {
        static const char *const bad[] = {
                "0-1",
                "0-1-",
                "-0-1-2",
                "0-1-2,",
                ",0-1-2",
                "0-1-2,0-3-4",
                "0--1-2",
                "a-1-2",
                "0-1-+2",
                "0-1-2 ",
                "4294967296-1-2",
                "0-4294967296-2",
                "0-1-18446744073709551616",
        };
        cdc_gtidset_t gs;
        cdc_gtid_t g = { 7, 3, 99 };
        char buf[CDC_POS_GTID_MAX];
        size_t i;
        (void)s;
        assert_int_equal(cdc_pos_gtidset_parse(&gs, ""), 0);
        assert_int_equal(gs.n, 0);
        assert_int_equal(
                cdc_pos_gtidset_parse(
                        &gs, "5-2-10,0-1-18446744073709551615,4294967295-4-1"),
                0);
        assert_int_equal(gs.n, 3);
        assert_true(cdc_pos_gtidset_find(&gs, 0)->seq == UINT64_MAX);
        assert_null(cdc_pos_gtidset_find(&gs, 7));
        assert_int_equal(cdc_pos_gtidset_update(&gs, &g, 0), 0);
        g.seq = 100; /* only_new: the domain is known, kept */
        assert_int_equal(cdc_pos_gtidset_update(&gs, &g, 1), 0);
        assert_int_equal(cdc_pos_gtidset_find(&gs, 7)->seq, 99);
        assert_int_equal(cdc_pos_gtidset_format(&gs, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "0-1-18446744073709551615,5-2-10,7-3-99,"
                                 "4294967295-4-1");
        assert_int_equal(cdc_pos_gtidset_format(&gs, buf, 10), -1);
        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                if (cdc_pos_gtidset_parse(&gs, bad[i]) != -1 || gs.n != 0)
                        fail_msg("accepted \"%s\"", bad[i]);
        /* at most CDC_GTIDSET_MAX domains */
        gs.n = 0;
        for (i = 0; i < CDC_GTIDSET_MAX; i++) {
                cdc_gtid_t e = { (uint32_t)i, 1, 1 };
                assert_int_equal(cdc_pos_gtidset_update(&gs, &e, 0), 0);
        }
        g.domain = 1000;
        assert_int_equal(cdc_pos_gtidset_update(&gs, &g, 0), -1);
        assert_int_equal(cdc_pos_gtidset_format(&gs, buf, sizeof(buf)), 0);
        assert_int_equal(cdc_pos_gtidset_parse(&gs, buf), 0);
        assert_int_equal(gs.n, CDC_GTIDSET_MAX);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_roundtrip),
                cmocka_unit_test(test_partial),
                cmocka_unit_test(test_reject),
                cmocka_unit_test(test_gtidset),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
