/* Unit tests of common/cdc_log: one line per event, levels, debug contexts. */
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

/* Capture what cdc_log writes to stderr. */
static char captured[8192];
static void capture(void (*fn)(void)) {
        char path[] = "/tmp/cdc_log_test_XXXXXX";
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

static void log_some(void) {
        cdc_log_set_level(LOG_NOTICE);
        cdc_log(LOG_INFO, "TEST", "hidden %d", 1);
        cdc_log(LOG_WARNING, "RSINK", "127.0.0.1:%d: down\nretry", 6379);
        cdc_log_r(LOG_ERR, CDC_ERR__TRANSPORT, "KPROD", "produce");
        cdc_dbg(BINLOG, "BINLOG", "not on");
}

static void test_levels_and_format(void **state) {
        (void)state;
        capture(log_some);
        assert_null(strstr(captured, "hidden"));
        assert_null(strstr(captured, "not on"));
        /* the embedded newline is flattened: one event, one line */
        assert_non_null(strstr(captured,
                               "Z WARNING RSINK 127.0.0.1:6379: down retry\n"));
        assert_non_null(strstr(
                captured, "Z ERR KPROD produce: Local: connection lost\n"));
        assert_int_equal(captured[4], '-');
        assert_int_equal(captured[10], 'T');
}

static void log_debug(void) {
        char errstr[64];
        assert_int_equal(
                cdc_log_set_debug("rsink,binlog", errstr, sizeof(errstr)), 0);
        cdc_dbg(BINLOG, "BINLOG", "now on");
        cdc_dbg(KPROD, "KPROD", "still off");
}

static void test_debug_contexts(void **state) {
        char errstr[64];
        (void)state;
        capture(log_debug);
        assert_non_null(strstr(captured, "DEBUG BINLOG now on"));
        assert_null(strstr(captured, "still off"));
        assert_int_equal(
                cdc_log_set_debug("binlog,bogus", errstr, sizeof(errstr)), -1);
        assert_non_null(strstr(errstr, "bogus"));
        assert_int_equal(cdc_log_level_parse("warning"), LOG_WARNING);
        assert_int_equal(cdc_log_level_parse("loud"), -1);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_levels_and_format),
                cmocka_unit_test(test_debug_contexts),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
