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
int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_mysql_json),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
