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

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_set_col),
                cmocka_unit_test(test_full_complete),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
