/* Unit tests of common/cdc_metrics: Prometheus text and the HTTP endpoint. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <cmocka.h>

#include "cdc_conf.h"
#include "cdc_metrics.h"

/* An engine with only the common rows (http.*), as a binary has them. */
static const cdc_prop_t no_props[] = { { NULL } };
static int no_base;
static cdc_conf_t *http_conf(const char *liveness) {
        char errstr[256];
        cdc_conf_t *conf =
                cdc_conf_new("t", no_props, &no_base, errstr, sizeof(errstr));
        assert_non_null(conf);
        if (liveness)
                assert_int_equal(cdc_conf_set(conf, "http.liveness.timeout",
                                              liveness, errstr, sizeof(errstr)),
                                 CDC_ERR_NO_ERROR);
        return conf;
}

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
        /* every registry tells the version */
        assert_non_null(strstr(txt, "# TYPE followcdc_build_info gauge\n"
                                    "followcdc_build_info{version=\""));
        assert_non_null(strstr(txt, "\",librdkafka=\""));
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

/* GET \p path from the source address 127.0.0.\p src (bound so the
 * server sees another client than the loopback crowd of a test). @returns
 * the response ("" when the server closed or did not answer in 15 s). */
static char *http_get_from(int src, int port, const char *path) {
        struct sockaddr_in sin = { 0 }, me = { 0 };
        static char buf[8192];
        struct timeval tv = { 15, 0 };
        char req[256];
        size_t of = 0;
        ssize_t r;
        int fd = socket(AF_INET, SOCK_STREAM, 0);

        assert_true(fd >= 0);
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        me.sin_family      = AF_INET;
        me.sin_addr.s_addr = htonl(0x7f000000u | (unsigned)src);
        assert_int_equal(bind(fd, (struct sockaddr *)&me, sizeof(me)), 0);
        sin.sin_family      = AF_INET;
        sin.sin_port        = htons((uint16_t)port);
        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        buf[0]              = '\0';
        if (connect(fd, (struct sockaddr *)&sin, sizeof(sin))) {
                close(fd);
                return buf;
        }
        snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: x\r\n\r\n", path);
        if (write(fd, req, strlen(req)) > 0)
                while ((r = read(fd, buf + of, sizeof(buf) - 1 - of)) > 0)
                        of += (size_t)r;
        buf[of] = '\0';
        close(fd);
        return buf;
}

static char *http_get(int port, const char *path) {
        return http_get_from(1, port, path);
}

/* A histogram renders cumulative buckets in seconds, +Inf, _sum and
 * _count, with and without labels; bad bounds are refused. */
static void test_histogram(void **state) {
        static const int64_t b[]   = { 5, 500, 1000, 2500 };
        static const int64_t bad[] = { 10, 10 };
        cdc_metrics_t *m           = cdc_metrics_new();
        cdc_metric_t *h, *hl;
        char *txt;
        (void)state;

        assert_null(
                cdc_metrics_histogram_ms(m, "x_seconds", "x", NULL, bad, 2));
        h  = cdc_metrics_histogram_ms(m, "age_seconds", "Age", NULL, b, 4);
        hl = cdc_metrics_histogram_ms(m, "lat_seconds", "Lat", "table=\"f\"", b,
                                      4);
        assert_non_null(h);
        assert_non_null(hl);
        cdc_metric_observe_ms(h, 5); /* on a bound: that bucket */
        cdc_metric_observe_ms(h, 6);
        cdc_metric_observe_ms(h, 1000);
        cdc_metric_observe_ms(h, 99999); /* +Inf only */
        cdc_metric_observe_ms(h, -3);    /* clock skew: 0 */
        cdc_metric_observe_ms(hl, 2500);
        txt = cdc_metrics_render(m, NULL);
        assert_non_null(txt);
        assert_non_null(strstr(txt, "# TYPE age_seconds histogram\n"
                                    "age_seconds_bucket{le=\"0.005\"} 2\n"
                                    "age_seconds_bucket{le=\"0.5\"} 3\n"
                                    "age_seconds_bucket{le=\"1\"} 4\n"
                                    "age_seconds_bucket{le=\"2.5\"} 4\n"
                                    "age_seconds_bucket{le=\"+Inf\"} 5\n"
                                    "age_seconds_sum 101.01\n"
                                    "age_seconds_count 5\n"));
        assert_non_null(
                strstr(txt, "lat_seconds_bucket{table=\"f\",le=\"1\"} 0\n"
                            "lat_seconds_bucket{table=\"f\",le=\"2.5\"} 1\n"));
        assert_non_null(strstr(txt, "lat_seconds_sum{table=\"f\"} 2.5\n"
                                    "lat_seconds_count{table=\"f\"} 1\n"));
        free(txt);
        cdc_metrics_destroy(m);
}

/* A counter of milliseconds renders in seconds, with and without labels. */
static void test_counter_ms(void **state) {
        cdc_metrics_t *m = cdc_metrics_new();
        cdc_metric_t *c, *cl;
        char *txt;
        (void)state;

        c  = cdc_metrics_counter_ms(m, "wait_seconds_total", "Wait", NULL);
        cl = cdc_metrics_counter_ms(m, "busy_seconds_total", "Busy",
                                    "on=\"x\"");
        assert_non_null(c);
        assert_non_null(cl);
        cdc_metric_add(c, 1500);
        cdc_metric_add(c, 25);
        cdc_metric_set(cl, 3000);
        txt = cdc_metrics_render(m, NULL);
        assert_non_null(txt);
        assert_non_null(strstr(txt, "# TYPE wait_seconds_total counter\n"
                                    "wait_seconds_total 1.525\n"));
        assert_non_null(strstr(txt, "busy_seconds_total{on=\"x\"} 3\n"));
        free(txt);
        cdc_metrics_destroy(m);
}

static void test_http_endpoints(void **state) {
        cdc_metrics_t *m = cdc_metrics_new();
        char errstr[256];
        cdc_conf_t *conf;
        cdc_http_t *h;
        char *resp;
        (void)state;

        cdc_metric_add(cdc_metrics_counter(m, "followcdc_x_total", "x", NULL),
                       9);
        conf = http_conf(NULL);
        h    = cdc_http_new("127.0.0.1:0", conf, m, ready_cb, NULL, errstr,
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
        assert_null(
                cdc_http_new("", conf, m, NULL, NULL, errstr, sizeof(errstr)));
        assert_string_equal(errstr, "");
        assert_null(cdc_http_new("nohost:x", conf, m, NULL, NULL, errstr,
                                 sizeof(errstr)));
        assert_true(strlen(errstr) > 0);
        cdc_http_alive(NULL); /* no endpoint: a no-op */
        cdc_metrics_destroy(m);
        cdc_conf_destroy(conf);
}

/* /healthz fails once the loop stops calling cdc_http_alive(), and
 * recovers when it calls it again (issue 11: it used to be a fixed 200). */
static void test_http_liveness(void **state) {
        cdc_metrics_t *m = cdc_metrics_new();
        cdc_conf_t *conf = http_conf("300ms");
        char errstr[256], *resp = NULL;
        cdc_http_t *h;
        int i;
        (void)state;

        h = cdc_http_new("127.0.0.1:0", conf, m, NULL, NULL, errstr,
                         sizeof(errstr));
        assert_non_null(h);
        /* no progress: wait for the state, whatever the machine's speed */
        for (i = 0; i < 300; i++) {
                resp = http_get(cdc_http_port(h), "/healthz");
                if (strstr(resp, " 503 "))
                        break;
                usleep(100 * 1000);
        }
        assert_non_null(strstr(resp, " 503 "));
        assert_non_null(strstr(resp, "no progress"));
        /* progress again: 200 (alive right before each try) */
        for (i = 0; i < 50; i++) {
                cdc_http_alive(h);
                resp = http_get(cdc_http_port(h), "/healthz");
                if (strstr(resp, " 200 "))
                        break;
        }
        assert_non_null(strstr(resp, " 200 "));
        cdc_http_destroy(h);
        cdc_conf_destroy(conf);

        /* 0: never fails */
        conf = http_conf("0");
        h    = cdc_http_new("127.0.0.1:0", conf, m, NULL, NULL, errstr,
                            sizeof(errstr));
        assert_non_null(h);
        usleep(50 * 1000);
        assert_non_null(
                strstr(http_get(cdc_http_port(h), "/healthz"), " 200 "));
        cdc_http_destroy(h);
        cdc_conf_destroy(conf);
        cdc_metrics_destroy(m);
}

/* Slow-loris: many connections from one address that send a byte now and
 * then and never finish a request. */
#define LORIS_CONNS 64
typedef struct {
        int fds[LORIS_CONNS];
        volatile int stop;
} loris_t;

static void *loris_main(void *arg) {
        loris_t *l = arg;
        while (!l->stop) {
                int i;
                for (i = 0; i < LORIS_CONNS; i++)
                        if (l->fds[i] >= 0 &&
                            send(l->fds[i], "a", 1, MSG_NOSIGNAL) < 0) {
                                close(l->fds[i]);
                                l->fds[i] = -1;
                        }
                usleep(200 * 1000);
        }
        return NULL;
}

/* Issue 8 #7: 32 idle connections to the metrics port made /healthz fail,
 * so anyone who could reach the port could get the pods restarted. Now
 * one address gets http.max.connections.per.ip of them; the probe (from
 * another address) and the scraper are still served. */
static void test_http_slowloris(void **state) {
        cdc_metrics_t *m       = cdc_metrics_new();
        cdc_conf_t *conf       = http_conf(NULL);
        struct sockaddr_in sin = { 0 };
        char errstr[256], *resp;
        pthread_t t;
        cdc_http_t *h;
        loris_t l;
        int i;
        (void)state;

        h = cdc_http_new("127.0.0.1:0", conf, m, NULL, NULL, errstr,
                         sizeof(errstr));
        assert_non_null(h);
        sin.sin_family      = AF_INET;
        sin.sin_port        = htons((uint16_t)cdc_http_port(h));
        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        memset(&l, 0, sizeof(l));
        for (i = 0; i < LORIS_CONNS; i++) {
                static const char start[] = "GET /metrics HTTP/1.1\r\nX-S: ";
                l.fds[i]                  = socket(AF_INET, SOCK_STREAM, 0);
                assert_true(l.fds[i] >= 0);
                if (connect(l.fds[i], (struct sockaddr *)&sin, sizeof(sin)) ||
                    send(l.fds[i], start, sizeof(start) - 1, MSG_NOSIGNAL) <
                            0) {
                        close(l.fds[i]);
                        l.fds[i] = -1;
                }
        }
        assert_int_equal(pthread_create(&t, NULL, loris_main, &l), 0);

        /* the probe and the scraper, from other addresses */
        resp = http_get_from(2, cdc_http_port(h), "/healthz");
        assert_non_null(strstr(resp, " 200 "));
        resp = http_get_from(3, cdc_http_port(h), "/metrics");
        assert_non_null(strstr(resp, " 200 "));
        assert_non_null(strstr(resp, "followcdc_build_info"));

        l.stop = 1;
        pthread_join(t, NULL);
        for (i = 0; i < LORIS_CONNS; i++)
                if (l.fds[i] >= 0)
                        close(l.fds[i]);
        cdc_http_destroy(h);
        cdc_conf_destroy(conf);
        cdc_metrics_destroy(m);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_render),
                cmocka_unit_test(test_histogram),
                cmocka_unit_test(test_counter_ms),
                cmocka_unit_test(test_http_endpoints),
                cmocka_unit_test(test_http_liveness),
                cmocka_unit_test(test_http_slowloris),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
