/* Binlog event framing (cdc_frame): header, CRC32, FORMAT_DESCRIPTION. */
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

static void test_framing(void **s) {
        capcase_t c;
        cdc_frame_t ev;
        char errstr[256];
        uint8_t *cp;
        (void)s;
        capture_load("ints", &c);
        assert_true(c.crc);
        assert_int_equal(cdc_frame_parse(c.ev[1].b, c.ev[1].len, 1, &ev, errstr,
                                         sizeof(errstr)),
                         CDC_ERR_NO_ERROR);
        assert_int_equal(ev.type, CDC_EV_WRITE_ROWS_V1);
        assert_int_equal(ev.body_len, c.ev[1].len - 23);
        assert_int_equal(cdc_frame_crc_ok(c.ev[1].b, c.ev[1].len), 1);
        /* one flipped bit: CRC mismatch */
        cp = malloc(c.ev[1].len);
        memcpy(cp, c.ev[1].b, c.ev[1].len);
        cp[30] ^= 0x10;
        assert_int_equal(cdc_frame_parse(cp, c.ev[1].len, 1, &ev, errstr,
                                         sizeof(errstr)),
                         CDC_ERR__BAD_EVENT);
        assert_non_null(strstr(errstr, "CRC32"));
        /* length in the header disagrees with the packet */
        assert_int_equal(cdc_frame_parse(c.ev[1].b, c.ev[1].len - 1, 1, &ev,
                                         errstr, sizeof(errstr)),
                         CDC_ERR__BAD_EVENT);
        assert_int_equal(
                cdc_frame_parse(c.ev[1].b, 10, 0, &ev, errstr, sizeof(errstr)),
                CDC_ERR__BAD_EVENT);
        free(cp);
        capture_free(&c);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_framing),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
