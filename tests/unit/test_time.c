/*
 * cdc_time: the instant text against a gmtime()-based oracle, calendar
 * arithmetic, parsing, and time zones (TZif files, DST gaps/overlaps).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <time.h>
#include "cdc_time.h"

static uint32_t rnd_state = 12345;
static uint32_t rnd(void) {
        rnd_state = rnd_state * 1103515245u + 12345u;
        return rnd_state >> 8;
}

static void test_tz(void **s) {
        char errstr[256];
        cdc_tz_t *tz;
        /* 2024-03-31 02:30 does not exist in Paris (gap), 2024-10-27
         * 02:30 exists twice (overlap) */
        const int64_t gap = 1711852200, overlap = 1729996200;
        const int64_t winter = 1704067200, summer = 1719792000;
        (void)s;
        tz = cdc_tz_new("Europe/Paris", errstr, sizeof(errstr));
        assert_non_null(tz);
        assert_int_equal(cdc_tz_local_offset(tz, winter), 3600);
        assert_int_equal(cdc_tz_local_offset(tz, summer), 7200);
        assert_int_equal(cdc_tz_local_offset(tz, gap), 3600);
        assert_int_equal(cdc_tz_local_offset(tz, overlap), 7200);
        cdc_tz_destroy(tz);
        tz = cdc_tz_new("Asia/Shanghai", errstr, sizeof(errstr));
        assert_non_null(tz);
        assert_int_equal(cdc_tz_local_offset(tz, summer), 8 * 3600);
        cdc_tz_destroy(tz);
        tz = cdc_tz_new("-05:30", errstr, sizeof(errstr));
        assert_non_null(tz);
        assert_int_equal(cdc_tz_local_offset(tz, summer), -(5 * 3600 + 1800));
        cdc_tz_destroy(tz);
        tz = cdc_tz_new("UTC", errstr, sizeof(errstr));
        assert_int_equal(cdc_tz_local_offset(tz, summer), 0);
        cdc_tz_destroy(tz);
        assert_null(cdc_tz_new("../../etc/passwd", errstr, sizeof(errstr)));
        assert_null(cdc_tz_new("/etc/localtime", errstr, sizeof(errstr)));
        assert_null(cdc_tz_new("Nowhere/City", errstr, sizeof(errstr)));
        assert_null(cdc_tz_new("+25:00", errstr, sizeof(errstr)));
}

/* The oracle: the formatter cdc_time replaced (printf and gmtime_r,
 * years 0000..9999 only). */
static int oracle_format_us(char *buf, size_t size, int64_t epoch_us) {
        int64_t secs = epoch_us / 1000000;
        int64_t us   = epoch_us % 1000000;
        struct tm tm;
        time_t t;
        int r;

        if (us < 0) {
                us += 1000000;
                secs--;
        }
        t = (time_t)secs;
        if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 < 0 ||
            tm.tm_year + 1900 > 9999)
                return -1;
        r = snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec, (int)us);
        if (r < 0 || (size_t)r >= size)
                return -1;
        return r;
}

/* The instant formatter agrees with gmtime over years 0000..9999. */
static void test_format_instant(void **s) {
        char a[40], b[40];
        int64_t v;
        int i;
        const int64_t fixed[] = { 0,
                                  -1,
                                  1,
                                  999999,
                                  -1000000,
                                  253402300799999999LL,
                                  -62167219200000000LL,
                                  951782400000000LL,
                                  4107542400000000LL };
        (void)s;
        for (i = 0; i < (int)(sizeof(fixed) / sizeof(fixed[0])); i++) {
                assert_int_equal(cdc_time_format_us(a, sizeof(a), fixed[i]),
                                 27);
                assert_int_equal(oracle_format_us(b, sizeof(b), fixed[i]), 27);
                assert_string_equal(a, b);
        }
        for (i = 0; i < 200000; i++) {
                v = (int64_t)((((uint64_t)rnd() << 40) ^
                               ((uint64_t)rnd() << 16) ^ rnd()) %
                              253402300800000000ULL);
                if (i & 1)
                        v = -(v % 62167219200000000LL);
                assert_int_equal(cdc_time_format_us(a, sizeof(a), v), 27);
                assert_int_equal(oracle_format_us(b, sizeof(b), v), 27);
                if (strcmp(a, b))
                        fail_msg("%lld: %s != %s", (long long)v, a, b);
        }
        assert_int_equal(cdc_time_format_us(a, 27, 0), -1);
        assert_int_equal(cdc_time_format_us(a, 28, 0), 27);
}

/* The formatter keeps the last day's date: instants that stay on one day,
 * step over midnight back and forth, or jump between an expanded year
 * and a four-digit one all read as gmtime says (or as the expanded form
 * the fixed cases give). */
static void test_format_instant_day_cache(void **s) {
        char a[40], b[40];
        int64_t day = INT64_C(86400000000), base = INT64_C(1795000000000000);
        int64_t mid = (base / day + 1) * day; /* a midnight */
        int i;
        (void)s;
        for (i = 0; i < 4000; i++) {
                /* around the midnight, alternating sides: cached day,
                 * next day, cached again */
                int64_t v = mid + (i % 2 ? 1 : -1) * (int64_t)(i * 7919 % 5000);
                if (i % 7 == 0)
                        v = base + (int64_t)i * 1000003; /* the day before */
                assert_int_equal(cdc_time_format_us(a, sizeof(a), v), 27);
                assert_int_equal(oracle_format_us(b, sizeof(b), v), 27);
                if (strcmp(a, b))
                        fail_msg("%lld: %s != %s", (long long)v, a, b);
                if (i % 500 == 0) {
                        /* an expanded year in between, then back */
                        assert_int_equal(
                                cdc_time_format_us(a, sizeof(a),
                                                   INT64_C(253402300800000000)),
                                30);
                        assert_string_equal(a,
                                            "+010000-01-01T00:00:00.000000Z");
                        assert_int_equal(
                                cdc_time_format_us(a, sizeof(a),
                                                   INT64_C(-62167219200000001)),
                                30);
                        assert_string_equal(a,
                                            "-000001-12-31T23:59:59.999999Z");
                        /* too small a buffer: refused, on a cached day too */
                        assert_int_equal(
                                cdc_time_format_us(a, 30,
                                                   INT64_C(-62167219200000001)),
                                -1);
                }
        }
}

/* The shared date arithmetic reads back through the instant formatter. */
static void test_days_from_civil(void **s) {
        static const struct {
                int y, m, d;
                int64_t days;
                const char *text;
        } v[] = {
                { 1970, 1, 1, 0, "1970-01-01" },
                { 1969, 12, 31, -1, "1969-12-31" },
                { 2000, 2, 29, 11016, "2000-02-29" },
                { 2000, 3, 1, 11017, "2000-03-01" },
                { 1, 1, 1, -719162, "0001-01-01" },
                { 9999, 12, 31, 2932896, "9999-12-31" },
        };
        char buf[40];
        int i;
        (void)s;
        for (i = 0; i < (int)(sizeof(v) / sizeof(v[0])); i++) {
                int64_t d = cdc_time_days_from_civil(v[i].y, v[i].m, v[i].d);
                assert_int_equal(d, v[i].days);
                assert_int_equal(cdc_time_format_us(buf, sizeof(buf),
                                                    d * 86400 * 1000000LL),
                                 27);
                assert_memory_equal(buf, v[i].text, 10);
        }
}

/* Outside years 0000..9999 the text is the ISO 8601 expanded year (sign,
 * six digits) and it reads back: a DATETIME of 9999-12-31 in a zone west
 * of UTC is year 10000 in UTC (issue 8 #2). */
static void test_expanded_year(void **s) {
        char buf[40];
        int64_t ms, v;
        int i;
        (void)s;
        assert_int_equal(cdc_time_format_us(buf, sizeof(buf),
                                            INT64_C(253402300800000000)),
                         30);
        assert_string_equal(buf, "+010000-01-01T00:00:00.000000Z");
        assert_int_equal(cdc_time_format_us(buf, sizeof(buf),
                                            INT64_C(253402318800000000)),
                         30);
        assert_string_equal(buf, "+010000-01-01T05:00:00.000000Z");
        assert_int_equal(cdc_time_format_us(buf, sizeof(buf),
                                            INT64_C(-62167219200000001)),
                         30);
        assert_string_equal(buf, "-000001-12-31T23:59:59.999999Z");
        /* the last instant of year 9999 and the first of year 0000 keep
         * four digits */
        assert_int_equal(cdc_time_format_us(buf, sizeof(buf),
                                            INT64_C(253402300799999999)),
                         27);
        assert_int_equal(cdc_time_format_us(buf, sizeof(buf),
                                            INT64_C(-62167219200000000)),
                         27);
        assert_string_equal(buf, "0000-01-01T00:00:00.000000Z");
        /* the extremes of int64 microseconds: +-292277 years */
        assert_int_equal(cdc_time_format_us(buf, sizeof(buf), INT64_MAX), 30);
        assert_string_equal(buf, "+294247-01-10T04:00:54.775807Z");
        assert_int_equal(cdc_time_format_us(buf, sizeof(buf), INT64_MIN), 30);
        assert_string_equal(buf, "-290308-12-21T19:59:05.224192Z");
        /* a buffer for 27 characters does not take 30 */
        assert_int_equal(
                cdc_time_format_us(buf, 30, INT64_C(253402300800000000)), -1);
        assert_int_equal(
                cdc_time_format_us(buf, 31, INT64_C(253402300800000000)), 30);
        /* parse */
        assert_int_equal(
                cdc_time_parse_ms("+010000-01-01T05:00:00.000000Z", &ms), 0);
        assert_true(ms == INT64_C(253402318800000));
        assert_int_equal(cdc_time_parse_ms("-000001-12-31T23:59:59.999Z", &ms),
                         0);
        assert_true(ms == INT64_C(-62167219200001));
        assert_int_equal(cdc_time_parse_ms("+002024-02-29T00:00:00Z", &ms), 0);
        assert_int_equal(cdc_time_parse_ms("-000000-01-01T00:00:00Z", &ms), -1);
        assert_int_equal(cdc_time_parse_ms("+10000-01-01T00:00:00Z", &ms), -1);
        assert_int_equal(cdc_time_parse_ms("10000-01-01T00:00:00Z", &ms), -1);
        /* round trip over +-200000 years */
        for (i = 0; i < 100000; i++) {
                int64_t want;
                v = (int64_t)((((uint64_t)rnd() << 40) ^
                               ((uint64_t)rnd() << 16) ^ rnd()) %
                              INT64_C(6311390400000000000));
                if (i & 1)
                        v = -v;
                assert_true(cdc_time_format_us(buf, sizeof(buf), v) > 0);
                if (cdc_time_parse_ms(buf, &ms))
                        fail_msg("%lld: %s does not parse", (long long)v, buf);
                want = v / 1000 - (v % 1000 < 0);
                if (ms != want)
                        fail_msg("%lld: %s reads back as %lld ms", (long long)v,
                                 buf, (long long)ms);
        }
}

/* Calendar: leap years (year 0 is one), days per month. */
static void test_date_exists(void **s) {
        (void)s;
        assert_true(cdc_time_date_exists(2024, 2, 29));
        assert_false(cdc_time_date_exists(2023, 2, 29));
        assert_true(cdc_time_date_exists(2000, 2, 29));
        assert_false(cdc_time_date_exists(1900, 2, 29));
        assert_true(cdc_time_date_exists(0, 2, 29));
        assert_false(cdc_time_date_exists(2024, 4, 31));
        assert_false(cdc_time_date_exists(2024, 0, 1));
        assert_false(cdc_time_date_exists(2024, 1, 0));
        assert_false(cdc_time_date_exists(2024, 13, 1));
        assert_true(cdc_time_date_exists(9999, 12, 31));
}

/* Past the last transition of a TZif file (2037 in Debian's) the zone's
 * POSIX TZ rule holds: DST still starts and ends every year. A July
 * DATETIME of 2050 in Paris is CEST (+2), not the CET of the last
 * transition; southern zones have DST over the new year. */
static void test_tz_rule_after_2037(void **s) {
        static const struct {
                const char *zone;
                int y, m, d, h;
                int32_t off;
        } v[] = {
                { "Europe/Paris", 2050, 7, 1, 12, 7200 },
                { "Europe/Paris", 2050, 1, 1, 12, 3600 },
                { "America/New_York", 2099, 7, 1, 12, -4 * 3600 },
                { "America/New_York", 9999, 12, 31, 23, -5 * 3600 },
                { "America/New_York", 9999, 7, 1, 12, -4 * 3600 },
                { "Australia/Sydney", 2060, 1, 15, 12, 11 * 3600 },
                { "Australia/Sydney", 2060, 7, 15, 12, 10 * 3600 },
                { "Australia/Lord_Howe", 2060, 1, 15, 12, 11 * 3600 },
                { "Australia/Lord_Howe", 2060, 7, 15, 12, 10 * 3600 + 1800 },
                { "Asia/Kolkata", 2060, 7, 15, 12, 5 * 3600 + 1800 },
                /* 2:30 on the last Sunday of March 2050 does not exist in
                 * Paris: the offset before the change */
                { "Europe/Paris", 2050, 3, 27, 2, 3600 },
        };
        char errstr[256];
        size_t i;
        (void)s;
        for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
                cdc_tz_t *tz = cdc_tz_new(v[i].zone, errstr, sizeof(errstr));
                int64_t local;
                int32_t off;
                assert_non_null(tz);
                local = cdc_time_days_from_civil(v[i].y, v[i].m, v[i].d) *
                                86400 +
                        v[i].h * 3600 + (v[i].h == 2 ? 1800 : 0);
                off = cdc_tz_local_offset(tz, local);
                if (off != v[i].off)
                        fail_msg("%s %04d-%02d-%02d %02d: offset %d, want %d",
                                 v[i].zone, v[i].y, v[i].m, v[i].d, v[i].h,
                                 (int)off, (int)v[i].off);
                cdc_tz_destroy(tz);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_tz),
                cmocka_unit_test(test_format_instant),
                cmocka_unit_test(test_format_instant_day_cache),
                cmocka_unit_test(test_days_from_civil),
                cmocka_unit_test(test_expanded_year),
                cmocka_unit_test(test_date_exists),
                cmocka_unit_test(test_tz_rule_after_2037),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
