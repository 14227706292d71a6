/* Unit tests of consumer/cdc_precheck: the size and column caps checked
 * before a message is parsed (issue: a 1 MB event of 100k columns held
 * 11 MB parsed). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cdc_precheck.h"

/* An envelope whose after image has \p cols columns named c0.., each
 * value \p val; before is null or the same image. */
static char *envelope(int cols, const char *val, int with_before,
                      size_t *lenp) {
        size_t cap = 256 + (size_t)cols * (strlen(val) + 24) * 2, o = 0;
        char *s = malloc(cap);
        int img, i;

        assert_non_null(s);
        o += (size_t)snprintf(s + o, cap - o,
                              "{\"schema_version\":1,\"op\":\"%c\",",
                              with_before ? 'u' : 'c');
        for (img = 0; img < 2; img++) {
                o += (size_t)snprintf(s + o, cap - o,
                                      "\"%s\":", img ? "after" : "before");
                if (!img && !with_before) {
                        o += (size_t)snprintf(s + o, cap - o, "null,");
                        continue;
                }
                s[o++] = '{';
                for (i = 0; i < cols; i++)
                        o += (size_t)snprintf(s + o, cap - o, "%s\"c%d\":%s",
                                              i ? "," : "", i, val);
                s[o++] = '}';
                s[o++] = ',';
        }
        o += (size_t)snprintf(s + o, cap - o,
                              "\"source\":{\"name\":\"x\",\"row\":0},"
                              "\"ts_ms\":1}");
        *lenp = o;
        return s;
}

static cdc_err_t check(const char *s, size_t len, size_t max_bytes,
                       int max_cols, char *why) {
        why[0] = '\0';
        return cdc_precheck_event(s, len, max_bytes, max_cols, why, 256);
}

static void test_size_cap(void **state) {
        char why[256];
        (void)state;
        assert_int_equal(check("{}", 2, 2, 16, why), CDC_ERR_NO_ERROR);
        assert_int_equal(check("{} ", 3, 2, 16, why), CDC_ERR__BAD_EVENT);
        assert_string_equal(why,
                            "value of 3 bytes exceeds event.max.bytes (2)");
}

static void test_columns_at_and_over_the_cap(void **state) {
        char why[256], *s;
        size_t len;
        (void)state;

        /* both images exactly at the cap: accepted */
        s = envelope(100, "1", 1, &len);
        assert_true(len / 4 > 100); /* long enough to be scanned */
        assert_int_equal(check(s, len, 1 << 20, 100, why), CDC_ERR_NO_ERROR);
        free(s);
        /* one column more: refused, with the count */
        s = envelope(101, "1", 0, &len);
        assert_int_equal(check(s, len, 1 << 20, 100, why), CDC_ERR__BAD_EVENT);
        assert_string_equal(
                why,
                "row image of 101 columns exceeds event.max.columns (100)");
        free(s);
        /* the case: 100k columns in ~1 MB */
        s = envelope(100000, "\"v\"", 0, &len);
        assert_int_equal(check(s, len, 4 << 20, 4096, why), CDC_ERR__BAD_EVENT);
        assert_non_null(strstr(why, "row image of 100000 columns"));
        free(s);
}

static void test_strings_do_not_count(void **state) {
        char why[256], *s;
        size_t len;
        (void)state;

        /* ':' ',' '{' and escaped quotes inside strings are not structure */
        s = envelope(10, "\"a:b,c{d}[e]\\\"f:,g\\\\\"", 1, &len);
        assert_int_equal(check(s, len, 1 << 20, 10, why), CDC_ERR_NO_ERROR);
        free(s);
}

static void test_values_cap_catches_arrays(void **state) {
        char why[256], *s;
        size_t len = 0, cap = 64 + 2 * 5000;
        int i;
        (void)state;

        /* no wide object, but 5000 values in an array */
        s = malloc(cap);
        assert_non_null(s);
        len = (size_t)snprintf(s, cap, "{\"before\":[");
        for (i = 0; i < 5000; i++)
                len += (size_t)snprintf(s + len, cap - len, "%s1",
                                        i ? "," : "");
        len += (size_t)snprintf(s + len, cap - len, "]}");
        assert_int_equal(check(s, len, 1 << 20, 100, why), CDC_ERR__BAD_EVENT);
        assert_non_null(strstr(why, "JSON values exceed"));
        free(s);
}

static void test_short_values_are_not_scanned(void **state) {
        char why[256];
        /* not JSON at all, short: caps pass, the parser decides */
        const char junk[] = "]]]]\"\\\\\\:::,,,{{{";
        (void)state;
        assert_int_equal(check(junk, sizeof(junk) - 1, 1024, 16, why),
                         CDC_ERR_NO_ERROR);
        /* an unterminated string in a long value: no overrun (ASan) */
        {
                char buf[200];
                memset(buf, ':', sizeof(buf));
                buf[0] = '"';
                assert_int_equal(check(buf, sizeof(buf), 1024, 16, why),
                                 CDC_ERR_NO_ERROR);
                buf[0] = '\\';
                buf[1] = '"';
                assert_int_equal(check(buf, sizeof(buf), 1024, 16, why),
                                 CDC_ERR_NO_ERROR);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_size_cap),
                cmocka_unit_test(test_columns_at_and_over_the_cap),
                cmocka_unit_test(test_strings_do_not_count),
                cmocka_unit_test(test_values_cap_catches_arrays),
                cmocka_unit_test(test_short_values_are_not_scanned),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
