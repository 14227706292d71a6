/*
 * Row decoding (cdc_rowdec): raw TABLE_MAP / rows events captured from
 * MariaDB (tests/data/binlog/<case>/, see capture.sh there) decoded and
 * compared with hand-written expected.json; then truncated, corrupted and
 * garbage input that must be rejected without crashing; MySQL 8 v2 rows
 * headers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <zlib.h>
#include "binlog_capture.h"
#include "cdc_frame.h"
#include "cdc_rowdec.h"
#include "cdc_tablemap.h"
#include "cdc_event.h"

/* The flat image and the JSON object of one row image: the same JSON,
 * the same envelope bytes, the same message key. */
static void compare_img(json_t *j, const cdc_row_t *f) {
        cdc_event_t e1, e2;
        char *s1, *s2, *k1, *k2, why[256];
        const char *cols[64];
        size_t l1 = 0, l2 = 0, n = 0;
        json_t *jf;
        uint32_t i;

        if (!f) {
                assert_null(j);
                return;
        }
        assert_non_null(j);
        jf = cdc_row_json(f);
        assert_non_null(jf);
        assert_true(json_equal(j, jf));
        json_decref(jf);
        memset(&e1, 0, sizeof(e1));
        memset(&e2, 0, sizeof(e2));
        e1.op         = CDC_OP_UPDATE;
        e2.op         = CDC_OP_UPDATE;
        e1.before     = j;
        e1.after      = j;
        e2.before_row = f;
        e2.after_row  = f;
        s1            = cdc_event_encode(&e1, &l1);
        s2            = cdc_event_encode(&e2, &l2);
        assert_non_null(s1);
        assert_non_null(s2);
        assert_int_equal(l1, l2);
        assert_string_equal(s1, s2);
        free(s1);
        free(s2);
        /* every column as a key column, as far as keys allow */
        for (i = 0; i < f->n && n < 64; i++)
                cols[n++] = f->v[i].name;
        if (n) {
                k1 = cdc_key_from_row(j, cols, n, &l1, why, sizeof(why));
                k2 = cdc_key_from_flat(f, cols, n, &l2, why, sizeof(why));
                assert_true((k1 == NULL) == (k2 == NULL));
                if (k1)
                        assert_string_equal(k1, k2);
                free(k1);
                free(k2);
        }
}

/* cdc_rowdec_row_next(), checked against cdc_rowdec_row_next_flat() on
 * the same bytes: the same outcome and error, the same cursor, the same
 * row (compare_img). Every test that decodes rows goes through here. */
static cdc_err_t row_next_checked(const cdc_tablemap_t *t, cdc_rowdec_rows_t *r,
                                  const cdc_tz_t *tz, json_t **bp, json_t **ap,
                                  char *errstr, size_t esz) {
        cdc_rowdec_rows_t r2 = *r;
        cdc_row_t fb = { 0 }, fa = { 0 };
        char e2[512] = "";
        int has      = 0;
        cdc_err_t err, err2;

        err  = cdc_rowdec_row_next(t, r, tz, bp, ap, errstr, esz);
        err2 = cdc_rowdec_row_next_flat((cdc_tablemap_t *)t, &r2, tz, &fb, &fa,
                                        &has, e2, sizeof(e2));
        if (err2 == CDC_ERR__STATE) {
                /* names missing or alike: the stream decodes JSON */
                assert_false(cdc_tablemap_flat((cdc_tablemap_t *)t));
        } else {
                assert_int_equal(err, err2);
                assert_ptr_equal(r->p, r2.p);
                if (err) {
                        assert_string_equal(errstr, e2);
                } else {
                        compare_img(*bp, has & 1 ? &fb : NULL);
                        compare_img(*ap, has & 2 ? &fa : NULL);
                }
        }
        cdc_row_free(&fb);
        cdc_row_free(&fa);
        return err;
}

/* Decodes every event of the case into [{"op","before","after"}...]. */
static cdc_err_t case_decode(capcase_t *c, json_t **outp, char *errstr,
                             size_t esz) {
        cdc_tablemap_t *t = NULL;
        cdc_tz_t *tz      = cdc_tz_new(c->tz, errstr, esz);
        json_t *out       = json_array();
        cdc_err_t err     = CDC_ERR_NO_ERROR;
        int i;

        assert_non_null(tz);
        for (i = 0; i < c->n && !err; i++) {
                cdc_frame_t ev;
                cdc_rowdec_rows_t r;
                err = cdc_frame_parse(c->ev[i].b, c->ev[i].len, c->crc, &ev,
                                      errstr, esz);
                if (err)
                        break;
                if (c->ev[i].is_map) {
                        cdc_tablemap_destroy(t);
                        t   = NULL;
                        err = cdc_tablemap_parse(ev.body, ev.body_len, 8, &t,
                                                 errstr, esz);
                        continue;
                }
                assert_non_null(t);
                err = cdc_rowdec_rows(ev.type, ev.body, ev.body_len, 8, &r,
                                      errstr, esz);
                while (!err && cdc_rowdec_rows_more(&r)) {
                        json_t *b, *a;
                        char op[2] = { r.op, 0 };
                        err = row_next_checked(t, &r, tz, &b, &a, errstr, esz);
                        if (err)
                                break;
                        json_array_append_new(
                                out, json_pack("{s:s,s:o,s:o}", "op", op,
                                               "before", b ? b : json_null(),
                                               "after", a ? a : json_null()));
                }
        }
        cdc_tablemap_destroy(t);
        cdc_tz_destroy(tz);
        *outp = out;
        return err;
}

static void check_case(const char *name) {
        capcase_t c;
        char path[512], errstr[512] = "";
        json_t *got = NULL, *want;
        json_error_t jerr;
        cdc_err_t err;

        capture_load(name, &c);
        err = case_decode(&c, &got, errstr, sizeof(errstr));
        if (err)
                fail_msg("%s: %s", name, errstr);
        snprintf(path, sizeof(path), "%s/%s/expected.json", CAPTURE_DIR, name);
        want = json_load_file(path, 0, &jerr);
        if (!want)
                fail_msg("%s: %s", path, jerr.text);
        if (!json_equal(got, want)) {
                size_t i;
                for (i = 0; i < json_array_size(want); i++) {
                        json_t *g = json_array_get(got, i);
                        json_t *w = json_array_get(want, i);
                        if (!json_equal(g, w)) {
                                char *gs = json_dumps(g, JSON_SORT_KEYS);
                                char *ws = json_dumps(w, JSON_SORT_KEYS);
                                print_error("%s row %zu\n got: %s\nwant: %s\n",
                                            name, i, gs ? gs : "(none)", ws);
                                free(gs);
                                free(ws);
                        }
                }
                fail_msg("%s: decoded rows differ (%zu rows, want %zu)", name,
                         json_array_size(got), json_array_size(want));
        }
        json_decref(got);
        json_decref(want);
        capture_free(&c);
}

static void test_ints(void **s) {
        (void)s;
        check_case("ints");
}
static void test_ints_minimal(void **s) {
        (void)s;
        check_case("ints_minimal");
}
static void test_numeric(void **s) {
        (void)s;
        check_case("numeric");
}
static void test_strings(void **s) {
        (void)s;
        check_case("strings");
}
static void test_temporal(void **s) {
        (void)s;
        check_case("temporal");
}
static void test_follow(void **s) {
        (void)s;
        check_case("follow");
}

/* Decodes a rows body (no framing) with table t; errors are fine. */
static int decode_body(const cdc_tablemap_t *t, uint8_t type,
                       const uint8_t *body, size_t len, unsigned phl,
                       const cdc_tz_t *tz) {
        cdc_rowdec_rows_t r;
        char errstr[256];
        int rows = 0;
        if (cdc_rowdec_rows(type, body, len, phl, &r, errstr, sizeof(errstr)))
                return -1;
        while (cdc_rowdec_rows_more(&r)) {
                json_t *b, *a;
                if (row_next_checked(t, &r, tz, &b, &a, errstr, sizeof(errstr)))
                        return -1;
                json_decref(b);
                json_decref(a);
                rows++;
        }
        return rows;
}

/* Every prefix of every event and table map is rejected or decoded,
 * never read out of bounds (run under ASan in CI). */
static void test_truncated(void **s) {
        size_t k;
        char errstr[256];
        cdc_tz_t *tz = cdc_tz_new("UTC", errstr, sizeof(errstr));
        (void)s;
        for (k = 0; k < capture_case_cnt; k++) {
                capcase_t c;
                cdc_tablemap_t *t = NULL;
                int i;
                capture_load(capture_cases[k], &c);
                for (i = 0; i < c.n; i++) {
                        size_t body_len = c.ev[i].len - 19 - (c.crc ? 4 : 0);
                        const uint8_t *body = c.ev[i].b + 19;
                        size_t l;
                        if (c.ev[i].is_map) {
                                for (l = 0; l < body_len; l++) {
                                        /* exact-size copies so ASan sees
                                         * any overread */
                                        uint8_t *cp        = malloc(l ? l : 1);
                                        cdc_tablemap_t *tt = NULL;
                                        memcpy(cp, body, l);
                                        cdc_tablemap_parse(cp, l, 8, &tt,
                                                           errstr,
                                                           sizeof(errstr));
                                        cdc_tablemap_destroy(tt);
                                        free(cp);
                                }
                                cdc_tablemap_destroy(t);
                                t = NULL;
                                assert_int_equal(
                                        cdc_tablemap_parse(body, body_len, 8,
                                                           &t, errstr,
                                                           sizeof(errstr)),
                                        CDC_ERR_NO_ERROR);
                                continue;
                        }
                        for (l = 0; l < body_len; l++) {
                                uint8_t *cp = malloc(l ? l : 1);
                                memcpy(cp, body, l);
                                /* a strict prefix never decodes all rows */
                                decode_body(t, c.ev[i].b[4], cp, l, 8, tz);
                                free(cp);
                        }
                        assert_true(decode_body(t, c.ev[i].b[4], body, body_len,
                                                8, tz) > 0);
                }
                cdc_tablemap_destroy(t);
                capture_free(&c);
        }
        cdc_tz_destroy(tz);
}

static uint32_t rnd_state = 12345;
static uint32_t rnd(void) {
        rnd_state = rnd_state * 1103515245u + 12345u;
        return rnd_state >> 8;
}

/* Random byte changes in row data and table maps, and pure garbage. */
static void test_garbage(void **s) {
        size_t k;
        char errstr[256];
        cdc_tz_t *tz = cdc_tz_new("Europe/Paris", errstr, sizeof(errstr));
        (void)s;
        assert_non_null(tz);
        for (k = 0; k < capture_case_cnt; k++) {
                capcase_t c;
                cdc_tablemap_t *t = NULL;
                int i, it;
                capture_load(capture_cases[k], &c);
                for (i = 0; i < c.n; i++) {
                        size_t body_len = c.ev[i].len - 19 - (c.crc ? 4 : 0);
                        const uint8_t *body = c.ev[i].b + 19;
                        if (c.ev[i].is_map) {
                                cdc_tablemap_destroy(t);
                                t = NULL;
                                assert_int_equal(
                                        cdc_tablemap_parse(body, body_len, 8,
                                                           &t, errstr,
                                                           sizeof(errstr)),
                                        CDC_ERR_NO_ERROR);
                        }
                        for (it = 0; it < 300; it++) {
                                uint8_t *cp = malloc(body_len);
                                int flips   = 1 + (int)(rnd() % 4), f;
                                memcpy(cp, body, body_len);
                                for (f = 0; f < flips; f++)
                                        cp[rnd() % body_len] = (uint8_t)rnd();
                                if (c.ev[i].is_map) {
                                        cdc_tablemap_t *tt = NULL;
                                        if (!cdc_tablemap_parse(cp, body_len, 8,
                                                                &tt, errstr,
                                                                sizeof(errstr)))
                                                /* a mangled map decoding
                                                 * the real rows */
                                                decode_body(
                                                        tt, c.ev[i + 1].b[4],
                                                        c.ev[i + 1].b + 19,
                                                        c.ev[i + 1].len - 19 -
                                                                (c.crc ? 4 : 0),
                                                        8, tz);
                                        cdc_tablemap_destroy(tt);
                                } else {
                                        decode_body(t, c.ev[i].b[4], cp,
                                                    body_len, 8, tz);
                                }
                                free(cp);
                        }
                }
                cdc_tablemap_destroy(t);
                capture_free(&c);
        }
        for (k = 0; k < 2000; k++) { /* pure garbage */
                size_t l           = rnd() % 200, j;
                uint8_t *g         = malloc(l ? l : 1);
                cdc_tablemap_t *tt = NULL;
                cdc_frame_t ev;
                for (j = 0; j < l; j++)
                        g[j] = (uint8_t)rnd();
                cdc_frame_parse(g, l, (int)(k & 1), &ev, errstr,
                                sizeof(errstr));
                if (!cdc_tablemap_parse(g, l, 8, &tt, errstr, sizeof(errstr)))
                        decode_body(tt, (uint8_t)(23 + k % 3), g, l, 8, tz);
                cdc_tablemap_destroy(tt);
                free(g);
        }
        cdc_tz_destroy(tz);
}

/* MySQL 8 writes v2 rows events: same rows after a 2-byte extra-info
 * length (here with 3 bytes of extra info). */
static void test_v2_header(void **s) {
        capcase_t c;
        cdc_frame_t ev;
        cdc_tablemap_t *t = NULL;
        cdc_rowdec_rows_t r1, r2;
        char errstr[256];
        uint8_t *v2;
        size_t blen;
        cdc_tz_t *tz = cdc_tz_new("UTC", errstr, sizeof(errstr));
        (void)s;
        capture_load("follow", &c);
        assert_int_equal(cdc_frame_parse(c.ev[0].b, c.ev[0].len, c.crc, &ev,
                                         errstr, sizeof(errstr)),
                         0);
        assert_int_equal(cdc_tablemap_parse(ev.body, ev.body_len, 8, &t, errstr,
                                            sizeof(errstr)),
                         0);
        assert_int_equal(cdc_frame_parse(c.ev[3].b, c.ev[3].len, c.crc, &ev,
                                         errstr, sizeof(errstr)),
                         0);
        assert_int_equal(ev.type, CDC_EV_UPDATE_ROWS_V1);
        blen = ev.body_len + 5;
        v2   = malloc(blen);
        memcpy(v2, ev.body, 8);
        v2[8]  = 5; /* extra info length incl. itself */
        v2[9]  = 0;
        v2[10] = 1;
        v2[11] = 2;
        v2[12] = 3;
        memcpy(v2 + 13, ev.body + 8, ev.body_len - 8);
        assert_int_equal(cdc_rowdec_rows(CDC_EV_UPDATE_ROWS_V1, ev.body,
                                         ev.body_len, 8, &r1, errstr,
                                         sizeof(errstr)),
                         0);
        assert_int_equal(cdc_rowdec_rows(CDC_EV_UPDATE_ROWS_V2, v2, blen, 10,
                                         &r2, errstr, sizeof(errstr)),
                         0);
        {
                json_t *b1, *a1, *b2, *a2;
                assert_int_equal(row_next_checked(t, &r1, tz, &b1, &a1, errstr,
                                                  sizeof(errstr)),
                                 0);
                assert_int_equal(row_next_checked(t, &r2, tz, &b2, &a2, errstr,
                                                  sizeof(errstr)),
                                 0);
                assert_true(json_equal(b1, b2));
                assert_true(json_equal(a1, a2));
                assert_int_equal(
                        json_integer_value(json_object_get(a2, "status")), 0);
                json_decref(b1);
                json_decref(a1);
                json_decref(b2);
                json_decref(a2);
        }
        /* extra length beyond the body */
        v2[8] = 0xff;
        assert_int_equal(cdc_rowdec_rows(CDC_EV_UPDATE_ROWS_V2, v2, 20, 10, &r2,
                                         errstr, sizeof(errstr)),
                         CDC_ERR__BAD_EVENT);
        free(v2);
        cdc_tablemap_destroy(t);
        cdc_tz_destroy(tz);
        capture_free(&c);
}


/* ---- hostile and extreme inputs (issue 8) ---- */

/*
 * An input in the layout of fuzz/fuzz_rowdec.c (the one the hex
 * uses): 5 header bytes, byte 3 the TABLE_MAP body length, then the
 * TABLE_MAP body and the rows body. Both are copied to buffers of exactly
 * their size, so ASan sees any over-read.
 */
static void split_input(const char *hex, uint8_t **tmp, size_t *tmlp,
                        uint8_t **rowsp, size_t *rlp) {
        size_t len;
        uint8_t *b = capture_hex(hex, &len);
        assert_true(len >= 5 && 5 + (size_t)b[3] <= len);
        *tmlp  = b[3];
        *rlp   = len - 5 - b[3];
        *tmp   = malloc(*tmlp);
        *rowsp = malloc(*rlp ? *rlp : 1);
        assert_non_null(*tmp);
        assert_non_null(*rowsp);
        memcpy(*tmp, b + 5, *tmlp);
        memcpy(*rowsp, b + 5 + *tmlp, *rlp);
        free(b);
}

/* Issue 8 #2: '9999-12-31 23:00:00' in a DATETIME read in New York is
 * year 10000 in UTC: a legal value, decoded to the expanded ISO 8601
 * year, never an error (the producer exited 1 on it, on every restart). */
static void test_datetime_past_9999(void **s) {
        static const char hex[] =
                "00020020002a0000000000010009666f6c6c6f7763646300017400011201"
                "000104030264742a00000000000100010100fef3ff7000";
        uint8_t *tm, *rows;
        size_t tml, rl;
        cdc_tablemap_t *t = NULL;
        cdc_rowdec_rows_t r;
        json_t *b = NULL, *a = NULL;
        char errstr[256];
        cdc_tz_t *tz = cdc_tz_new("America/New_York", errstr, sizeof(errstr));
        (void)s;
        assert_non_null(tz);
        split_input(hex, &tm, &tml, &rows, &rl);
        assert_int_equal(
                cdc_tablemap_parse(tm, tml, 8, &t, errstr, sizeof(errstr)), 0);
        assert_int_equal(cdc_rowdec_rows(CDC_EV_WRITE_ROWS_V1, rows, rl, 8, &r,
                                         errstr, sizeof(errstr)),
                         0);
        if (row_next_checked(t, &r, tz, &b, &a, errstr, sizeof(errstr)))
                fail_msg("a legal DATETIME is an error: %s", errstr);
        assert_null(b);
        assert_string_equal(json_string_value(json_object_get(a, "dt")),
                            "+010000-01-01T04:00:00.000000Z");
        assert_false(cdc_rowdec_rows_more(&r));
        json_decref(a);
        cdc_tablemap_destroy(t);
        cdc_tz_destroy(tz);
        free(tm);
        free(rows);
}

/* Issue 8 #5: a rows event whose "columns present" bitmap is all zero:
 * each row image was empty and consumed nothing, so the event never
 * ended. A row change must consume bytes. */
static void test_row_consumes_nothing(void **s) {
        static const char tmhex[]   = "2a0000000000010009666f6c6c6f776364630006"
                                      "666f6c6c6f7700010800000403026964";
        static const char rowshex[] = "2a00000000000100010000";
        uint8_t *tm, *rows;
        size_t tml, rl;
        cdc_tablemap_t *t = NULL;
        cdc_rowdec_rows_t r;
        char errstr[256];
        cdc_err_t err = CDC_ERR_NO_ERROR;
        int n         = 0;
        (void)s;
        tm   = capture_hex(tmhex, &tml);
        rows = capture_hex(rowshex, &rl);
        assert_int_equal(
                cdc_tablemap_parse(tm, tml, 8, &t, errstr, sizeof(errstr)), 0);
        assert_int_equal(cdc_rowdec_rows(CDC_EV_WRITE_ROWS_V1, rows, rl, 8, &r,
                                         errstr, sizeof(errstr)),
                         0);
        while (cdc_rowdec_rows_more(&r) && n < 10) { /* bounded: pre-fix
                                                      * this never ended */
                json_t *b, *a;
                err = row_next_checked(t, &r, NULL, &b, &a, errstr,
                                       sizeof(errstr));
                if (err)
                        break;
                json_decref(b);
                json_decref(a);
                n++;
        }
        assert_int_equal(err, CDC_ERR__BAD_EVENT);
        assert_int_equal(n, 0);
        assert_false(cdc_rowdec_rows_more(&r)); /* the rest is dropped */
        cdc_tablemap_destroy(t);
        free(tm);
        free(rows);
}

/* Issue 8 #6: a rows post-header length of 7 (from a FORMAT_DESCRIPTION)
 * read the flags one byte past a 7-byte body. Only the lengths servers
 * write are accepted (ASan checks the rest: exact-size buffers). */
static void test_rows_post_header_len(void **s) {
        static const char hex[] =
                "0000871f002a0000000000010009666f6c6c6f776364630006666f6c6c6f"
                "7700010800002a000000000001";
        uint8_t *tm, *rows;
        size_t tml, rl;
        cdc_rowdec_rows_t r;
        uint64_t id;
        char errstr[256];
        unsigned phl;
        (void)s;
        split_input(hex, &tm, &tml, &rows, &rl);
        for (phl = 0; phl < 16; phl++) {
                cdc_err_t e1 = cdc_rowdec_rows(CDC_EV_WRITE_ROWS_V1, rows, rl,
                                               phl, &r, errstr, sizeof(errstr));
                cdc_err_t e2 = cdc_rowdec_rows(CDC_EV_WRITE_ROWS_V2, rows, rl,
                                               phl, &r, errstr, sizeof(errstr));
                assert_int_equal(e1, CDC_ERR__BAD_EVENT); /* 7 bytes */
                assert_int_equal(e2, CDC_ERR__BAD_EVENT);
                if (phl != 6 && phl != 8 && phl != 10)
                        assert_int_equal(
                                cdc_rowdec_rows_table_id(rows, rl, phl, &id),
                                CDC_ERR__BAD_EVENT);
        }
        free(tm);
        free(rows);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_ints),
                cmocka_unit_test(test_ints_minimal),
                cmocka_unit_test(test_numeric),
                cmocka_unit_test(test_strings),
                cmocka_unit_test(test_temporal),
                cmocka_unit_test(test_follow),
                cmocka_unit_test(test_truncated),
                cmocka_unit_test(test_garbage),
                cmocka_unit_test(test_v2_header),
                cmocka_unit_test(test_datetime_past_9999),
                cmocka_unit_test(test_row_consumes_nothing),
                cmocka_unit_test(test_rows_post_header_len),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
