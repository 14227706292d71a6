/* The JSON of column values (cdc_value): packed DECIMAL, the constructors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "cdc_value.h"

static void test_decimal(void **s) {
        char out[80];
        /* DECIMAL(5,2) 123.45: intg 3 digits (2 bytes), frac 2 (1 byte);
         * sign bit set for positive */
        const uint8_t pos[] = { 0x80, 0x7b, 0x2d };
        const uint8_t neg[] = { 0x7f, 0x84, 0xd2 };
        (void)s;
        assert_int_equal(cdc_value_decimal(pos, 3, 5, 2, out, sizeof(out)), 3);
        assert_string_equal(out, "123.45");
        assert_int_equal(cdc_value_decimal(neg, 3, 5, 2, out, sizeof(out)), 3);
        assert_string_equal(out, "-123.45");
        assert_int_equal(cdc_value_decimal(pos, 2, 5, 2, out, sizeof(out)), -1);
        assert_int_equal(cdc_value_decimal(pos, 3, 0, 0, out, sizeof(out)), -1);
        assert_int_equal(cdc_value_decimal(pos, 3, 66, 2, out, sizeof(out)),
                         -1);
        assert_int_equal(cdc_value_decimal(pos, 3, 5, 6, out, sizeof(out)), -1);
}

static void check(json_t *v, const char *want) {
        char *got;
        assert_non_null(v);
        got = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        assert_string_equal(got, want);
        free(got);
        json_decref(v);
}

/* The constructors both paths share (schemas/events/README.md). */
static void test_constructors(void **s) {
        cdc_col_t c;
        (void)s;
        memset(&c, 0, sizeof(c));
        /* base64 with and without padding */
        check(cdc_value_base64((const uint8_t *)"ab", 2), "\"YWI=\"");
        check(cdc_value_base64((const uint8_t *)"abc", 3), "\"YWJj\"");
        check(cdc_value_base64((const uint8_t *)"", 0), "\"\"");
        /* text: UTF-8 as is, latin1 converted, else U+FFFD per bad byte */
        check(cdc_value_text(&c, (const uint8_t *)"h\xc3\xa9", 3),
              "\"h\xc3\xa9\"");
        check(cdc_value_text(&c, (const uint8_t *)"a\xff\xc3", 3),
              "\"a\xef\xbf\xbd\xef\xbf\xbd\"");
        c.is_latin1 = 1;
        check(cdc_value_text(&c, (const uint8_t *)"caf\xe9", 4),
              "\"caf\xc3\xa9\"");
        c.is_latin1 = 0;
        c.is_binary = 1;
        check(cdc_value_text(&c, (const uint8_t *)"\xff", 1), "\"/w==\"");
        /* integers above INT64_MAX are decimal strings */
        check(cdc_value_u64(9223372036854775807ULL), "9223372036854775807");
        check(cdc_value_u64(9223372036854775808ULL), "\"9223372036854775808\"");
        /* FLOAT: the shortest text that reads back as the float */
        check(cdc_value_float(16777216.0f), "16777216.0");
        check(cdc_value_float(123456.789f), "123456.78999999999");
        /* TIME: two digits of hours at least, the fraction when fsp > 0 */
        check(cdc_value_time(1, 838, 59, 59, 0, 0), "\"-838:59:59\"");
        check(cdc_value_time(0, 1, 2, 3, 500000, 1), "\"01:02:03.500000\"");
        assert_null(cdc_value_time(0, 10000, 0, 0, 0, 0));
        /* DATE: digits while month and day are set */
        check(cdc_value_date(0, 1, 1), "\"0000-01-01\"");
        check(cdc_value_date(2024, 2, 30), "\"2024-02-30\"");
        check(cdc_value_date(2024, 0, 1), "null");
        check(cdc_value_date(2024, 1, 0), "null");
        check(cdc_value_date(10000, 1, 1), "null");
        /* DATETIME: an instant when the date exists */
        check(cdc_value_datetime(9999, 12, 31, 23, 59, 59, 999999, NULL),
              "\"9999-12-31T23:59:59.999999Z\"");
        check(cdc_value_datetime(2023, 2, 29, 0, 0, 0, 0, NULL), "null");
        check(cdc_value_datetime(2024, 1, 1, 24, 0, 0, 0, NULL), "null");
        check(cdc_value_instant(INT64_C(253402300800000000)),
              "\"+010000-01-01T00:00:00.000000Z\"");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_decimal),
                cmocka_unit_test(test_constructors),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
