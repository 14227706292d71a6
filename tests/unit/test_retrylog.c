/* Unit tests of common/cdc_retrylog: the first failure and the recovery
 * are logged loud, retries in between at debug only, and a summary once
 * per period while failing. Time is passed in: no sleeping. */
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
#include "cdc_retrylog.h"

/* Capture what cdc_log writes to stderr while \p fn runs. */
static char captured[16384];
static void capture(void (*fn)(void)) {
        char path[] = "/tmp/cdc_retrylog_test_XXXXXX";
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
        const char *p = captured;
        int n         = 0;
        while ((p = strstr(p, needle))) {
                n++;
                p++;
        }
        return n;
}

#define S 1000000LL

/* 100 failures over 99 s, one a second, then a success */
static void outage(void) {
        cdc_retrylog_t rl;
        int64_t t;
        int first = 0;

        cdc_log_set_level(LOG_DEBUG);
        cdc_retrylog_init(&rl, "TEST", "redis", CDC_DBG_RSINK, 30000);
        assert_int_equal(cdc_retrylog_ok(&rl, 0), 0); /* nothing to end */
        for (t = 0; t < 100; t++)
                first += cdc_retrylog_fail(&rl, 1000 * S + t * S, 1000,
                                           "connection refused %d", (int)t);
        assert_int_equal(first, 1);
        assert_true(cdc_retrylog_failing(&rl));
        assert_int_equal(cdc_retrylog_ok(&rl, 1100 * S), 1);
        assert_false(cdc_retrylog_failing(&rl));
        assert_int_equal(cdc_retrylog_ok(&rl, 1101 * S), 0);
        /* a new outage is a new first failure */
        assert_int_equal(cdc_retrylog_fail(&rl, 1200 * S, -1, "again"), 1);
}

static void test_outage_quiet_retries(void **state) {
        char errstr[64];
        (void)state;

        /* debug off: no line per retry */
        assert_int_equal(cdc_log_set_debug("", errstr, sizeof(errstr)), 0);
        capture(outage);
        assert_int_equal(count("WARNING TEST redis failed: connection refused "
                               "0; retrying with backoff"),
                         1);
        /* summaries at 30, 60, 90 s, each with the last error */
        assert_int_equal(count("WARNING TEST redis still failing"), 3);
        assert_non_null(strstr(captured, "30 attempt(s) in the last 30s, 31 "
                                         "in 30s since the first; last error: "
                                         "connection refused 30"));
        assert_int_equal(count("NOTICE TEST redis recovered after 100 failed "
                               "attempt(s) in 100.000s"),
                         1);
        assert_int_equal(count("DEBUG"), 0);
        assert_int_equal(count("WARNING TEST redis failed: again"), 1);
        assert_int_equal(count("\n"), 6);
}

static void test_outage_debug_retries(void **state) {
        char errstr[64];
        (void)state;

        assert_int_equal(cdc_log_set_debug("rsink", errstr, sizeof(errstr)), 0);
        capture(outage);
        /* 100 attempts: the first and 3 summaries loud, the rest debug */
        assert_int_equal(count("DEBUG TEST redis attempt "), 96);
        assert_non_null(strstr(captured, "DEBUG TEST redis attempt 2 failed: "
                                         "connection refused 1; retry in "
                                         "1000ms"));
        assert_int_equal(cdc_log_set_debug("", errstr, sizeof(errstr)), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_outage_quiet_retries),
                cmocka_unit_test(test_outage_debug_retries),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
