/*
 * Text-protocol values (cdc_textval, a snapshot's SELECT) against the
 * binary row image decoder (cdc_rowdec): the same value gives the same
 * JSON on both paths, over the full legal range of the temporal types,
 * in every time zone of the system's zone1970.tab plus the extreme fixed
 * offsets; zero and invalid dates map alike on both paths.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "cdc_frame.h"
#include "cdc_rowdec.h"
#include "cdc_tablemap.h"
#include "cdc_textval.h"
#include "cdc_time.h"

/* ---- the binary path: a one-column TABLE_MAP and a WRITE_ROWS ---- */

/* Decodes one binary value of a column of \p type with type metadata
 * \p meta (mlen bytes) through cdc_tablemap + cdc_rowdec.
 * @returns the value (new reference); fails the test on a decode error. */
static json_t *bin_value(uint8_t type, const uint8_t *meta, size_t mlen,
                         const uint8_t *val, size_t vlen, const cdc_tz_t *tz) {
        uint8_t tm[64], rows[64];
        static const uint8_t
                head[]               = { 0x2a, 0,   0,   0, 0, 0,   1, 0,
                                         2,    'd', 'b', 0, 1, 't', 0, 1 /* ncols */ };
        static const uint8_t rhead[] = { 0x2a,
                                         0,
                                         0,
                                         0,
                                         0,
                                         0,
                                         1,
                                         0,
                                         1 /* ncols */,
                                         1 /* present */,
                                         0 /* no NULL */ };
        size_t tl = 0, rl = 0;
        cdc_tablemap_t *t = NULL;
        cdc_rowdec_rows_t r;
        json_t *b = NULL, *a = NULL, *v;
        char errstr[256];

        memcpy(tm, head, sizeof(head));
        tl       = sizeof(head);
        tm[tl++] = type;
        tm[tl++] = (uint8_t)mlen;
        if (mlen)
                memcpy(tm + tl, meta, mlen);
        tl += mlen;
        tm[tl++] = 1; /* nullable */
        memcpy(rows, rhead, sizeof(rhead));
        rl = sizeof(rhead);
        memcpy(rows + rl, val, vlen);
        rl += vlen;
        if (cdc_tablemap_parse(tm, tl, 8, &t, errstr, sizeof(errstr)) ||
            cdc_rowdec_rows(CDC_EV_WRITE_ROWS_V1, rows, rl, 8, &r, errstr,
                            sizeof(errstr)) ||
            cdc_rowdec_row_next(t, &r, tz, &b, &a, errstr, sizeof(errstr)))
                fail_msg("binary value: %s", errstr);
        v = json_incref(json_object_get(a, "@1"));
        assert_non_null(v);
        json_decref(a);
        cdc_tablemap_destroy(t);
        return v;
}

/* DATETIME(fsp) in the 5.6 binary format. */
static json_t *bin_datetime(unsigned y, unsigned mo, unsigned d, unsigned h,
                            unsigned mi, unsigned s, uint32_t us, unsigned fsp,
                            const cdc_tz_t *tz) {
        uint8_t v[8], meta = (uint8_t)fsp;
        uint64_t ip = ((((uint64_t)y * 13 + mo) << 5 | d) << 17) |
                      (uint64_t)h << 12 | mi << 6 | s;
        uint64_t st = ip + 0x8000000000ULL;
        size_t n    = 5, i;
        for (i = 0; i < 5; i++)
                v[i] = (uint8_t)(st >> (8 * (4 - i)));
        if (fsp == 1 || fsp == 2) {
                v[n++] = (uint8_t)(us / 10000);
        } else if (fsp == 3 || fsp == 4) {
                v[n++] = (uint8_t)(us / 100 >> 8);
                v[n++] = (uint8_t)(us / 100);
        } else if (fsp >= 5) {
                v[n++] = (uint8_t)(us >> 16);
                v[n++] = (uint8_t)(us >> 8);
                v[n++] = (uint8_t)us;
        }
        return bin_value(CDC_T_DATETIME2, &meta, 1, v, n, tz);
}

static json_t *bin_date(unsigned y, unsigned m, unsigned d) {
        uint32_t x   = y << 9 | m << 5 | d;
        uint8_t v[3] = { (uint8_t)x, (uint8_t)(x >> 8), (uint8_t)(x >> 16) };
        return bin_value(CDC_T_DATE, NULL, 0, v, 3, NULL);
}

/* ---- the text path ---- */

static json_t *txt_value(uint8_t type, unsigned fsp, const char *text,
                         const cdc_tz_t *tz) {
        cdc_col_t c;
        json_t *v;
        memset(&c, 0, sizeof(c));
        c.type = type;
        c.meta = (uint16_t)fsp;
        v      = cdc_textval_decode(&c, text, text ? strlen(text) : 0, tz);
        assert_non_null(v);
        return v;
}

/* Both paths give the same JSON for a DATETIME(fsp): \p want ("null" for
 * JSON null), or any instant when \p want is NULL. */
static void check_datetime(const char *zone, const cdc_tz_t *tz, unsigned y,
                           unsigned mo, unsigned d, unsigned h, unsigned mi,
                           unsigned s, uint32_t us, unsigned fsp,
                           const char *want) {
        static const uint32_t unit[] = { 1000000, 100000, 10000, 1000,
                                         100,     10,     1 };
        char text[64];
        json_t *a, *b;

        us -= us % unit[fsp]; /* what a DATETIME(fsp) holds */
        snprintf(text, sizeof(text), "%04u-%02u-%02u %02u:%02u:%02u", y, mo, d,
                 h, mi, s);
        if (fsp)
                snprintf(text + 19, sizeof(text) - 19, ".%0*u", (int)fsp,
                         (unsigned)(us / (fsp == 6   ? 1
                                          : fsp == 5 ? 10
                                          : fsp == 4 ? 100
                                          : fsp == 3 ? 1000
                                          : fsp == 2 ? 10000
                                                     : 100000)));
        a = bin_datetime(y, mo, d, h, mi, s, us, fsp, tz);
        b = txt_value(CDC_T_DATETIME2, fsp, text, tz);
        if (!json_equal(a, b))
                fail_msg("%s %s: binlog %s, snapshot %s", zone, text,
                         json_string_value(a) ? json_string_value(a) : "null",
                         json_string_value(b) ? json_string_value(b) : "null");
        if (!want && !json_is_string(a))
                fail_msg("%s %s: null, want an instant", zone, text);
        if (want &&
            strcmp(want, json_string_value(a) ? json_string_value(a) : "null"))
                fail_msg("%s %s: %s, want %s", zone, text,
                         json_string_value(a) ? json_string_value(a) : "null",
                         want);
        if (json_is_string(a)) { /* an instant the consumer can read */
                int64_t ms;
                if (cdc_time_parse_ms(json_string_value(a), &ms))
                        fail_msg("%s %s: %s does not parse", zone, text,
                                 json_string_value(a));
        }
        json_decref(a);
        json_decref(b);
}

/* Issue 8 #2 on the snapshot path: the text '9999-12-31 23:00:00' read
 * in New York, the expanded year like the binlog path (it was null). */
static void test_datetime_past_9999(void **s) {
        char errstr[256];
        cdc_tz_t *tz = cdc_tz_new("America/New_York", errstr, sizeof(errstr));
        json_t *v;
        (void)s;
        assert_non_null(tz);
        v = txt_value(CDC_T_DATETIME2, 0, "9999-12-31 23:00:00", tz);
        assert_string_equal(json_string_value(v),
                            "+010000-01-01T04:00:00.000000Z");
        json_decref(v);
        check_datetime("America/New_York", tz, 9999, 12, 31, 23, 0, 0, 0, 0,
                       "+010000-01-01T04:00:00.000000Z");
        cdc_tz_destroy(tz);
}

/* Years 0000 and 9999 (and the ones between) in every zone: an instant on
 * both paths, the same one, never null and never an error. */
static void test_datetime_every_zone(void **s) {
        static const char *const extra[] = { "UTC",        "+14:00",
                                             "-12:00",     "+05:45",
                                             "Etc/GMT+12", "Etc/GMT-14" };
        char line[512], errstr[256];
        FILE *f = fopen("/usr/share/zoneinfo/zone1970.tab", "r");
        size_t i, zones = 0;
        (void)s;
        assert_non_null(f);
        for (i = 0;; i++) {
                char zone[128];
                cdc_tz_t *tz;
                unsigned fsp;
                if (i < sizeof(extra) / sizeof(extra[0])) {
                        snprintf(zone, sizeof(zone), "%s", extra[i]);
                } else {
                        char *p, *q;
                        if (!fgets(line, sizeof(line), f))
                                break;
                        if (line[0] == '#')
                                continue;
                        /* code TAB coordinates TAB zone [TAB comment] */
                        p = strchr(line, '\t');
                        p = p ? strchr(p + 1, '\t') : NULL;
                        if (!p)
                                continue;
                        q = p + 1 + strcspn(p + 1, "\t\n");
                        snprintf(zone, sizeof(zone), "%.*s", (int)(q - (p + 1)),
                                 p + 1);
                }
                tz = cdc_tz_new(zone, errstr, sizeof(errstr));
                if (!tz)
                        fail_msg("%s: %s", zone, errstr);
                for (fsp = 0; fsp <= 6; fsp += 3) {
                        check_datetime(zone, tz, 0, 1, 1, 0, 0, 0, 0, fsp,
                                       NULL);
                        check_datetime(zone, tz, 0, 2, 29, 12, 0, 0, 0, fsp,
                                       NULL);
                        check_datetime(zone, tz, 1000, 1, 1, 0, 0, 0, 0, fsp,
                                       NULL);
                        check_datetime(zone, tz, 9999, 12, 31, 23, 59, 59,
                                       fsp ? 999999 : 0, fsp, NULL);
                        check_datetime(zone, tz, 2038, 1, 19, 3, 14, 8, 500000,
                                       fsp, NULL);
                        check_datetime(zone, tz, 2099, 7, 1, 12, 0, 0, 0, fsp,
                                       NULL);
                }
                cdc_tz_destroy(tz);
                zones++;
        }
        fclose(f);
        assert_true(zones > 300);
}

/* Zero dates, a zero month or day, and dates the calendar lacks (allowed
 * by ALLOW_INVALID_DATES): the same on both paths. A DATE keeps its
 * digits when its month and day are set; a DATETIME is an instant only
 * when the date exists. */
static void test_zero_and_invalid_dates(void **s) {
        static const struct {
                unsigned y, m, d;
                const char *want; /* JSON text */
        } dates[] = {
                { 0, 0, 0, "null" },
                { 2024, 0, 15, "null" },
                { 2024, 4, 0, "null" },
                { 0, 1, 1, "\"0000-01-01\"" },
                { 9999, 12, 31, "\"9999-12-31\"" },
                { 2024, 2, 30, "\"2024-02-30\"" },
                { 2023, 2, 29, "\"2023-02-29\"" },
        };
        static const struct {
                unsigned y, m, d;
                const char *want;
        } dts[] = {
                { 0, 0, 0, "null" },
                { 2024, 0, 15, "null" },
                { 2024, 4, 0, "null" },
                { 2024, 2, 30, "null" },
                { 2023, 2, 29, "null" },
                { 2024, 4, 31, "null" },
                { 2024, 2, 29, "2024-02-29T00:00:00.000000Z" },
                { 0, 2, 29, "0000-02-29T00:00:00.000000Z" },
                { 0, 1, 1, "0000-01-01T00:00:00.000000Z" },
        };
        size_t i;
        (void)s;
        for (i = 0; i < sizeof(dates) / sizeof(dates[0]); i++) {
                char text[16];
                json_t *a = bin_date(dates[i].y, dates[i].m, dates[i].d), *b;
                char *as, *bs;
                snprintf(text, sizeof(text), "%04u-%02u-%02u", dates[i].y,
                         dates[i].m, dates[i].d);
                b  = txt_value(CDC_T_DATE, 0, text, NULL);
                as = json_dumps(a, JSON_ENCODE_ANY);
                bs = json_dumps(b, JSON_ENCODE_ANY);
                if (strcmp(as, dates[i].want) || strcmp(bs, dates[i].want))
                        fail_msg("DATE %s: binlog %s, snapshot %s, want %s",
                                 text, as, bs, dates[i].want);
                free(as);
                free(bs);
                json_decref(a);
                json_decref(b);
        }
        for (i = 0; i < sizeof(dts) / sizeof(dts[0]); i++)
                check_datetime("UTC", NULL, dts[i].y, dts[i].m, dts[i].d, 0, 0,
                               0, 0, 0, dts[i].want);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_datetime_past_9999),
                cmocka_unit_test(test_datetime_every_zone),
                cmocka_unit_test(test_zero_and_invalid_dates),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
