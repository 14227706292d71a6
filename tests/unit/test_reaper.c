/**
 * @file test_reaper.c
 * @brief TTL reaper pieces that need no server: the UTC cutoff, the zone
 *        given to CONVERT_TZ, the DELETE text, and start/stop of the thread
 *        against an unreachable server (backoff, clean join).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cdc_reaper.h"

static void test_cutoff(void **state) {
        char buf[40];
        (void)state;
        /* 2026-11-22T05:20:14.123Z minus 7 days */
        assert_int_equal(cdc_reaper_cutoff(1795324814123LL, 7LL * 86400 * 1000,
                                           buf, sizeof(buf)),
                         23);
        assert_string_equal(buf, "2026-11-15 05:20:14.123");
        assert_int_equal(cdc_reaper_cutoff(1000, 500, buf, sizeof(buf)), 23);
        assert_string_equal(buf, "1970-01-01 00:00:00.500");
        /* a TTL longer than the epoch clamps at the epoch */
        cdc_reaper_cutoff(1000, 5000, buf, sizeof(buf));
        assert_string_equal(buf, "1970-01-01 00:00:00.000");
        assert_int_equal(cdc_reaper_cutoff(1000, 500, buf, 10), -1);
}

static void test_tz(void **state) {
        (void)state;
        assert_string_equal(cdc_reaper_tz("UTC"), "+00:00");
        assert_string_equal(cdc_reaper_tz(""), "+00:00");
        assert_string_equal(cdc_reaper_tz(NULL), "+00:00");
        assert_string_equal(cdc_reaper_tz("+08:00"), "+08:00");
        assert_string_equal(cdc_reaper_tz("Europe/Paris"), "Europe/Paris");
}

static void test_sql(void **state) {
        char buf[512];
        (void)state;
        assert_true(cdc_reaper_sql(buf, sizeof(buf), "idempotent_log", "status",
                                   "created_at", 2, "2026-11-15 05:20:14.123",
                                   "+00:00", 500) > 0);
        assert_string_equal(
                buf, "DELETE FROM `idempotent_log` WHERE `status` = 2 AND "
                     "`created_at` < CONVERT_TZ('2026-11-15 05:20:14.123', "
                     "'+00:00', '+00:00') ORDER BY `created_at` LIMIT 500");
        assert_int_equal(cdc_reaper_sql(buf, 20, "t", "s", "c", 2, "x", "y", 1),
                         -1);
}

static void test_thread_unreachable(void **state) {
        cdc_cconf_t cc;
        cdc_metrics_t *m = cdc_metrics_new();
        cdc_reaper_t *rp;
        char es[256];
        (void)state;
        assert_non_null(m);
        assert_int_equal(cdc_cconf_init(&cc, es, sizeof(es)), CDC_ERR_NO_ERROR);
        /* port 1 on loopback: connection refused at once */
        assert_int_equal(cdc_conf_set(cc.cc_conf, "reaper.mysql.port", "1", es,
                                      sizeof(es)),
                         CDC_ERR_NO_ERROR);
        assert_null(cdc_cconf_finalize(&cc));
        rp = cdc_reaper_new(&cc, m, es, sizeof(es));
        assert_non_null(rp);
        assert_int_equal(cdc_reaper_start(rp), CDC_ERR_NO_ERROR);
        usleep(300 * 1000);
        assert_int_equal(cdc_reaper_leader(rp), 0);
        assert_int_equal(cdc_reaper_deleted(rp), 0);
        cdc_reaper_destroy(rp); /* must stop promptly mid-backoff */
        cdc_reaper_destroy(NULL);
        cdc_metrics_destroy(m);
        cdc_cconf_destroy(&cc);
}

/* reaper.mysql.shards: one reaper per shard, each reporting under its own
 * label; all stop promptly. */
static void test_threads_per_shard(void **state) {
        cdc_metrics_t *m = cdc_metrics_new();
        cdc_cconf_t cc;
        cdc_reaper_t *rp;
        char es[256];
        (void)state;
        assert_non_null(m);
        assert_int_equal(cdc_cconf_init(&cc, es, sizeof(es)), CDC_ERR_NO_ERROR);
        assert_int_equal(cdc_conf_set(cc.cc_conf, "reaper.mysql.shards",
                                      "127.0.0.1:1,127.0.0.1:2,/nonexistent/s",
                                      es, sizeof(es)),
                         CDC_ERR_NO_ERROR);
        assert_null(cdc_cconf_finalize(&cc));
        rp = cdc_reaper_new(&cc, m, es, sizeof(es));
        assert_non_null(rp);
        assert_int_equal(cdc_reaper_start(rp), CDC_ERR_NO_ERROR);
        usleep(300 * 1000);
        assert_int_equal(cdc_reaper_leader(rp), 0);
        assert_int_equal(cdc_reaper_deleted(rp), 0);
        {
                char *text = cdc_metrics_render(m, NULL);

                assert_non_null(text);
                assert_non_null(strstr(text, "followcdc_reaper_leader{shard="
                                             "\"127.0.0.1:2\"} 0"));
                assert_non_null(strstr(text, "shard=\"/nonexistent/s\""));
                free(text);
        }
        cdc_reaper_destroy(rp);
        cdc_metrics_destroy(m);
        cdc_cconf_destroy(&cc);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_threads_per_shard),
                cmocka_unit_test(test_cutoff),
                cmocka_unit_test(test_tz),
                cmocka_unit_test(test_sql),
                cmocka_unit_test(test_thread_unreachable),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
