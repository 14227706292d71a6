/* MySQL 8 binary JSON to text (cdc_mysqljson). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "cdc_mysqljson.h"

static uint32_t rnd_state = 12345;
static uint32_t rnd(void) {
        rnd_state = rnd_state * 1103515245u + 12345u;
        return rnd_state >> 8;
}

/* MySQL 8 binary JSON documents, encoded by hand from the format spec
 * (sql/json_binary.h): small and large containers, inlined scalars,
 * escapes, opaque DECIMAL and DATETIME, top-level scalars. */
static const uint8_t mj1[] = {
        0x00, 0x02, 0x00, 0x2e, 0x00, 0x12, 0x00, 0x01, 0x00, 0x13, 0x00, 0x01,
        0x00, 0x02, 0x14, 0x00, 0x0b, 0x26, 0x00, 0x61, 0x62, 0x04, 0x00, 0x12,
        0x00, 0x05, 0x01, 0x00, 0x0c, 0x10, 0x00, 0x04, 0x01, 0x00, 0x04, 0x00,
        0x00, 0x01, 0x78, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x40,
};
static const uint8_t mj2[] = {
        0x03, 0x04, 0x00, 0x00, 0x00, 0x2a, 0x00, 0x00, 0x00, 0x05, 0x01,
        0x00, 0x00, 0x00, 0x07, 0x70, 0x11, 0x01, 0x00, 0x05, 0xfd, 0xff,
        0x00, 0x00, 0x00, 0x1c, 0x00, 0x00, 0x00, 0x01, 0x00, 0x0e, 0x00,
        0x0b, 0x00, 0x01, 0x00, 0x0c, 0x0c, 0x00, 0x6b, 0x01, 0x76,
};
static const uint8_t mj3[] = {
        0x02, 0x02, 0x00, 0x14, 0x00, 0x0c, 0x0a, 0x00, 0x0c, 0x10, 0x00,
        0x05, 0x71, 0x22, 0x5c, 0x0a, 0x01, 0x03, 0x68, 0xc3, 0xa9,
};
static const uint8_t mj4[] = {
        0x00, 0x01, 0x00, 0x12, 0x00, 0x0b, 0x00, 0x01, 0x00, 0x0f,
        0x0c, 0x00, 0x64, 0xf6, 0x04, 0x04, 0x02, 0x8c, 0x22,
};
static const uint8_t mj5[] = {
        0x02, 0x01, 0x00, 0x11, 0x00, 0x0f, 0x07, 0x00, 0x0c,
        0x08, 0x06, 0x00, 0x00, 0x05, 0x31, 0x44, 0xb2, 0x19,
};
static const uint8_t mj6[] = {
        0x0c,
        0x02,
        0x68,
        0x69,
};
static const uint8_t mj7[] = {
        0x09, 0x00, 0x0e, 0xfa, 0xd5, 0xfe, 0xff, 0xff, 0xff,
};
static const uint8_t mj8[] = {
        0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
};
static const uint8_t mj9[] = {
        0x0b, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xe0, 0xbf,
};
static const uint8_t mj10[] = {
        0x00, 0x03, 0x00, 0x2c, 0x00, 0x19, 0x00, 0x03, 0x00, 0x1c, 0x00, 0x01,
        0x00, 0x1d, 0x00, 0x03, 0x00, 0x09, 0x20, 0x00, 0x07, 0x28, 0x00, 0x05,
        0x00, 0x80, 0x62, 0x69, 0x67, 0x73, 0x6e, 0x65, 0x67, 0x05, 0x00, 0x00,
        0x80, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0x00, 0x00,
};

static void mj_check(const uint8_t *b, size_t len, const char *want) {
        char *txt = NULL;
        size_t tl = 0, l;
        assert_int_equal(cdc_mysqljson_text(b, len, &txt, &tl), 0);
        assert_string_equal(txt, want);
        assert_int_equal(tl, strlen(want));
        free(txt);
        for (l = 0; l < len; l++) { /* every prefix: no overread */
                uint8_t *cp = malloc(l ? l : 1);
                memcpy(cp, b, l);
                if (cdc_mysqljson_text(cp, l, &txt, &tl) == 0)
                        free(txt);
                free(cp);
        }
}

static void test_mysql_json(void **s) {
        char *txt = NULL;
        size_t tl, i;
        uint8_t deep[1 + 200 * 7];
        (void)s;
        mj_check(mj1, sizeof(mj1), "{\"a\":[1,\"x\",true,null],\"b\":2.5}");
        mj_check(mj2, sizeof(mj2), "[1,70000,-3,{\"k\":\"v\"}]");
        mj_check(mj3, sizeof(mj3), "[\"q\\\"\\\\\\n\\u0001\",\"h\xc3\xa9\"]");
        mj_check(mj4, sizeof(mj4), "{\"d\":12.34}");
        mj_check(mj5, sizeof(mj5), "[\"2024-01-02 03:04:05.000006\"]");
        mj_check(mj6, sizeof(mj6), "\"hi\"");
        mj_check(mj7, sizeof(mj7), "-5000000000");
        mj_check(mj8, sizeof(mj8), "18446744073709551615");
        mj_check(mj9, sizeof(mj9), "-0.5");
        mj_check(mj10, sizeof(mj10),
                 "{\"big\":2147483653,\"s\":65535,\"neg\":-32768}");
        assert_int_equal(cdc_mysqljson_text(NULL, 0, &txt, &tl), 0);
        assert_string_equal(txt, "null");
        free(txt);
        /* 200 nested one-element arrays: refused, not a stack overflow */
        deep[0] = 0x02;
        for (i = 0; i < 200; i++) {
                uint8_t *p  = deep + 1 + i * 7;
                size_t size = (200 - i) * 7;
                p[0]        = 1;
                p[1]        = 0;
                p[2]        = (uint8_t)size;
                p[3]        = (uint8_t)(size >> 8);
                p[4]        = 0x02; /* value: an array at offset 7 */
                p[5]        = 7;
                p[6]        = 0;
        }
        assert_int_equal(cdc_mysqljson_text(deep, sizeof(deep), &txt, &tl), -1);
        /* an offset pointing outside the container */
        {
                uint8_t bad[sizeof(mj1)];
                memcpy(bad, mj1, sizeof(bad));
                bad[16] = 0xff; /* value entry of "b": offset */
                assert_int_equal(
                        cdc_mysqljson_text(bad, sizeof(bad), &txt, &tl), -1);
        }
        for (i = 0; i < 3000; i++) { /* random changes */
                uint8_t m[sizeof(mj2)];
                memcpy(m, mj2, sizeof(m));
                m[rnd() % sizeof(m)] = (uint8_t)rnd();
                m[rnd() % sizeof(m)] = (uint8_t)rnd();
                if (cdc_mysqljson_text(m, sizeof(m), &txt, &tl) == 0)
                        free(txt);
        }
}

/* The fast instant formatter agrees with cdc_time_format_us. */
/* Issue 8 #4: entries of each array point at the same sub-array, so 205
 * bytes stand for 2^20 arrays (the 1412 bytes never finished).
 * The decoder visits fewer values than the document has bytes, and stops
 * there. */
static void test_shared_containers(void **s) {
        enum {
                DEPTH = 20
        };
        uint8_t doc[1 + DEPTH * 10 + 4];
        char *txt = NULL;
        size_t tl = 0, i;
        (void)s;
        doc[0] = 0x02; /* small array */
        for (i = 0; i < DEPTH; i++) {
                uint8_t *c  = doc + 1 + i * 10;
                size_t size = (DEPTH - i) * 10 + 4;
                c[0]        = 2; /* two elements */
                c[1]        = 0;
                c[2]        = (uint8_t)size;
                c[3]        = (uint8_t)(size >> 8);
                c[4]        = 0x02; /* both: the array at offset 10 */
                c[5]        = 10;
                c[6]        = 0;
                c[7]        = 0x02;
                c[8]        = 10;
                c[9]        = 0;
        }
        memcpy(doc + 1 + DEPTH * 10, "\0\0\4\0", 4); /* [] */
        assert_int_equal(cdc_mysqljson_text(doc, sizeof(doc), &txt, &tl), -1);
        assert_null(txt);
        /* one level of it, one element: a tree, decoded */
        {
                static const uint8_t one[] = { 0x02, 1, 0, 11, 0, 0x02,
                                               7,    0, 0, 0,  4, 0 };
                assert_int_equal(
                        cdc_mysqljson_text(one, sizeof(one), &txt, &tl), 0);
        }
        assert_string_equal(txt, "[[]]");
        free(txt);
}

/* Documents MySQL writes stay within the budget: 1000 strings of 50
 * control characters (the largest text per byte: "\u0001" each), and
 * arrays nested 100 deep (MySQL's limit). */
static void test_budget_legit(void **s) {
        enum {
                N = 1000,
                L = 50
        };
        size_t hdr = 4 + 3 * N, size = hdr + (size_t)N * (1 + L), i, o;
        uint8_t *doc = malloc(1 + size);
        uint8_t deep[1 + 100 * 7 + 4];
        char *txt = NULL;
        size_t tl = 0;
        (void)s;
        assert_non_null(doc);
        assert_true(size < 65536);
        doc[0] = 0x02;
        doc[1] = (uint8_t)N;
        doc[2] = (uint8_t)(N >> 8);
        doc[3] = (uint8_t)size;
        doc[4] = (uint8_t)(size >> 8);
        for (i = 0, o = hdr; i < N; i++, o += 1 + L) {
                uint8_t *e = doc + 1 + 4 + i * 3;
                e[0]       = 0x0c; /* string at offset o */
                e[1]       = (uint8_t)o;
                e[2]       = (uint8_t)(o >> 8);
                doc[1 + o] = L;
                memset(doc + 1 + o + 1, 0x01, L);
        }
        assert_int_equal(cdc_mysqljson_text(doc, 1 + size, &txt, &tl), 0);
        assert_int_equal(tl, 2 + N * (2 + 6 * L) + (N - 1));
        free(txt);
        free(doc);
        deep[0] = 0x02;
        for (i = 0; i < 100; i++) {
                uint8_t *p = deep + 1 + i * 7;
                size_t sz  = (100 - i) * 7 + 4;
                p[0]       = 1;
                p[1]       = 0;
                p[2]       = (uint8_t)sz;
                p[3]       = (uint8_t)(sz >> 8);
                p[4]       = 0x02;
                p[5]       = 7;
                p[6]       = 0;
        }
        memcpy(deep + 1 + 100 * 7, "\0\0\4\0", 4);
        assert_int_equal(cdc_mysqljson_text(deep, sizeof(deep), &txt, &tl), 0);
        assert_int_equal(tl, 202);
        free(txt);
}

/* Issue 8 #6: a packed temporal value of INT64_MIN was negated (undefined
 * behaviour). Values no MySQL column holds are malformed; the extremes of
 * TIME are not. */
static void test_temporal_extremes(void **s) {
        /* opaque(0x0f), type, length 8, packed little-endian */
        uint8_t v[11] = { 0x0f, 0, 8 };
        char *txt     = NULL;
        size_t tl;
        int64_t packed;
        static const uint8_t types[] = { 10, 11, 12, 7 };
        size_t i;
        (void)s;
        for (i = 0; i < sizeof(types); i++) { /* the input */
                v[1]   = types[i];
                packed = INT64_MIN;
                memcpy(v + 3, &packed, 8);
                assert_int_equal(cdc_mysqljson_text(v, sizeof(v), &txt, &tl),
                                 -1);
                packed = -1; /* a negative date, a TIME over 838 hours */
                memcpy(v + 3, &packed, 8);
                assert_int_equal(cdc_mysqljson_text(v, sizeof(v), &txt, &tl),
                                 types[i] == 11 ? 0 : -1);
                if (types[i] == 11) {
                        /* -1 us: the fraction of the magnitude is 1 */
                        assert_string_equal(txt, "\"-00:00:00.000001\"");
                        free(txt);
                }
        }
        /* TIME -838:59:59.000000 */
        v[1]   = 11;
        packed = -(int64_t)(((uint64_t)838 << 12 | 59 << 6 | 59) << 24);
        memcpy(v + 3, &packed, 8);
        assert_int_equal(cdc_mysqljson_text(v, sizeof(v), &txt, &tl), 0);
        assert_string_equal(txt, "\"-838:59:59.000000\"");
        free(txt);
        /* DATETIME 9999-12-31 23:59:59.999999 */
        v[1]   = 12;
        packed = (int64_t)((((((uint64_t)9999 * 13 + 12) << 5 | 31) << 17 |
                             23 << 12 | 59 << 6 | 59)
                            << 24) |
                           999999);
        memcpy(v + 3, &packed, 8);
        assert_int_equal(cdc_mysqljson_text(v, sizeof(v), &txt, &tl), 0);
        assert_string_equal(txt, "\"9999-12-31 23:59:59.999999\"");
        free(txt);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_mysql_json),
                cmocka_unit_test(test_shared_containers),
                cmocka_unit_test(test_budget_legit),
                cmocka_unit_test(test_temporal_extremes),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
