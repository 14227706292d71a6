/**
 * @file test_event_enc.c
 * @brief The one event encoder (common/cdc_event_enc.c) writes exactly
 *        what jansson writes for the same envelope (the oracle in
 *        event_oracle.c), on generated events: every op, escapes, control
 *        characters, UTF-8, int64 limits, reals, booleans, the optional
 *        "oversized" field; and the message key likewise. Every encoded
 *        event also passes cdc_event_parse().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cdc_event.h"
#include "event_oracle.h"


static json_t *rand_value(unsigned *seed) {
        static const char *const strs[] = { "",
                                            "plain",
                                            "quote\" back\\slash",
                                            "ctl\x01\x1f\t\n\r\b\f",
                                            "slash/ü€😀",
                                            "del\x7f",
                                            "req-8f1c" };
        switch (rand_r(seed) % 7) {
        case 0:
                return json_integer((json_int_t)rand_r(seed) - RAND_MAX / 2);
        case 1:
                return json_integer(INT64_MIN + rand_r(seed) % 3);
        case 2:
                return json_string(strs[rand_r(seed) % 7]);
        case 3:
                return json_null();
        case 4:
                return json_real((double)rand_r(seed) / 7.0);
        case 5:
                return json_boolean(rand_r(seed) & 1);
        default:
                return json_string("18446744073709551615");
        }
}

static void test_encoder_identity(void **state) {
        unsigned seed      = 12345;
        const char *cols[] = { "c0", "c1" };
        int n;
        (void)state;

        for (n = 0; n < 3000; n++) {
                cdc_event_t ev;
                json_t *row = json_object(), *row2 = json_object();
                char *a, *b, *ka, *kb, why[256];
                size_t la = 0, lb = 0, kla = 0, klb = 0;
                int i, ncol = 1 + rand_r(&seed) % 8;

                for (i = 0; i < ncol; i++) {
                        char name[16];
                        snprintf(name, sizeof(name), i == 3 ? "q\"%d" : "c%d",
                                 i);
                        json_object_set_new(row, name, rand_value(&seed));
                        json_object_set_new(row2, name, rand_value(&seed));
                }
                memset(&ev, 0, sizeof(ev));
                ev.op     = "cudr"[rand_r(&seed) % 4];
                ev.before = ev.op == 'u' || ev.op == 'd' ? row2 : NULL;
                ev.after  = ev.op == 'd' ? NULL : row;
                snprintf(ev.source.name, sizeof(ev.source.name), "followcdc");
                snprintf(ev.source.db, sizeof(ev.source.db), "db\"x");
                snprintf(ev.source.table, sizeof(ev.source.table), "follow");
                if (rand_r(&seed) & 1)
                        snprintf(ev.source.gtid, sizeof(ev.source.gtid),
                                 "0-1-%d", n);
                ev.source.server_id = (uint32_t)rand_r(&seed);
                ev.source.epoch     = (uint32_t)(rand_r(&seed) % 3);
                ev.source.seq       = (uint64_t)rand_r(&seed) << 20;
                snprintf(ev.source.file, sizeof(ev.source.file),
                         "mysql-bin.%06d", n);
                ev.source.pos      = (uint64_t)rand_r(&seed);
                ev.source.row      = (uint32_t)(rand_r(&seed) % 100);
                ev.source.ts_ms    = 1795000000000LL + n;
                ev.source.snapshot = ev.op == 'r';
                ev.ts_ms           = 1795000000123LL - n;
                if (n % 5 == 0)
                        ev.oversized = json_pack("{s:{s:I}}", "after", "c1",
                                                 (json_int_t)(n * 1000));

                a = oracle_event_encode(&ev, &la);
                b = cdc_event_encode(&ev, &lb);
                assert_non_null(a);
                assert_non_null(b);
                assert_int_equal(la, lb);
                assert_string_equal(a, b);

                ka = oracle_key_from_row(row, cols, 2, &kla, why, sizeof(why));
                kb = cdc_key_from_row(row, cols, 2, &klb, why, sizeof(why));
                assert_true((ka == NULL) == (kb == NULL));
                if (ka) {
                        assert_int_equal(kla, klb);
                        assert_string_equal(ka, kb);
                }
                free(a);
                free(b);
                free(ka);
                free(kb);
                json_decref(row);
                json_decref(row2);
                json_decref(ev.oversized);
        }
}


static void test_encoder_parses(void **state) {
        cdc_event_t ev, *back = NULL;
        char *s, why[256];
        size_t len = 0;
        (void)state;

        memset(&ev, 0, sizeof(ev));
        ev.op    = CDC_OP_CREATE;
        ev.after = json_pack("{s:I,s:s}", "id", (json_int_t)7, "body",
                             CDC_EVENT_OVERSIZED_MARKER);
        ev.oversized =
                json_pack("{s:{s:I}}", "after", "body", (json_int_t)2000000);
        snprintf(ev.source.name, sizeof(ev.source.name), "followcdc");
        snprintf(ev.source.db, sizeof(ev.source.db), "db");
        snprintf(ev.source.table, sizeof(ev.source.table), "docs");
        snprintf(ev.source.file, sizeof(ev.source.file), "mysql-bin.000001");
        s = cdc_event_encode(&ev, &len);
        assert_non_null(s);
        assert_int_equal(len, strlen(s));
        assert_non_null(strstr(s, ",\"oversized\":{\"after\":{\"body\":"
                                  "2000000}}}"));
        assert_int_equal(cdc_event_parse(s, len, &back, why, sizeof(why)),
                         CDC_ERR_NO_ERROR);
        assert_string_equal(
                json_string_value(json_object_get(back->after, "body")),
                CDC_EVENT_OVERSIZED_MARKER);
        cdc_event_destroy(back);
        free(s);
        json_decref(ev.after);
        json_decref(ev.oversized);
}

static void test_key_errors(void **state) {
        const char *cols[] = { "a" };
        json_t *row        = json_pack("{s:f}", "a", 1.5);
        char why[128];
        size_t len = 0;
        (void)state;
        assert_null(cdc_key_from_row(row, cols, 0, &len, why, sizeof(why)));
        assert_null(cdc_key_from_row(row, cols, 1, &len, why, sizeof(why)));
        assert_non_null(strstr(why, "not a string or integer"));
        json_decref(row);
}

/* Strings are checked for escapes 8 bytes at a time: every length up to
 * 40, one special byte at every position, against jansson; and every
 * integer width (the digits are written two at a time). */
static void test_escapes_every_position(void **state) {
        static const char *const specials[] = { "\"",       "\\", "\x01",
                                                "\x1f",     "\n", "\x7f",
                                                "\xc3\xa9", " ",  "\x5b" };
        const char *cols[]                  = { "k" };
        size_t len, pos, k;
        (void)state;

        for (len = 0; len <= 40; len++) {
                for (pos = 0; pos <= len; pos++) {
                        for (k = 0; k < sizeof(specials) / sizeof(*specials);
                             k++) {
                                char str[64], why[128], *got, *want;
                                json_t *row, *arr;
                                size_t sl = strlen(specials[k]), glen = 0;
                                if (pos == len && k)
                                        break; /* once without a special */
                                memset(str, 'a', len);
                                if (pos < len && pos + sl <= len)
                                        memcpy(str + pos, specials[k], sl);
                                str[len] = '\0';
                                row      = json_pack("{s:s}", "k", str);
                                arr      = json_pack("[s]", str);
                                assert_non_null(row);
                                got = cdc_key_from_row(row, cols, 1, &glen, why,
                                                       sizeof(why));
                                want = json_dumps(arr, JSON_COMPACT);
                                assert_non_null(got);
                                assert_string_equal(got, want);
                                assert_int_equal(glen, strlen(want));
                                free(got);
                                free(want);
                                json_decref(row);
                                json_decref(arr);
                        }
                }
        }
}

static void test_integers_every_width(void **state) {
        const char *cols[] = { "k" };
        int64_t v          = 1;
        int i, sign;
        (void)state;

        for (i = 0; i < 64; i++, v = v * 10 + (i & 7)) {
                for (sign = -1; sign <= 1; sign += 2) {
                        int64_t x = i == 63 ? (sign < 0 ? INT64_MIN : INT64_MAX)
                                            : sign * (v - 1);
                        json_t *row = json_pack("{s:I}", "k", (json_int_t)x);
                        json_t *arr = json_pack("[I]", (json_int_t)x);
                        char why[128], *got, *want;
                        got  = cdc_key_from_row(row, cols, 1, NULL, why,
                                                sizeof(why));
                        want = json_dumps(arr, JSON_COMPACT);
                        assert_non_null(got);
                        assert_string_equal(got, want);
                        free(got);
                        free(want);
                        json_decref(row);
                        json_decref(arr);
                        if (v > INT64_MAX / 11)
                                v = 1;
                }
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_encoder_identity),
                cmocka_unit_test(test_encoder_parses),
                cmocka_unit_test(test_key_errors),
                cmocka_unit_test(test_escapes_every_position),
                cmocka_unit_test(test_integers_every_width),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
