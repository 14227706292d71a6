/* TABLE_MAP parsing (cdc_tablemap): optional metadata, completion. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "binlog_capture.h"
#include "cdc_frame.h"
#include "cdc_rowdec.h"
#include "cdc_tablemap.h"

/* FULL metadata of a table without text or ENUM/SET columns: complete
 * without charset / label fields (no information_schema lookup). */
static void test_full_complete(void **s) {
        capcase_t c;
        cdc_frame_t ev;
        cdc_tablemap_t *t = NULL;
        char errstr[256];
        (void)s;
        capture_load("follow", &c);
        assert_int_equal(cdc_frame_parse(c.ev[0].b, c.ev[0].len, c.crc, &ev,
                                         errstr, sizeof(errstr)),
                         0);
        assert_int_equal(cdc_tablemap_parse(ev.body, ev.body_len, 8, &t, errstr,
                                            sizeof(errstr)),
                         0);
        assert_true(t->has_names && t->has_sign && t->has_charset &&
                    t->has_labels);
        cdc_tablemap_destroy(t);
        capture_free(&c);
        capture_load("strings", &c);
        assert_int_equal(cdc_frame_parse(c.ev[0].b, c.ev[0].len, c.crc, &ev,
                                         errstr, sizeof(errstr)),
                         0);
        assert_int_equal(cdc_tablemap_parse(ev.body, ev.body_len, 8, &t, errstr,
                                            sizeof(errstr)),
                         0);
        assert_true(t->has_names && t->has_sign && t->has_charset &&
                    t->has_labels);
        assert_int_equal(t->cols[9].label_cnt, 3);
        assert_string_equal(t->cols[9].labels[2], "c d");
        cdc_tablemap_destroy(t);
        capture_free(&c);
}

static void test_set_col(void **s) {
        capcase_t c;
        cdc_frame_t ev;
        cdc_tablemap_t *t = NULL;
        char errstr[256];
        (void)s;
        capture_load("ints_minimal", &c);
        assert_int_equal(cdc_frame_parse(c.ev[0].b, c.ev[0].len, c.crc, &ev,
                                         errstr, sizeof(errstr)),
                         0);
        assert_int_equal(cdc_tablemap_parse(ev.body, ev.body_len, 8, &t, errstr,
                                            sizeof(errstr)),
                         0);
        assert_false(t->has_names);
        assert_true(t->has_sign); /* MINIMAL keeps signedness */
        assert_int_equal(t->ncols, 11);
        assert_int_equal(cdc_tablemap_set_col(t, 0, "id", 0, 0, NULL, 0), 0);
        assert_string_equal(t->cols[0].name, "id");
        assert_int_equal(cdc_tablemap_set_col(t, 11, "x", 0, 0, NULL, 0), -1);
        assert_int_equal(t->cols[2].is_unsigned, 1);
        assert_int_equal(t->cols[1].is_unsigned, 0);
        cdc_tablemap_destroy(t);
        capture_free(&c);
}

/* ---- hand-built maps ---- */

/* A TABLE_MAP body for followcdc.t: id 42, \p n columns of \p types with
 * type metadata \p meta, all nullable, then the optional metadata \p opt.
 * Exact-size buffer (ASan). */
static uint8_t *tm_build(const uint8_t *types, size_t n, const uint8_t *meta,
                         size_t mlen, const uint8_t *opt, size_t olen,
                         size_t *lenp) {
        static const uint8_t head[] = { 0x2a, 0,   0,   0,   0,   0,   1,   0,
                                        9,    'f', 'o', 'l', 'l', 'o', 'w', 'c',
                                        'd',  'c', 0,   1,   't', 0 };
        size_t len = sizeof(head) + 1 + n + 1 + mlen + (n + 7) / 8 + olen, o;
        uint8_t *b = malloc(len);
        assert_non_null(b);
        assert_true(n < 251 && mlen < 251);
        memcpy(b, head, sizeof(head));
        o      = sizeof(head);
        b[o++] = (uint8_t)n;
        memcpy(b + o, types, n);
        o += n;
        b[o++] = (uint8_t)mlen;
        if (mlen)
                memcpy(b + o, meta, mlen);
        o += mlen;
        memset(b + o, 0xff, (n + 7) / 8);
        o += (n + 7) / 8;
        memcpy(b + o, opt, olen);
        *lenp = len;
        return b;
}

static cdc_err_t tm_parse(const uint8_t *types, size_t n, const uint8_t *meta,
                          size_t mlen, const uint8_t *opt, size_t olen,
                          cdc_tablemap_t **tp) {
        char errstr[256];
        size_t len;
        uint8_t *b = tm_build(types, n, meta, mlen, opt, olen, &len);
        cdc_err_t err =
                cdc_tablemap_parse(b, len, 8, tp, errstr, sizeof(errstr));
        free(b);
        return err;
}

/* Issue 8 #3: a second ENUM label list replaced the first without its
 * count: decoding read past the new array and destroy freed pointers it
 * did not own. A repeated optional metadata field is malformed. */
static void test_enum_labels_twice(void **s) {
        static const char tmhex[] =
                "2a0000000000010009666f6c6c6f776364630001740001fe02f701000402"
                "016506050201610162060100";
        static const char rowshex[] = "2a0000000000010001010002";
        uint8_t *tm, *rows;
        size_t tml, rl;
        cdc_tablemap_t *t = NULL;
        char errstr[256];
        cdc_err_t err;
        (void)s;
        tm   = capture_hex(tmhex, &tml);
        rows = capture_hex(rowshex, &rl);
        err  = cdc_tablemap_parse(tm, tml, 8, &t, errstr, sizeof(errstr));
        if (!err) { /* what happened before: decode the row (ASan) */
                cdc_rowdec_rows_t r;
                json_t *b = NULL, *a = NULL;
                if (!cdc_rowdec_rows(CDC_EV_WRITE_ROWS_V1, rows, rl, 8, &r,
                                     errstr, sizeof(errstr)))
                        cdc_rowdec_row_next(t, &r, NULL, &b, &a, errstr,
                                            sizeof(errstr));
                json_decref(a);
                json_decref(b);
        }
        cdc_tablemap_destroy(t);
        assert_int_equal(err, CDC_ERR__BAD_EVENT);
        free(tm);
        free(rows);
}

/* Requirement: duplicate metadata rejected, for every field we read. */
static void test_duplicate_fields(void **s) {
        /* an INT, a VARCHAR(10), an ENUM('a') and a SET('x') */
        static const uint8_t types[] = { CDC_T_LONG, CDC_T_VARCHAR,
                                         CDC_T_STRING, CDC_T_STRING };
        static const uint8_t meta[]  = { 10, 0, CDC_T_ENUM, 1, CDC_T_SET, 1 };
        static const uint8_t f1[]    = { 1, 1, 0x80 };
        static const uint8_t f2[]    = { 2, 1, 45 };
        static const uint8_t f3[]    = { 3, 1, 45 };
        static const uint8_t f4[]    = { 4, 8, 1, 'a', 1, 'b', 1, 'c', 1, 'd' };
        static const uint8_t f5[]    = { 5, 3, 1, 1, 'x' };
        static const uint8_t f6[]    = { 6, 3, 1, 1, 'a' };
        static const struct {
                const uint8_t *f;
                size_t len;
        } fields[] = { { f1, sizeof(f1) }, { f2, sizeof(f2) },
                       { f3, sizeof(f3) }, { f4, sizeof(f4) },
                       { f5, sizeof(f5) }, { f6, sizeof(f6) } };
        uint8_t opt[64];
        cdc_tablemap_t *t = NULL;
        size_t i, j, o;
        (void)s;
        /* all six once (but only one charset field): fine */
        for (i = 0, o = 0; i < 6; i++) {
                if (i == 2)
                        continue;
                memcpy(opt + o, fields[i].f, fields[i].len);
                o += fields[i].len;
        }
        assert_int_equal(tm_parse(types, 4, meta, sizeof(meta), opt, o, &t), 0);
        assert_true(t->has_names && t->has_sign && t->has_charset &&
                    t->has_labels);
        assert_string_equal(t->cols[2].labels[0], "a");
        assert_string_equal(t->cols[3].labels[0], "x");
        assert_true(t->cols[0].is_unsigned);
        cdc_tablemap_destroy(t);
        /* each one twice, adjacent or apart */
        for (i = 0; i < 6; i++) {
                for (j = 0; j < 2; j++) {
                        o = 0;
                        memcpy(opt + o, fields[i].f, fields[i].len);
                        o += fields[i].len;
                        if (j) { /* another field in between */
                                const uint8_t *sep = i == 3 ? f1 : f4;
                                size_t sl = i == 3 ? sizeof(f1) : sizeof(f4);
                                memcpy(opt + o, sep, sl);
                                o += sl;
                        }
                        memcpy(opt + o, fields[i].f, fields[i].len);
                        o += fields[i].len;
                        t = NULL;
                        assert_int_equal(tm_parse(types, 4, meta, sizeof(meta),
                                                  opt, o, &t),
                                         CDC_ERR__BAD_EVENT);
                        assert_null(t);
                }
        }
        /* DEFAULT_CHARSET and COLUMN_CHARSET together */
        memcpy(opt, f2, sizeof(f2));
        memcpy(opt + sizeof(f2), f3, sizeof(f3));
        assert_int_equal(tm_parse(types, 4, meta, sizeof(meta), opt,
                                  sizeof(f2) + sizeof(f3), &t),
                         CDC_ERR__BAD_EVENT);
}

/* DEFAULT_CHARSET pairs: (index among the character columns, collation),
 * increasing; repeated, out-of-order or out-of-range indexes are
 * malformed (issue 8 #6: each pair used to rescan every column). */
static void test_default_charset_pairs(void **s) {
        static const uint8_t types[] = { CDC_T_VARCHAR, CDC_T_LONG,
                                         CDC_T_VARCHAR, CDC_T_BLOB };
        static const uint8_t meta[]  = { 10, 0, 10, 0, 2 };
        /* default utf8mb4 (45); column 2 latin1 (8), column 3 binary */
        static const uint8_t ok[]   = { 2, 5, 45, 1, 8, 2, 63 };
        static const uint8_t rep[]  = { 2, 5, 45, 1, 8, 1, 63 };
        static const uint8_t down[] = { 2, 5, 45, 2, 8, 1, 63 };
        static const uint8_t past[] = { 2, 3, 45, 3, 8 };
        cdc_tablemap_t *t           = NULL;
        (void)s;
        assert_int_equal(
                tm_parse(types, 4, meta, sizeof(meta), ok, sizeof(ok), &t), 0);
        assert_int_equal(t->cols[0].charset, 45);
        assert_int_equal(t->cols[2].charset, 8);
        assert_true(t->cols[2].is_latin1);
        assert_int_equal(t->cols[3].charset, 63);
        assert_true(t->cols[3].is_binary);
        assert_int_equal(t->cols[1].charset, 0);
        cdc_tablemap_destroy(t);
        t = NULL;
        assert_int_equal(
                tm_parse(types, 4, meta, sizeof(meta), rep, sizeof(rep), &t),
                CDC_ERR__BAD_EVENT);
        assert_int_equal(
                tm_parse(types, 4, meta, sizeof(meta), down, sizeof(down), &t),
                CDC_ERR__BAD_EVENT);
        assert_int_equal(
                tm_parse(types, 4, meta, sizeof(meta), past, sizeof(past), &t),
                CDC_ERR__BAD_EVENT);
        assert_null(t);
}

/* Found by fuzz_rowdec: two columns named alike made the second value
 * silently replace the first in the row object (a forged "id" after the
 * real one). Names must be distinct, non-empty, without NUL. */
static void test_column_names(void **s) {
        static const uint8_t types[] = { CDC_T_LONG, CDC_T_LONG, CDC_T_LONG };
        static const uint8_t ok[]    = { 4,   9, 2,   'i', 'd', 1,
                                         'a', 3, 'i', 'd', '2' };
        static const uint8_t dup[] = { 4, 8, 2, 'i', 'd', 1, 'a', 2, 'i', 'd' };
        static const uint8_t empty[] = { 4, 6, 2, 'i', 'd', 0, 2, 'i', 'e' };
        static const uint8_t nul[]   = {
                  4, 9, 2, 'i', 'd', 1, 'a', 3, 'i', 'd', 0
        };
        static const uint8_t nul2[] = { 4,   9, 2,   'i', 'd', 1,
                                        'a', 3, 'i', 0,   'x' };
        cdc_tablemap_t *t           = NULL;
        (void)s;
        assert_int_equal(tm_parse(types, 3, NULL, 0, ok, sizeof(ok), &t), 0);
        assert_string_equal(t->cols[2].name, "id2");
        cdc_tablemap_destroy(t);
        t = NULL;
        assert_int_equal(tm_parse(types, 3, NULL, 0, dup, sizeof(dup), &t),
                         CDC_ERR__BAD_EVENT);
        assert_int_equal(tm_parse(types, 3, NULL, 0, empty, sizeof(empty), &t),
                         CDC_ERR__BAD_EVENT);
        assert_int_equal(tm_parse(types, 3, NULL, 0, nul, sizeof(nul), &t),
                         CDC_ERR__BAD_EVENT);
        assert_int_equal(tm_parse(types, 3, NULL, 0, nul2, sizeof(nul2), &t),
                         CDC_ERR__BAD_EVENT);
        assert_null(t);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_set_col),
                cmocka_unit_test(test_full_complete),
                cmocka_unit_test(test_enum_labels_twice),
                cmocka_unit_test(test_duplicate_fields),
                cmocka_unit_test(test_default_charset_pairs),
                cmocka_unit_test(test_column_names),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
