/* The JSON of column values (cdc_value): packed DECIMAL, ... */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "cdc_value.h"

static void test_decimal(void **s) {
        char out[80];
        /* DECIMAL(5,2) 123.45: intg 3 digits (2 bytes), frac 2 (1 byte);
         * sign bit set for positive */
        const uint8_t pos[] = { 0x80, 0x7b, 0x2d };
        const uint8_t neg[] = { 0x7f, 0x84, 0xd2 };
        (void)s;
        assert_int_equal(cdc_value_decimal(pos, 3, 5, 2, out, sizeof(out)), 3);
        assert_string_equal(out, "123.45");
        assert_int_equal(cdc_value_decimal(neg, 3, 5, 2, out, sizeof(out)), 3);
        assert_string_equal(out, "-123.45");
        assert_int_equal(cdc_value_decimal(pos, 2, 5, 2, out, sizeof(out)), -1);
        assert_int_equal(cdc_value_decimal(pos, 3, 0, 0, out, sizeof(out)), -1);
        assert_int_equal(cdc_value_decimal(pos, 3, 66, 2, out, sizeof(out)),
                         -1);
        assert_int_equal(cdc_value_decimal(pos, 3, 5, 6, out, sizeof(out)), -1);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_decimal),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
