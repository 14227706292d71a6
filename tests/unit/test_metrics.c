/* Unit tests of common/cdc_metrics: Prometheus text and the HTTP endpoint. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "cdc_metrics.h"

static void test_render(void **state) {
        cdc_metrics_t *m = cdc_metrics_new();
        cdc_metric_t *c1, *c2, *g;
        size_t len;
        char *txt;
        (void)state;

        c1 = cdc_metrics_counter(m, "followcdc_rows_total", "Rows seen",
                                 "table=\"follow\"");
        c2 = cdc_metrics_counter(m, "followcdc_rows_total", "Rows seen",
                                 "table=\"idempotent_log\"");
        g  = cdc_metrics_gauge(m, "followcdc_lag_seconds", "Lag", NULL);
        cdc_metric_add(c1, 3);
        cdc_metric_add(c1, 2);
        cdc_metric_add(c2, 1);
        cdc_metric_set(g, 7);
        cdc_metric_add(NULL, 1); /* tolerated */
        assert_int_equal(cdc_metric_get(c1), 5);
        txt = cdc_metrics_render(m, &len);
        assert_non_null(txt);
        assert_int_equal(strlen(txt), len);
        assert_non_null(strstr(
                txt, "# TYPE followcdc_rows_total counter\n"
                     "followcdc_rows_total{table=\"follow\"} 5\n"
                     "followcdc_rows_total{table=\"idempotent_log\"} 1\n"));
        assert_non_null(strstr(txt, "# TYPE followcdc_lag_seconds gauge\n"
                                    "followcdc_lag_seconds 7\n"));
        /* HELP/TYPE once per name */
        {
                const char *first = strstr(txt, "# HELP followcdc_rows_total");
                assert_non_null(first);
                assert_null(strstr(first + 1, "# HELP followcdc_rows_total"));
        }
        free(txt);
        cdc_metrics_destroy(m);
}

static int ready_flag;
static int ready_cb(void *opaque, char *why, size_t why_size) {
        (void)opaque;
        if (!ready_flag)
                snprintf(why, why_size, "binlog not connected");
        else if (ready_flag == 2)
                snprintf(why, why_size, "ready: standby");
        return ready_flag != 0;
}

static char *http_get(int port, const char *path) {
        struct sockaddr_in sin = { 0 };
        static char buf[8192];
        char req[256];
        size_t of = 0;
        ssize_t r;
        int fd = socket(AF_INET, SOCK_STREAM, 0);

        sin.sin_family      = AF_INET;
        sin.sin_port        = htons((uint16_t)port);
        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
        snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: x\r\n\r\n", path);
        assert_true(write(fd, req, strlen(req)) > 0);
        while ((r = read(fd, buf + of, sizeof(buf) - 1 - of)) > 0)
                of += (size_t)r;
        buf[of] = '\0';
        close(fd);
        return buf;
}

static void test_http_endpoints(void **state) {
        cdc_metrics_t *m = cdc_metrics_new();
        char errstr[256];
        cdc_http_t *h;
        char *resp;
        (void)state;

        cdc_metric_add(cdc_metrics_counter(m, "followcdc_x_total", "x", NULL),
                       9);
        h = cdc_http_new("127.0.0.1:0", m, ready_cb, NULL, errstr,
                         sizeof(errstr));
        assert_non_null(h);
        assert_true(cdc_http_port(h) > 0);

        resp = http_get(cdc_http_port(h), "/metrics");
        assert_non_null(strstr(resp, "200"));
        assert_non_null(strstr(resp, "followcdc_x_total 9"));
        resp = http_get(cdc_http_port(h), "/healthz");
        assert_non_null(strstr(resp, " 200 "));
        ready_flag = 0;
        resp       = http_get(cdc_http_port(h), "/readyz");
        assert_non_null(strstr(resp, " 503 "));
        assert_non_null(strstr(resp, "binlog not connected"));
        ready_flag = 1;
        resp       = http_get(cdc_http_port(h), "/readyz");
        assert_non_null(strstr(resp, " 200 "));
        assert_non_null(strstr(resp, "\r\n\r\nready\n"));
        /* a ready process may name its state in the body */
        ready_flag = 2;
        resp       = http_get(cdc_http_port(h), "/readyz");
        assert_non_null(strstr(resp, " 200 "));
        assert_non_null(strstr(resp, "\r\n\r\nready: standby\n"));
        resp = http_get(cdc_http_port(h), "/nope");
        assert_non_null(strstr(resp, " 404 "));
        cdc_http_destroy(h);

        /* disabled and bad listen addresses */
        assert_null(cdc_http_new("", m, NULL, NULL, errstr, sizeof(errstr)));
        assert_string_equal(errstr, "");
        assert_null(cdc_http_new("nohost:x", m, NULL, NULL, errstr,
                                 sizeof(errstr)));
        assert_true(strlen(errstr) > 0);
        cdc_metrics_destroy(m);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_render),
                cmocka_unit_test(test_http_endpoints),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
