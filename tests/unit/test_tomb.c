/**
 * @file test_tomb.c
 * @brief cdc_tomb_parse: the delete a tombstone carries in its
 *        followcdc.delete header. Headers are untrusted: every refusal has
 *        a reason, nothing but a valid delete event is accepted, and a
 *        tombstone without that header stays a plain tombstone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdc_tomb.h"

#define H CDC_EVENT_TOMBSTONE_HEADER

static char *encode(cdc_op_t op, int ncols, size_t *lenp) {
        cdc_event_t *ev = cdc_event_new(op);
        json_t *row;
        char *s, name[16];
        int i;

        assert_non_null(ev);
        snprintf(ev->source.name, sizeof(ev->source.name), "followcdc");
        snprintf(ev->source.db, sizeof(ev->source.db), "followcdc");
        snprintf(ev->source.table, sizeof(ev->source.table), "follow");
        ev->source.seq = 77;
        ev->source.row = 3;
        row = json_pack("{s:i,s:i,s:i}", "follower_id", 1, "followee_id", 2,
                        "status", 1);
        for (i = 0; i < ncols; i++) {
                snprintf(name, sizeof(name), "c%d", i);
                json_object_set_new(row, name, json_integer(i));
        }
        if (op == CDC_OP_DELETE)
                ev->before = row;
        else
                ev->after = row;
        s = cdc_event_encode(ev, lenp);
        assert_non_null(s);
        cdc_event_destroy(ev);
        return s;
}

/* Parse headers \p names[i] = \p vals[i] (n of them). */
static cdc_err_t run(int n, const char *const *names, const char *const *vals,
                     const size_t *lens, cdc_event_t **evp, int *overp,
                     char *es, size_t esz) {
        rd_kafka_headers_t *h = rd_kafka_headers_new(4);
        cdc_err_t err;
        int i;

        for (i = 0; i < n; i++)
                assert_int_equal(rd_kafka_header_add(h, names[i], -1, vals[i],
                                                     (ssize_t)lens[i]),
                                 0);
        es[0] = '\0';
        err   = cdc_tomb_parse(n ? h : NULL, 4096, 32, evp, overp, es, esz);
        rd_kafka_headers_destroy(h);
        return err;
}

static void test_no_header_is_a_plain_tombstone(void **state) {
        const char *names[] = { "traceparent" }, *vals[] = { "00-abc" };
        size_t lens[]   = { 6 };
        cdc_event_t *ev = (cdc_event_t *)1;
        char es[256];
        int over = 1;
        (void)state;

        assert_int_equal(run(0, NULL, NULL, NULL, &ev, &over, es, sizeof(es)),
                         CDC_ERR_NO_ERROR);
        assert_null(ev);
        assert_int_equal(over, 0);
        ev = (cdc_event_t *)1;
        assert_int_equal(run(1, names, vals, lens, &ev, &over, es, sizeof(es)),
                         CDC_ERR_NO_ERROR);
        assert_null(ev);
}

static void test_delete_header_parsed(void **state) {
        const char *names[] = { "traceparent", H }, *vals[2];
        size_t lens[2];
        cdc_event_t *ev = NULL;
        char es[256], *d = encode(CDC_OP_DELETE, 0, &lens[1]);
        int over = 0;
        (void)state;

        vals[0] = "x", lens[0] = 1;
        vals[1] = d;
        assert_int_equal(run(2, names, vals, lens, &ev, &over, es, sizeof(es)),
                         CDC_ERR_NO_ERROR);
        assert_non_null(ev);
        assert_int_equal(ev->op, CDC_OP_DELETE);
        assert_int_equal(ev->source.seq, 77);
        assert_int_equal(ev->source.row, 3);
        assert_string_equal(ev->source.table, "follow");
        assert_int_equal(
                json_integer_value(json_object_get(ev->before, "follower_id")),
                1);
        cdc_event_destroy(ev);
        free(d);
}

/* Each bad header: refused with a reason naming the header. */
static void test_bad_headers_refused(void **state) {
        size_t dlen, clen, wlen;
        char *d = encode(CDC_OP_DELETE, 0, &dlen);
        char *c = encode(CDC_OP_CREATE, 0, &clen);
        char *w = encode(CDC_OP_DELETE, 40, &wlen); /* 43 columns > 32 */
        const struct {
                int n;
                const char *val[2];
                size_t len[2];
                const char *why;
                int over;
        } cases[] = {
                { 2,
                  { d, d },
                  { dlen, dlen },
                  "2 followcdc.delete headers",
                  0 },
                { 1, { "", NULL }, { 0, 0 }, "is empty", 0 },
                { 1, { "{\"op\":", NULL }, { 6, 0 }, "not JSON", 0 },
                { 1, { "[1,2]", NULL }, { 5, 0 }, "expected an object", 0 },
                { 1, { c, NULL }, { clen, 0 }, "op is c, not d", 0 },
                { 1, { d, NULL }, { dlen - 1, 0 }, "not JSON", 0 },
                { 1, { w, NULL }, { wlen, 0 }, "tombstone header", 1 },
        };
        const char *names[] = { H, H };
        size_t i;
        (void)state;

        for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
                cdc_event_t *ev = NULL;
                char es[512];
                int over      = 0;
                cdc_err_t err = run(cases[i].n, names, cases[i].val,
                                    cases[i].len, &ev, &over, es, sizeof(es));
                if (err != CDC_ERR__BAD_EVENT || ev ||
                    !strstr(es, cases[i].why) ||
                    !strstr(es, "followcdc.delete") || over != cases[i].over)
                        fail_msg("case %zu: err %d, over %d, \"%s\"", i,
                                 (int)err, over, es);
        }
        free(d);
        free(c);
        free(w);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_no_header_is_a_plain_tombstone),
                cmocka_unit_test(test_delete_header_parsed),
                cmocka_unit_test(test_bad_headers_refused),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
