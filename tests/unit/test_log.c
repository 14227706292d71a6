/* Unit tests of common/cdc_log: one line per event, levels, debug contexts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>

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

static void log_json(void) {
        cdc_log_set_level(LOG_NOTICE);
        cdc_log_set_format(CDC_LOG_FORMAT_JSON);
        cdc_log(LOG_WARNING, "RSINK", "quote \" back\\slash\nnew\tline %s",
                "\x01\x7f");
        cdc_log(LOG_NOTICE, "BINLOG", "bad utf-8 \xff\xc3( ok \xc3\xa9 %d", 7);
        cdc_log_r(LOG_ERR, CDC_ERR__TRANSPORT, "KPROD", "produce");
        cdc_log(LOG_INFO, "TEST", "hidden");
        cdc_log_set_format(CDC_LOG_FORMAT_TEXT);
}

/* log.format=json: one valid JSON object per line, with time, level,
 * facility and message; whatever the message holds. */
static void test_json_format(void **state) {
        char *line, *save = NULL;
        json_t *o[3];
        json_error_t jerr;
        int n = 0;
        (void)state;

        capture(log_json);
        for (line = strtok_r(captured, "\n", &save); line;
             line = strtok_r(NULL, "\n", &save)) {
                assert_true(n < 3);
                o[n] = json_loads(line, JSON_REJECT_DUPLICATES, &jerr);
                if (!o[n])
                        fail_msg("not JSON: %s (%s)", line, jerr.text);
                assert_true(json_is_string(json_object_get(o[n], "time")));
                n++;
        }
        assert_int_equal(n, 3);
        assert_string_equal(json_string_value(json_object_get(o[0], "level")),
                            "warning");
        assert_string_equal(
                json_string_value(json_object_get(o[0], "facility")), "RSINK");
        assert_string_equal(json_string_value(json_object_get(o[0], "message")),
                            "quote \" back\\slash\nnew\tline \x01\x7f");
        /* bytes that are not UTF-8 become U+FFFD, valid ones stay */
        assert_string_equal(json_string_value(json_object_get(o[1], "message")),
                            "bad utf-8 \xef\xbf\xbd\xef\xbf\xbd( ok "
                            "\xc3\xa9 7");
        assert_string_equal(json_string_value(json_object_get(o[2], "message")),
                            "produce: Local: connection lost");
        assert_string_equal(json_string_value(json_object_get(o[2], "level")),
                            "err");
        json_decref(o[0]);
        json_decref(o[1]);
        json_decref(o[2]);
}

/* A long message is cut, and the line stays one valid object. */
static void log_json_long(void) {
        static char big[3 * CDC_LOG_LINE_MAX];
        memset(big, '"', sizeof(big) - 1);
        cdc_log_set_format(CDC_LOG_FORMAT_JSON);
        cdc_log(LOG_ERR, "T", "%s", big);
        cdc_log_set_format(CDC_LOG_FORMAT_TEXT);
}

static void test_json_long_line(void **state) {
        json_error_t jerr;
        json_t *o;
        (void)state;
        capture(log_json_long);
        assert_non_null(strchr(captured, '\n'));
        assert_null(strchr(strchr(captured, '\n') + 1, '\n'));
        o = json_loads(captured, 0, &jerr);
        if (!o)
                fail_msg("not JSON: %s", jerr.text);
        assert_true(strlen(json_string_value(json_object_get(o, "message"))) >
                    100);
        json_decref(o);
}

/* librdkafka's threads log too: lines from threads never interleave. */
#define LT_THREADS 4
#define LT_LINES   200
static void *log_thread(void *arg) {
        int i, t = (int)(intptr_t)arg;
        for (i = 0; i < LT_LINES; i++)
                cdc_log(LOG_NOTICE, "THREAD", "thread %d line %d %0300d", t, i,
                        0);
        return NULL;
}

static void test_threads_one_write_per_line(void **state) {
        char path[] = "/tmp/cdc_log_thr_XXXXXX";
        pthread_t th[LT_THREADS];
        int fd = mkstemp(path), i, lines = 0;
        static char all[LT_THREADS * LT_LINES * 512];
        char *line, *save = NULL;
        ssize_t n;
        (void)state;

        assert_true(fd >= 0);
        cdc_log_set_level(LOG_NOTICE);
        cdc_log_set_format(CDC_LOG_FORMAT_JSON);
        cdc_log_set_fd(fd);
        for (i = 0; i < LT_THREADS; i++)
                assert_int_equal(pthread_create(&th[i], NULL, log_thread,
                                                (void *)(intptr_t)i),
                                 0);
        for (i = 0; i < LT_THREADS; i++)
                pthread_join(th[i], NULL);
        cdc_log_set_fd(-1);
        cdc_log_set_format(CDC_LOG_FORMAT_TEXT);
        lseek(fd, 0, SEEK_SET);
        n = read(fd, all, sizeof(all) - 1);
        assert_true(n > 0);
        all[n] = '\0';
        close(fd);
        unlink(path);
        for (line = strtok_r(all, "\n", &save); line;
             line = strtok_r(NULL, "\n", &save)) {
                json_t *o = json_loads(line, 0, NULL);
                if (!o)
                        fail_msg("line %d is not one object: %.80s", lines,
                                 line);
                json_decref(o);
                lines++;
        }
        assert_int_equal(lines, LT_THREADS * LT_LINES);
}

/* Read a whole small file into buf. */
static void slurp(const char *path, char *buf, size_t size) {
        FILE *f = fopen(path, "r");
        size_t n;
        assert_non_null(f);
        n      = fread(buf, 1, size - 1, f);
        buf[n] = '\0';
        fclose(f);
}

/* log.file: SIGHUP without a file is a no-op; with one, a rotated file
 * (renamed away) is reopened at its path, the old one keeps its lines.
 * Runs last: the log file is process-wide. */
static void test_log_file_reopen_on_sighup(void **state) {
        char dir[] = "/tmp/cdc_log_file_XXXXXX", path[128], old[160];
        char buf[4096], why[256];
        unsigned long n0;
        int i;
        (void)state;

        assert_null(cdc_log_file());
        assert_int_equal(cdc_log_reopen(why, sizeof(why)), 0);
        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/no/such/dir.log", dir);
        assert_int_equal(cdc_log_open_file(path, why, sizeof(why)), -1);
        assert_non_null(strstr(why, "log.file: "));
        snprintf(path, sizeof(path), "%s/cdc.log", dir);
        snprintf(old, sizeof(old), "%s/cdc.log.1", dir);
        assert_int_equal(cdc_log_open_file(path, why, sizeof(why)), 0);
        assert_string_equal(cdc_log_file(), path);
        cdc_log_set_level(LOG_NOTICE);
        cdc_log(LOG_NOTICE, "TEST", "before rotation");

        /* logrotate: rename, then SIGHUP to the process (not a thread) */
        assert_int_equal(rename(path, old), 0);
        assert_int_equal(cdc_log_sighup_start(), 0);
        n0 = cdc_log_sighup_count();
        assert_int_equal(kill(getpid(), SIGHUP), 0);
        for (i = 0; i < 1000 && cdc_log_sighup_count() == n0; i++)
                usleep(10000);
        assert_int_equal(cdc_log_sighup_count(), n0 + 1);
        cdc_log(LOG_NOTICE, "TEST", "after rotation");
        cdc_log_sighup_stop();

        slurp(old, buf, sizeof(buf));
        assert_non_null(strstr(buf, "before rotation"));
        assert_null(strstr(buf, "after rotation"));
        slurp(path, buf, sizeof(buf));
        assert_non_null(strstr(buf, "after rotation"));
        assert_null(strstr(buf, "before rotation"));

        /* the directory is gone: reopening fails, the old file stays */
        assert_int_equal(unlink(path), 0);
        assert_int_equal(unlink(old), 0);
        assert_int_equal(rmdir(dir), 0);
        assert_int_equal(cdc_log_reopen(why, sizeof(why)), -1);
        assert_non_null(strstr(why, path));
        cdc_log_set_fd(-1);
        unlink(old);
        rmdir(dir);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_levels_and_format),
                cmocka_unit_test(test_debug_contexts),
                cmocka_unit_test(test_json_format),
                cmocka_unit_test(test_json_long_line),
                cmocka_unit_test(test_threads_one_write_per_line),
                cmocka_unit_test(test_log_file_reopen_on_sighup),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
