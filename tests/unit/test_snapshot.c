/*
 * Unit tests of the snapshot's value mapping (text protocol -> JSON, the
 * binlog decoder's mapping of schemas/events/README.md "Row values") and
 * of the ordering sequence of a snapshot position.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cdc_snapshot.h"

static char *val(enum enum_field_types type, unsigned flags, unsigned charsetnr,
                 unsigned decimals, const char *text, size_t len,
                 const cdc_tz_t *tz) {
        MYSQL_FIELD f;
        json_t *j;
        char *s;
        memset(&f, 0, sizeof(f));
        f.type      = type;
        f.flags     = flags;
        f.charsetnr = charsetnr;
        f.decimals  = decimals;
        j           = cdc_snapshot_value(&f, text, text ? len : 0, tz);
        assert_non_null(j);
        s = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);
        json_decref(j);
        return s;
}

#define CHECK(want, ...)                                                       \
        do {                                                                   \
                char *got_ = val(__VA_ARGS__);                                 \
                assert_string_equal(got_, want);                               \
                free(got_);                                                    \
        } while (0)

static void test_numbers(void **state) {
        (void)state;
        CHECK("42", MYSQL_TYPE_LONGLONG, UNSIGNED_FLAG, 8, 0, "42", 2, NULL);
        CHECK("-7", MYSQL_TYPE_TINY, 0, 8, 0, "-7", 2, NULL);
        CHECK("9223372036854775807", MYSQL_TYPE_LONGLONG, 0, 8, 0,
              "9223372036854775807", 19, NULL);
        /* BIGINT UNSIGNED above 2^63-1: decimal string */
        CHECK("\"18446744073709551615\"", MYSQL_TYPE_LONGLONG, UNSIGNED_FLAG, 8,
              0, "18446744073709551615", 20, NULL);
        CHECK("2024", MYSQL_TYPE_YEAR, UNSIGNED_FLAG, 8, 0, "2024", 4, NULL);
        CHECK("\"12.50\"", MYSQL_TYPE_NEWDECIMAL, 0, 8, 2, "12.50", 5, NULL);
        CHECK("1.5", MYSQL_TYPE_DOUBLE, 0, 8, 31, "1.5", 3, NULL);
        /* the decoder's float rule: shortest text, then a double */
        CHECK("0.10000000000000001", MYSQL_TYPE_FLOAT, 0, 8, 31, "0.1", 3,
              NULL);
        /* BIT(n): big-endian bytes */
        CHECK("258", MYSQL_TYPE_BIT, UNSIGNED_FLAG, 63, 0, "\x01\x02", 2, NULL);
        CHECK("null", MYSQL_TYPE_LONG, 0, 8, 0, NULL, 0, NULL);
}

static void test_text(void **state) {
        (void)state;
        CHECK("\"req-1\"", MYSQL_TYPE_VAR_STRING, 0, 45, 0, "req-1", 5, NULL);
        CHECK("\"\xc3\xbc\"", MYSQL_TYPE_STRING, 0, 45, 0, "\xc3\xbc", 2, NULL);
        /* binary charset: base64 */
        CHECK("\"AAEC\"", MYSQL_TYPE_VAR_STRING, BINARY_FLAG, 63, 0,
              "\x00\x01\x02", 3, NULL);
        CHECK("\"YQ==\"", MYSQL_TYPE_BLOB, BINARY_FLAG, 63, 0, "a", 1, NULL);
        /* ENUM / SET labels stay text */
        CHECK("\"a,b\"", MYSQL_TYPE_STRING, SET_FLAG, 45, 0, "a,b", 3, NULL);
        /* invalid UTF-8: U+FFFD per bad byte */
        CHECK("\"a\xef\xbf\xbd\"", MYSQL_TYPE_VAR_STRING, 0, 45, 0, "a\xff", 2,
              NULL);
}

static void test_time(void **state) {
        char why[256];
        cdc_tz_t *utc = cdc_tz_new("UTC", why, sizeof(why));
        cdc_tz_t *p8  = cdc_tz_new("+08:00", why, sizeof(why));
        (void)state;
        assert_non_null(utc);
        assert_non_null(p8);
        CHECK("\"2026-11-20T10:00:00.123000Z\"", MYSQL_TYPE_DATETIME, 0, 63, 3,
              "2026-11-20 10:00:00.123", 23, utc);
        /* DATETIME is read in source.tz */
        CHECK("\"2026-11-20T02:00:00.000000Z\"", MYSQL_TYPE_DATETIME, 0, 63, 0,
              "2026-11-20 10:00:00", 19, p8);
        /* TIMESTAMP text is UTC (session time_zone +00:00) */
        CHECK("\"2026-11-20T10:00:00.000000Z\"", MYSQL_TYPE_TIMESTAMP, 0, 63, 0,
              "2026-11-20 10:00:00", 19, p8);
        /* zero dates: null */
        CHECK("null", MYSQL_TYPE_DATETIME, 0, 63, 0, "0000-00-00 00:00:00", 19,
              utc);
        CHECK("\"2026-11-20\"", MYSQL_TYPE_DATE, 0, 63, 0, "2026-11-20", 10,
              utc);
        CHECK("\"-838:59:59.000000\"", MYSQL_TYPE_TIME, 0, 63, 6,
              "-838:59:59.000000", 17, utc);
        CHECK("\"01:02:03.500000\"", MYSQL_TYPE_TIME, 0, 63, 1, "01:02:03.5",
              10, utc);
        CHECK("\"01:02:03\"", MYSQL_TYPE_TIME, 0, 63, 0, "01:02:03", 8, utc);
        cdc_tz_destroy(utc);
        cdc_tz_destroy(p8);
}

static void test_pos_seq(void **state) {
        cdc_pos_t p;
        char gtid[128];
        uint32_t sid = 0;
        (void)state;

        memset(&p, 0, sizeof(p));
        snprintf(p.gtid, sizeof(p.gtid), "0-1-42");
        assert_int_equal(cdc_snapshot_pos_seq(&p, &sid, gtid, sizeof(gtid)),
                         42);
        assert_int_equal(sid, 1);
        assert_string_equal(gtid, "0-1-42");
        /* several domains: their numbers are not comparable; the sum
         * grows with every transaction of any domain */
        snprintf(p.gtid, sizeof(p.gtid), "0-1-42,1-7-99,2-3-5");
        assert_int_equal(cdc_snapshot_pos_seq(&p, &sid, gtid, sizeof(gtid)),
                         42 + 99 + 5);
        assert_int_equal(sid, 7);
        assert_string_equal(gtid, "1-7-99");
        snprintf(p.gtid, sizeof(p.gtid), "0-1-18446744073709551610,1-1-9");
        assert_true(cdc_snapshot_pos_seq(&p, NULL, NULL, 0) == UINT64_MAX);
        /* no GTID: (file number << 40) | pos */
        memset(&p, 0, sizeof(p));
        snprintf(p.file, sizeof(p.file), "mysql-bin.000003");
        p.pos = 1234;
        assert_int_equal(cdc_snapshot_pos_seq(&p, NULL, gtid, sizeof(gtid)),
                         (3ULL << 40) | 1234);
        assert_string_equal(gtid, "");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_numbers),
                cmocka_unit_test(test_text),
                cmocka_unit_test(test_time),
                cmocka_unit_test(test_pos_seq),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
