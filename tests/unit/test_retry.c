/* Unit tests of common/cdc_retry: a failure streak logs its first failure
 * and its recovery, retries only at debug level, and one summary per
 * interval while it lasts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "cdc_log.h"
#include "cdc_retry.h"

static char captured[16384];
static void capture(void (*fn)(void)) {
        char path[] = "/tmp/cdc_retry_test_XXXXXX";
        int fd = mkstemp(path), saved = dup(STDERR_FILENO);
        ssize_t n;
        dup2(fd, STDERR_FILENO);
        fn();
        dup2(saved, STDERR_FILENO);
        close(saved);
        lseek(fd, 0, SEEK_SET);
        n                       = read(fd, captured, sizeof(captured) - 1);
        captured[n > 0 ? n : 0] = '\0';
        close(fd);
        unlink(path);
}

static int count(const char *needle) {
        int n         = 0;
        const char *p = captured;
        while ((p = strstr(p, needle)) != NULL) {
                n++;
                p += strlen(needle);
        }
        return n;
}

/* 100 failures one second apart, summarised every 30 s, then success */
static void streak(void) {
        cdc_retry_t rt;
        int64_t t = 1000000;
        int i;

        cdc_retry_init(&rt, "TEST", CDC_DBG_BINLOG, "MySQL db1:3306", 30000);
        assert_int_equal(cdc_retry_ok(&rt, t), 0); /* nothing to recover */
        for (i = 0; i < 100; i++, t += 1000000)
                assert_int_equal(cdc_retry_fail(&rt, t, 1000, "refused %d", i),
                                 i == 0);
        assert_int_equal(cdc_retry_failing(&rt), 100);
        assert_string_equal(cdc_retry_reason(&rt), "refused 99");
        assert_int_equal(cdc_retry_ok(&rt, t), 1);
        assert_int_equal(cdc_retry_failing(&rt), 0);
        assert_int_equal(cdc_retry_ok(&rt, t), 0);
}

static void test_streak_without_debug(void **state) {
        char es[64];
        (void)state;
        assert_int_equal(cdc_log_set_debug("", es, sizeof(es)), 0);
        cdc_log_set_level(LOG_NOTICE);
        capture(streak);
        assert_int_equal(
                count("WARNING TEST MySQL db1:3306: refused 0; retrying in "
                      "1000ms\n"),
                1);
        /* t = 31 s, 61 s, 91 s after the first failure */
        assert_int_equal(count("still failing after"), 3);
        assert_non_null(strstr(captured, "still failing after 31 attempts in "
                                         "30s: refused 30\n"));
        assert_int_equal(count("DEBUG"), 0);
        assert_non_null(strstr(captured, "NOTICE TEST MySQL db1:3306: "
                                         "recovered after 100 failed "
                                         "attempts (100s)\n"));
        /* 1 first + 3 summaries + 1 recovery: not one line per retry */
        assert_int_equal(count("\n"), 5);
}

static void test_streak_with_debug(void **state) {
        char es[64];
        (void)state;
        assert_int_equal(cdc_log_set_debug("binlog", es, sizeof(es)), 0);
        capture(streak);
        assert_int_equal(count("DEBUG TEST MySQL db1:3306: refused"), 99);
        assert_non_null(strstr(captured, "refused 1; retry 2 in 1000ms\n"));
        assert_int_equal(cdc_log_set_debug("", es, sizeof(es)), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_streak_without_debug),
                cmocka_unit_test(test_streak_with_debug),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
