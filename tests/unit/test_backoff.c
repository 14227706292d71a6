/* Unit tests of common/cdc_backoff: pure function of now, no sleeping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cdc_backoff.h"

static void test_backoff_doubles_then_caps(void **state) {
        cdc_backoff_t *bo = cdc_backoff_new(10, 90);
        int64_t now       = 1000000;
        int i;
        (void)state;
        assert_non_null(bo);
        cdc_backoff_seed(bo, 42);
        assert_in_range(cdc_backoff_next_ms(bo, now), 7, 15);
        assert_in_range(cdc_backoff_next_ms(bo, now), 15, 30);
        assert_in_range(cdc_backoff_next_ms(bo, now), 30, 60);
        assert_in_range(cdc_backoff_next_ms(bo, now), 60, 120);
        for (i = 0; i < 50; i++) /* capped at max + 50% jitter */
                assert_in_range(cdc_backoff_next_ms(bo, now), 67, 135);
        cdc_backoff_destroy(bo);
}

static void test_backoff_resets_after_quiet(void **state) {
        cdc_backoff_t *bo = cdc_backoff_new(100, 1000);
        int64_t now       = 1000000;
        int i;
        (void)state;
        for (i = 0; i < 10; i++)
                cdc_backoff_next_ms(bo, now);
        assert_true(cdc_backoff_next_ms(bo, now) >= 750);
        /* quiet for more than 4 x max: back to base */
        now += 5 * 1000 * 1000;
        assert_in_range(cdc_backoff_next_ms(bo, now), 75, 150);
        for (i = 0; i < 10; i++)
                cdc_backoff_next_ms(bo, now);
        cdc_backoff_reset(bo);
        assert_in_range(cdc_backoff_next_ms(bo, now), 75, 150);
        cdc_backoff_destroy(bo);
        cdc_backoff_destroy(NULL);
}

static void test_backoff_jitter_spreads(void **state) {
        int seen_low = 0, seen_high = 0, i;
        (void)state;
        for (i = 0; i < 200; i++) {
                cdc_backoff_t *bo = cdc_backoff_new(1000, 1000);
                int ms;
                cdc_backoff_seed(bo, (uint64_t)i + 1);
                ms = cdc_backoff_next_ms(bo, 1);
                assert_in_range(ms, 750, 1500);
                seen_low |= ms < 900;
                seen_high |= ms > 1300;
                cdc_backoff_destroy(bo);
        }
        assert_true(seen_low && seen_high);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_backoff_doubles_then_caps),
                cmocka_unit_test(test_backoff_resets_after_quiet),
                cmocka_unit_test(test_backoff_jitter_spreads),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
