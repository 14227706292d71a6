/*
 * Row image decoding: raw TABLE_MAP / rows events captured from MariaDB
 * (tests/data/binlog/<case>/, see capture.sh there) decoded and compared
 * with hand-written expected.json; then truncated, corrupted and garbage
 * input that must be rejected without crashing.
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
#include "cdc_event.h"
#include "cdc_rowdec.h"

#define DATA CDC_SOURCE_DIR "/tests/data/binlog"

typedef struct ev_s {
        uint8_t *b;
        size_t len;
        int is_map;
} ev_t;

typedef struct capcase_s {
        ev_t ev[32];
        int n;
        int crc;
        char tz[64];
} capcase_t;

static uint8_t *slurp(const char *path, size_t *lenp) {
        FILE *f = fopen(path, "rb");
        uint8_t *b;
        long n;
        if (!f)
                return NULL;
        fseek(f, 0, SEEK_END);
        n = ftell(f);
        fseek(f, 0, SEEK_SET);
        b = malloc((size_t)n + 1);
        assert_non_null(b);
        assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
        fclose(f);
        b[n]  = 0;
        *lenp = (size_t)n;
        return b;
}

static void case_load(const char *name, capcase_t *c) {
        char path[512];
        size_t len;
        uint8_t *b;
        int i;

        memset(c, 0, sizeof(*c));
        snprintf(path, sizeof(path), "%s/%s/crc", DATA, name);
        b = slurp(path, &len);
        assert_non_null(b);
        c->crc = b[0] == '1';
        free(b);
        snprintf(path, sizeof(path), "%s/%s/tz", DATA, name);
        b = slurp(path, &len);
        snprintf(c->tz, sizeof(c->tz), "%s", "UTC");
        if (b) {
                snprintf(c->tz, sizeof(c->tz), "%.*s",
                         (int)strcspn((char *)b, "\n"), (char *)b);
                free(b);
        }
        for (i = 0; i < 32; i++) {
                snprintf(path, sizeof(path), "%s/%s/%02d-table_map.bin", DATA,
                         name, i);
                b = slurp(path, &len);
                if (b) {
                        c->ev[c->n].b        = b;
                        c->ev[c->n].len      = len;
                        c->ev[c->n++].is_map = 1;
                        continue;
                }
                snprintf(path, sizeof(path), "%s/%s/%02d-rows.bin", DATA, name,
                         i);
                b = slurp(path, &len);
                if (b) {
                        c->ev[c->n].b     = b;
                        c->ev[c->n++].len = len;
                }
        }
        assert_true(c->n >= 2);
}

static void case_free(capcase_t *c) {
        int i;
        for (i = 0; i < c->n; i++)
                free(c->ev[i].b);
}

/* Decodes every event of the case into [{"op","before","after"}...]. */
static cdc_err_t case_decode(capcase_t *c, json_t **outp, char *errstr,
                             size_t esz) {
        cdc_rowdec_table_t *t = NULL;
        cdc_tz_t *tz          = cdc_tz_new(c->tz, errstr, esz);
        json_t *out           = json_array();
        cdc_err_t err         = CDC_ERR_NO_ERROR;
        int i;

        assert_non_null(tz);
        for (i = 0; i < c->n && !err; i++) {
                cdc_rowdec_ev_t ev;
                cdc_rowdec_rows_t r;
                err = cdc_rowdec_event(c->ev[i].b, c->ev[i].len, c->crc, &ev,
                                       errstr, esz);
                if (err)
                        break;
                if (c->ev[i].is_map) {
                        cdc_rowdec_table_destroy(t);
                        t   = NULL;
                        err = cdc_rowdec_table_map(ev.body, ev.body_len, 8, &t,
                                                   errstr, esz);
                        continue;
                }
                assert_non_null(t);
                err = cdc_rowdec_rows(ev.type, ev.body, ev.body_len, 8, &r,
                                      errstr, esz);
                while (!err && cdc_rowdec_rows_more(&r)) {
                        json_t *b, *a;
                        char op[2] = { r.op, 0 };
                        err = cdc_rowdec_row_next(t, &r, tz, &b, &a, errstr,
                                                  esz);
                        if (err)
                                break;
                        json_array_append_new(
                                out, json_pack("{s:s,s:o,s:o}", "op", op,
                                               "before", b ? b : json_null(),
                                               "after", a ? a : json_null()));
                }
        }
        cdc_rowdec_table_destroy(t);
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

        case_load(name, &c);
        err = case_decode(&c, &got, errstr, sizeof(errstr));
        if (err)
                fail_msg("%s: %s", name, errstr);
        snprintf(path, sizeof(path), "%s/%s/expected.json", DATA, name);
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
        case_free(&c);
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

static const char *const all_cases[] = { "ints",    "ints_minimal", "numeric",
                                         "strings", "temporal",     "follow" };

/* Decodes a rows body (no framing) with table t; errors are fine. */
static int decode_body(const cdc_rowdec_table_t *t, uint8_t type,
                       const uint8_t *body, size_t len, unsigned phl,
                       const cdc_tz_t *tz) {
        cdc_rowdec_rows_t r;
        char errstr[256];
        int rows = 0;
        if (cdc_rowdec_rows(type, body, len, phl, &r, errstr, sizeof(errstr)))
                return -1;
        while (cdc_rowdec_rows_more(&r)) {
                json_t *b, *a;
                if (cdc_rowdec_row_next(t, &r, tz, &b, &a, errstr,
                                        sizeof(errstr)))
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
        for (k = 0; k < sizeof(all_cases) / sizeof(all_cases[0]); k++) {
                capcase_t c;
                cdc_rowdec_table_t *t = NULL;
                int i;
                case_load(all_cases[k], &c);
                for (i = 0; i < c.n; i++) {
                        size_t body_len = c.ev[i].len - 19 - (c.crc ? 4 : 0);
                        const uint8_t *body = c.ev[i].b + 19;
                        size_t l;
                        if (c.ev[i].is_map) {
                                for (l = 0; l < body_len; l++) {
                                        /* exact-size copies so ASan sees
                                         * any overread */
                                        uint8_t *cp = malloc(l ? l : 1);
                                        cdc_rowdec_table_t *tt = NULL;
                                        memcpy(cp, body, l);
                                        cdc_rowdec_table_map(cp, l, 8, &tt,
                                                             errstr,
                                                             sizeof(errstr));
                                        cdc_rowdec_table_destroy(tt);
                                        free(cp);
                                }
                                cdc_rowdec_table_destroy(t);
                                t = NULL;
                                assert_int_equal(
                                        cdc_rowdec_table_map(body, body_len, 8,
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
                cdc_rowdec_table_destroy(t);
                case_free(&c);
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
        for (k = 0; k < sizeof(all_cases) / sizeof(all_cases[0]); k++) {
                capcase_t c;
                cdc_rowdec_table_t *t = NULL;
                int i, it;
                case_load(all_cases[k], &c);
                for (i = 0; i < c.n; i++) {
                        size_t body_len = c.ev[i].len - 19 - (c.crc ? 4 : 0);
                        const uint8_t *body = c.ev[i].b + 19;
                        if (c.ev[i].is_map) {
                                cdc_rowdec_table_destroy(t);
                                t = NULL;
                                assert_int_equal(
                                        cdc_rowdec_table_map(body, body_len, 8,
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
                                        cdc_rowdec_table_t *tt = NULL;
                                        if (!cdc_rowdec_table_map(
                                                    cp, body_len, 8, &tt,
                                                    errstr, sizeof(errstr)))
                                                /* a mangled map decoding
                                                 * the real rows */
                                                decode_body(
                                                        tt, c.ev[i + 1].b[4],
                                                        c.ev[i + 1].b + 19,
                                                        c.ev[i + 1].len - 19 -
                                                                (c.crc ? 4 : 0),
                                                        8, tz);
                                        cdc_rowdec_table_destroy(tt);
                                } else {
                                        decode_body(t, c.ev[i].b[4], cp,
                                                    body_len, 8, tz);
                                }
                                free(cp);
                        }
                }
                cdc_rowdec_table_destroy(t);
                case_free(&c);
        }
        for (k = 0; k < 2000; k++) { /* pure garbage */
                size_t l               = rnd() % 200, j;
                uint8_t *g             = malloc(l ? l : 1);
                cdc_rowdec_table_t *tt = NULL;
                cdc_rowdec_ev_t ev;
                for (j = 0; j < l; j++)
                        g[j] = (uint8_t)rnd();
                cdc_rowdec_event(g, l, (int)(k & 1), &ev, errstr,
                                 sizeof(errstr));
                if (!cdc_rowdec_table_map(g, l, 8, &tt, errstr, sizeof(errstr)))
                        decode_body(tt, (uint8_t)(23 + k % 3), g, l, 8, tz);
                cdc_rowdec_table_destroy(tt);
                free(g);
        }
        cdc_tz_destroy(tz);
}

static void test_framing(void **s) {
        capcase_t c;
        cdc_rowdec_ev_t ev;
        char errstr[256];
        uint8_t *cp;
        (void)s;
        case_load("ints", &c);
        assert_true(c.crc);
        assert_int_equal(cdc_rowdec_event(c.ev[1].b, c.ev[1].len, 1, &ev,
                                          errstr, sizeof(errstr)),
                         CDC_ERR_NO_ERROR);
        assert_int_equal(ev.type, CDC_EV_WRITE_ROWS_V1);
        assert_int_equal(ev.body_len, c.ev[1].len - 23);
        assert_int_equal(cdc_rowdec_crc_ok(c.ev[1].b, c.ev[1].len), 1);
        /* one flipped bit: CRC mismatch */
        cp = malloc(c.ev[1].len);
        memcpy(cp, c.ev[1].b, c.ev[1].len);
        cp[30] ^= 0x10;
        assert_int_equal(cdc_rowdec_event(cp, c.ev[1].len, 1, &ev, errstr,
                                          sizeof(errstr)),
                         CDC_ERR__BAD_EVENT);
        assert_non_null(strstr(errstr, "CRC32"));
        /* length in the header disagrees with the packet */
        assert_int_equal(cdc_rowdec_event(c.ev[1].b, c.ev[1].len - 1, 1, &ev,
                                          errstr, sizeof(errstr)),
                         CDC_ERR__BAD_EVENT);
        assert_int_equal(
                cdc_rowdec_event(c.ev[1].b, 10, 0, &ev, errstr, sizeof(errstr)),
                CDC_ERR__BAD_EVENT);
        free(cp);
        case_free(&c);
}

/* MySQL 8 writes v2 rows events: same rows after a 2-byte extra-info
 * length (here with 3 bytes of extra info). */
static void test_v2_header(void **s) {
        capcase_t c;
        cdc_rowdec_ev_t ev;
        cdc_rowdec_table_t *t = NULL;
        cdc_rowdec_rows_t r1, r2;
        char errstr[256];
        uint8_t *v2;
        size_t blen;
        cdc_tz_t *tz = cdc_tz_new("UTC", errstr, sizeof(errstr));
        (void)s;
        case_load("follow", &c);
        assert_int_equal(cdc_rowdec_event(c.ev[0].b, c.ev[0].len, c.crc, &ev,
                                          errstr, sizeof(errstr)),
                         0);
        assert_int_equal(cdc_rowdec_table_map(ev.body, ev.body_len, 8, &t,
                                              errstr, sizeof(errstr)),
                         0);
        assert_int_equal(cdc_rowdec_event(c.ev[3].b, c.ev[3].len, c.crc, &ev,
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
                assert_int_equal(cdc_rowdec_row_next(t, &r1, tz, &b1, &a1,
                                                     errstr, sizeof(errstr)),
                                 0);
                assert_int_equal(cdc_rowdec_row_next(t, &r2, tz, &b2, &a2,
                                                     errstr, sizeof(errstr)),
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
        cdc_rowdec_table_destroy(t);
        cdc_tz_destroy(tz);
        case_free(&c);
}

static void test_decimal(void **s) {
        char out[80];
        /* DECIMAL(5,2) 123.45: intg 3 digits (2 bytes), frac 2 (1 byte);
         * sign bit set for positive */
        const uint8_t pos[] = { 0x80, 0x7b, 0x2d };
        const uint8_t neg[] = { 0x7f, 0x84, 0xd2 };
        (void)s;
        assert_int_equal(cdc_rowdec_decimal(pos, 3, 5, 2, out, sizeof(out)), 3);
        assert_string_equal(out, "123.45");
        assert_int_equal(cdc_rowdec_decimal(neg, 3, 5, 2, out, sizeof(out)), 3);
        assert_string_equal(out, "-123.45");
        assert_int_equal(cdc_rowdec_decimal(pos, 2, 5, 2, out, sizeof(out)),
                         -1);
        assert_int_equal(cdc_rowdec_decimal(pos, 3, 0, 0, out, sizeof(out)),
                         -1);
        assert_int_equal(cdc_rowdec_decimal(pos, 3, 66, 2, out, sizeof(out)),
                         -1);
        assert_int_equal(cdc_rowdec_decimal(pos, 3, 5, 6, out, sizeof(out)),
                         -1);
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

/* Columns named from information_schema when the map has no names. */
/* FULL metadata of a table without text or ENUM/SET columns: complete
 * without charset / label fields (no information_schema lookup). */
static void test_full_complete(void **s) {
        capcase_t c;
        cdc_rowdec_ev_t ev;
        cdc_rowdec_table_t *t = NULL;
        char errstr[256];
        (void)s;
        case_load("follow", &c);
        assert_int_equal(cdc_rowdec_event(c.ev[0].b, c.ev[0].len, c.crc, &ev,
                                          errstr, sizeof(errstr)),
                         0);
        assert_int_equal(cdc_rowdec_table_map(ev.body, ev.body_len, 8, &t,
                                              errstr, sizeof(errstr)),
                         0);
        assert_true(t->has_names && t->has_sign && t->has_charset &&
                    t->has_labels);
        cdc_rowdec_table_destroy(t);
        case_free(&c);
        case_load("strings", &c);
        assert_int_equal(cdc_rowdec_event(c.ev[0].b, c.ev[0].len, c.crc, &ev,
                                          errstr, sizeof(errstr)),
                         0);
        assert_int_equal(cdc_rowdec_table_map(ev.body, ev.body_len, 8, &t,
                                              errstr, sizeof(errstr)),
                         0);
        assert_true(t->has_names && t->has_sign && t->has_charset &&
                    t->has_labels);
        assert_int_equal(t->cols[9].label_cnt, 3);
        assert_string_equal(t->cols[9].labels[2], "c d");
        cdc_rowdec_table_destroy(t);
        case_free(&c);
}

static void test_set_col(void **s) {
        capcase_t c;
        cdc_rowdec_ev_t ev;
        cdc_rowdec_table_t *t = NULL;
        char errstr[256];
        (void)s;
        case_load("ints_minimal", &c);
        assert_int_equal(cdc_rowdec_event(c.ev[0].b, c.ev[0].len, c.crc, &ev,
                                          errstr, sizeof(errstr)),
                         0);
        assert_int_equal(cdc_rowdec_table_map(ev.body, ev.body_len, 8, &t,
                                              errstr, sizeof(errstr)),
                         0);
        assert_false(t->has_names);
        assert_true(t->has_sign); /* MINIMAL keeps signedness */
        assert_int_equal(t->ncols, 11);
        assert_int_equal(cdc_rowdec_table_set_col(t, 0, "id", 0, 0, NULL, 0),
                         0);
        assert_string_equal(t->cols[0].name, "id");
        assert_int_equal(cdc_rowdec_table_set_col(t, 11, "x", 0, 0, NULL, 0),
                         -1);
        assert_int_equal(t->cols[2].is_unsigned, 1);
        assert_int_equal(t->cols[1].is_unsigned, 0);
        cdc_rowdec_table_destroy(t);
        case_free(&c);
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
        assert_int_equal(cdc_rowdec_mysql_json(b, len, &txt, &tl), 0);
        assert_string_equal(txt, want);
        assert_int_equal(tl, strlen(want));
        free(txt);
        for (l = 0; l < len; l++) { /* every prefix: no overread */
                uint8_t *cp = malloc(l ? l : 1);
                memcpy(cp, b, l);
                if (cdc_rowdec_mysql_json(cp, l, &txt, &tl) == 0)
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
        assert_int_equal(cdc_rowdec_mysql_json(NULL, 0, &txt, &tl), 0);
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
        assert_int_equal(cdc_rowdec_mysql_json(deep, sizeof(deep), &txt, &tl),
                         -1);
        /* an offset pointing outside the container */
        {
                uint8_t bad[sizeof(mj1)];
                memcpy(bad, mj1, sizeof(bad));
                bad[16] = 0xff; /* value entry of "b": offset */
                assert_int_equal(
                        cdc_rowdec_mysql_json(bad, sizeof(bad), &txt, &tl), -1);
        }
        for (i = 0; i < 3000; i++) { /* random changes */
                uint8_t m[sizeof(mj2)];
                memcpy(m, mj2, sizeof(m));
                m[rnd() % sizeof(m)] = (uint8_t)rnd();
                m[rnd() % sizeof(m)] = (uint8_t)rnd();
                if (cdc_rowdec_mysql_json(m, sizeof(m), &txt, &tl) == 0)
                        free(txt);
        }
}

/* The fast instant formatter agrees with cdc_time_format_us. */
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
                assert_int_equal(
                        cdc_rowdec_format_instant(a, sizeof(a), fixed[i]), 27);
                assert_int_equal(cdc_time_format_us(b, sizeof(b), fixed[i]),
                                 27);
                assert_string_equal(a, b);
        }
        for (i = 0; i < 200000; i++) {
                v = (int64_t)((((uint64_t)rnd() << 40) ^
                               ((uint64_t)rnd() << 16) ^ rnd()) %
                              253402300800000000ULL);
                if (i & 1)
                        v = -(v % 62167219200000000LL);
                assert_int_equal(cdc_rowdec_format_instant(a, sizeof(a), v),
                                 27);
                assert_int_equal(cdc_time_format_us(b, sizeof(b), v), 27);
                if (strcmp(a, b))
                        fail_msg("%lld: %s != %s", (long long)v, a, b);
        }
        assert_int_equal(
                cdc_rowdec_format_instant(a, sizeof(a), 253402300800000000LL),
                -1);
        assert_int_equal(cdc_rowdec_format_instant(a, 20, 0), -1);
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
                assert_int_equal(
                        cdc_rowdec_format_instant(buf, sizeof(buf),
                                                  d * 86400 * 1000000LL),
                        27);
                assert_memory_equal(buf, v[i].text, 10);
        }
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
                cmocka_unit_test(test_framing),
                cmocka_unit_test(test_v2_header),
                cmocka_unit_test(test_decimal),
                cmocka_unit_test(test_tz),
                cmocka_unit_test(test_set_col),
                cmocka_unit_test(test_full_complete),
                cmocka_unit_test(test_format_instant),
                cmocka_unit_test(test_days_from_civil),
                cmocka_unit_test(test_mysql_json),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
