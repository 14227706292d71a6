#include "cdc_metrics.h"
#include "cdc_log.h"

#include <microhttpd.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <librdkafka/rdkafka.h>

/* ---- registry ---- */

enum {
        MT_COUNTER    = 0,
        MT_GAUGE      = 1,
        MT_HIST       = 2,
        MT_COUNTER_MS = 3 /* a counter of ms, rendered in seconds */
};

struct cdc_metric_s {
        char *mt_name;
        char *mt_help;
        char *mt_labels;
        int mt_gauge;             /* MT_* */
        _Atomic int mt_hidden;    /* samples not rendered */
        _Atomic int64_t mt_value; /* histogram: sum in ms */
        /* histogram: per-bucket (not cumulative) counts, the last one
         * for +Inf; the cumulative view is made when rendering */
        size_t mt_nb;
        int64_t mt_bounds[CDC_METRICS_HIST_MAX];
        _Atomic uint64_t mt_counts[CDC_METRICS_HIST_MAX + 1];
        struct cdc_metric_s *mt_next;
};

struct cdc_metrics_s {
        pthread_mutex_t m_lock; /* guards the list shape, not the values */
        cdc_metric_t *m_head, *m_tail;
};

static cdc_metric_t *metrics_add(cdc_metrics_t *m, const char *name,
                                 const char *help, const char *labels,
                                 int gauge);

cdc_metrics_t *cdc_metrics_new(void) {
        cdc_metrics_t *m = calloc(1, sizeof(*m));
        char labels[128];
        cdc_metric_t *bi;

        if (!m)
                return NULL;
        pthread_mutex_init(&m->m_lock, NULL);
        /* Prometheus' build_info idiom: a constant 1, the versions in
         * the labels (both from our own strings: nothing to escape). */
        snprintf(labels, sizeof(labels), "version=\"%s\",librdkafka=\"%s\"",
                 CDC_VERSION, rd_kafka_version_str());
        bi = metrics_add(m, "followcdc_build_info",
                         "Version of this binary and of librdkafka (always 1)",
                         labels, 1);
        if (!bi) {
                cdc_metrics_destroy(m);
                return NULL;
        }
        cdc_metric_set(bi, 1);
        return m;
}

void cdc_metrics_destroy(cdc_metrics_t *m) {
        cdc_metric_t *mt, *next;
        if (!m)
                return;
        for (mt = m->m_head; mt; mt = next) {
                next = mt->mt_next;
                free(mt->mt_name);
                free(mt->mt_help);
                free(mt->mt_labels);
                free(mt);
        }
        pthread_mutex_destroy(&m->m_lock);
        free(m);
}

static cdc_metric_t *metrics_add(cdc_metrics_t *m, const char *name,
                                 const char *help, const char *labels,
                                 int gauge) {
        cdc_metric_t *mt = calloc(1, sizeof(*mt));
        if (!mt)
                return NULL;
        mt->mt_name   = strdup(name);
        mt->mt_help   = strdup(help ? help : "");
        mt->mt_labels = strdup(labels ? labels : "");
        if (!mt->mt_name || !mt->mt_help || !mt->mt_labels) {
                free(mt->mt_name);
                free(mt->mt_help);
                free(mt->mt_labels);
                free(mt);
                return NULL;
        }
        mt->mt_gauge = gauge;
        atomic_init(&mt->mt_value, 0);
        atomic_init(&mt->mt_hidden, 0);
        pthread_mutex_lock(&m->m_lock);
        if (m->m_tail)
                m->m_tail->mt_next = mt;
        else
                m->m_head = mt;
        m->m_tail = mt;
        pthread_mutex_unlock(&m->m_lock);
        return mt;
}

cdc_metric_t *cdc_metrics_counter(cdc_metrics_t *m, const char *name,
                                  const char *help, const char *labels) {
        return m ? metrics_add(m, name, help, labels, 0) : NULL;
}

cdc_metric_t *cdc_metrics_counter_ms(cdc_metrics_t *m, const char *name,
                                     const char *help, const char *labels) {
        return m ? metrics_add(m, name, help, labels, MT_COUNTER_MS) : NULL;
}

cdc_metric_t *cdc_metrics_gauge(cdc_metrics_t *m, const char *name,
                                const char *help, const char *labels) {
        return m ? metrics_add(m, name, help, labels, 1) : NULL;
}

cdc_metric_t *cdc_metrics_histogram_ms(cdc_metrics_t *m, const char *name,
                                       const char *help, const char *labels,
                                       const int64_t *bounds_ms, size_t cnt) {
        cdc_metric_t *mt;
        size_t i;

        if (!m || cnt > CDC_METRICS_HIST_MAX)
                return NULL;
        for (i = 1; i < cnt; i++)
                if (bounds_ms[i] <= bounds_ms[i - 1])
                        return NULL;
        mt = metrics_add(m, name, help, labels, MT_HIST);
        if (!mt)
                return NULL;
        /* set before any observer can see it: registration happens on the
         * main thread before the metric is handed out */
        mt->mt_nb = cnt;
        memcpy(mt->mt_bounds, bounds_ms, cnt * sizeof(*bounds_ms));
        for (i = 0; i <= cnt; i++)
                atomic_init(&mt->mt_counts[i], 0);
        return mt;
}

void cdc_metric_observe_ms(cdc_metric_t *mt, int64_t ms) {
        size_t i;
        if (!mt || mt->mt_gauge != MT_HIST)
                return;
        if (ms < 0)
                ms = 0;
        for (i = 0; i < mt->mt_nb && ms > mt->mt_bounds[i]; i++)
                ;
        atomic_fetch_add_explicit(&mt->mt_counts[i], 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&mt->mt_value, ms, memory_order_relaxed);
}

void cdc_metric_hide(cdc_metric_t *mt, int hide) {
        if (mt)
                atomic_store_explicit(&mt->mt_hidden, hide != 0,
                                      memory_order_relaxed);
}

void cdc_metric_add(cdc_metric_t *mt, int64_t v) {
        if (mt)
                atomic_fetch_add_explicit(&mt->mt_value, v,
                                          memory_order_relaxed);
}

void cdc_metric_set(cdc_metric_t *mt, int64_t v) {
        if (mt)
                atomic_store_explicit(&mt->mt_value, v, memory_order_relaxed);
}

int64_t cdc_metric_get(const cdc_metric_t *mt) {
        return mt ? atomic_load_explicit(&((cdc_metric_t *)mt)->mt_value,
                                         memory_order_relaxed)
                  : 0;
}

/* Growable text buffer with a hard cap (16 MiB). */
typedef struct {
        char *b;
        size_t len, size;
        int failed;
} metrics_buf_t;

static void mbuf_printf(metrics_buf_t *mb, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
static void mbuf_printf(metrics_buf_t *mb, const char *fmt, ...) {
        va_list ap;
        int r;

        if (mb->failed)
                return;
        for (;;) {
                va_start(ap, fmt);
                r = vsnprintf(mb->b + mb->len, mb->size - mb->len, fmt, ap);
                va_end(ap);
                if (r < 0) {
                        mb->failed = 1;
                        return;
                }
                if ((size_t)r < mb->size - mb->len) {
                        mb->len += (size_t)r;
                        return;
                }
                if (mb->size * 2 > 16 * 1024 * 1024) {
                        mb->failed = 1;
                        return;
                }
                char *nb = realloc(mb->b, mb->size * 2);
                if (!nb) {
                        mb->failed = 1;
                        return;
                }
                mb->b = nb;
                mb->size *= 2;
        }
}

/* "1.5", "0.005", "300": a bound in ms as seconds, no trailing zeros. */
static void metrics_seconds(char *buf, size_t size, int64_t ms) {
        int64_t s = ms / 1000, frac = ms % 1000;
        if (!frac) {
                snprintf(buf, size, "%lld", (long long)s);
                return;
        }
        snprintf(buf, size, "%lld.%03lld", (long long)s, (long long)frac);
        for (size_t n = strlen(buf); buf[n - 1] == '0'; n--)
                buf[n - 1] = '\0';
}

static void metrics_render_hist(metrics_buf_t *mb, const cdc_metric_t *mt) {
        const char *sep = *mt->mt_labels ? "," : "";
        uint64_t cum    = 0;
        char le[32];
        size_t i;

        for (i = 0; i <= mt->mt_nb; i++) {
                cum += atomic_load_explicit(&((cdc_metric_t *)mt)->mt_counts[i],
                                            memory_order_relaxed);
                if (i < mt->mt_nb)
                        metrics_seconds(le, sizeof(le), mt->mt_bounds[i]);
                else
                        snprintf(le, sizeof(le), "+Inf");
                mbuf_printf(mb, "%s_bucket{%s%sle=\"%s\"} %llu\n", mt->mt_name,
                            mt->mt_labels, sep, le, (unsigned long long)cum);
        }
        {
                int64_t sum = cdc_metric_get(mt);
                char sbuf[32];
                metrics_seconds(sbuf, sizeof(sbuf), sum);
                if (*mt->mt_labels) {
                        mbuf_printf(mb, "%s_sum{%s} %s\n", mt->mt_name,
                                    mt->mt_labels, sbuf);
                        mbuf_printf(mb, "%s_count{%s} %llu\n", mt->mt_name,
                                    mt->mt_labels, (unsigned long long)cum);
                } else {
                        mbuf_printf(mb, "%s_sum %s\n", mt->mt_name, sbuf);
                        mbuf_printf(mb, "%s_count %llu\n", mt->mt_name,
                                    (unsigned long long)cum);
                }
        }
}

char *cdc_metrics_render(cdc_metrics_t *m, size_t *lenp) {
        metrics_buf_t mb = { malloc(4096), 0, 4096, 0 };
        cdc_metric_t *mt, *prev;

        if (!mb.b)
                return NULL;
        mb.b[0] = '\0';
        pthread_mutex_lock(&m->m_lock);
        for (mt = m->m_head; mt; mt = mt->mt_next) {
                int seen = 0;
                /* HELP/TYPE once per name, at its first registration */
                for (prev = m->m_head; prev != mt; prev = prev->mt_next)
                        if (!strcmp(prev->mt_name, mt->mt_name)) {
                                seen = 1;
                                break;
                        }
                if (!seen)
                        mbuf_printf(&mb, "# HELP %s %s\n# TYPE %s %s\n",
                                    mt->mt_name, mt->mt_help, mt->mt_name,
                                    mt->mt_gauge == MT_HIST    ? "histogram"
                                    : mt->mt_gauge == MT_GAUGE ? "gauge"
                                                               : "counter");
                if (atomic_load_explicit(&mt->mt_hidden, memory_order_relaxed))
                        continue;
                if (mt->mt_gauge == MT_HIST)
                        metrics_render_hist(&mb, mt);
                else if (mt->mt_gauge == MT_COUNTER_MS) {
                        char v[32];
                        metrics_seconds(v, sizeof(v), cdc_metric_get(mt));
                        mbuf_printf(&mb, "%s%s%s%s %s\n", mt->mt_name,
                                    *mt->mt_labels ? "{" : "", mt->mt_labels,
                                    *mt->mt_labels ? "}" : "", v);
                } else if (*mt->mt_labels)
                        mbuf_printf(&mb, "%s{%s} %lld\n", mt->mt_name,
                                    mt->mt_labels,
                                    (long long)cdc_metric_get(mt));
                else
                        mbuf_printf(&mb, "%s %lld\n", mt->mt_name,
                                    (long long)cdc_metric_get(mt));
        }
        pthread_mutex_unlock(&m->m_lock);
        if (mb.failed) {
                free(mb.b);
                return NULL;
        }
        if (lenp)
                *lenp = mb.len;
        return mb.b;
}

/* ---- HTTP ---- */

struct cdc_http_s {
        struct MHD_Daemon *h_mhd;
        cdc_metrics_t *h_metrics;
        cdc_http_ready_cb_t *h_ready_cb;
        void *h_opaque;
        int h_port;
        int64_t h_liveness_ms;      /* 0: /healthz never fails */
        _Atomic int64_t h_alive_ms; /* monotonic ms of the last alive */
};

static int64_t http_now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void cdc_http_alive(cdc_http_t *h) {
        if (h)
                atomic_store_explicit(&h->h_alive_ms, http_now_ms(),
                                      memory_order_relaxed);
}

static enum MHD_Result http_reply(struct MHD_Connection *conn,
                                  unsigned int status, const char *ctype,
                                  char *body, size_t len,
                                  enum MHD_ResponseMemoryMode mode) {
        struct MHD_Response *resp =
                MHD_create_response_from_buffer(len, body, mode);
        enum MHD_Result r;
        if (!resp) {
                if (mode == MHD_RESPMEM_MUST_FREE)
                        free(body);
                return MHD_NO;
        }
        MHD_add_response_header(resp, "Content-Type", ctype);
        r = MHD_queue_response(conn, status, resp);
        MHD_destroy_response(resp);
        return r;
}

static enum MHD_Result http_handler(void *cls, struct MHD_Connection *conn,
                                    const char *url, const char *method,
                                    const char *version,
                                    const char *upload_data,
                                    size_t *upload_data_size, void **ptr) {
        cdc_http_t *h            = cls;
        static const char text[] = "text/plain; charset=utf-8";
        (void)version;
        (void)upload_data;
        (void)upload_data_size;
        (void)ptr;

        cdc_dbg(HTTP, "HTTP", "%.16s %.200s", method, url);
        if (strcmp(method, "GET") && strcmp(method, "HEAD"))
                return http_reply(conn, 405, text,
                                  (char *)"method not allowed\n", 19,
                                  MHD_RESPMEM_PERSISTENT);
        if (!strcmp(url, "/metrics")) {
                size_t len = 0;
                char *body = cdc_metrics_render(h->h_metrics, &len);
                if (!body)
                        return http_reply(conn, 500, text,
                                          (char *)"render failed\n", 14,
                                          MHD_RESPMEM_PERSISTENT);
                return http_reply(conn, 200,
                                  "text/plain; version=0.0.4; charset=utf-8",
                                  body, len, MHD_RESPMEM_MUST_FREE);
        }
        if (!strcmp(url, "/healthz")) {
                /* Liveness: the main loop called cdc_http_alive() lately.
                 * A loop stuck in a call that never returns is restarted
                 * by the probe; waiting states (standby, backoff, a paused
                 * partition) keep calling it, so they stay alive. */
                int64_t idle = http_now_ms() -
                               atomic_load_explicit(&h->h_alive_ms,
                                                    memory_order_relaxed);
                char body[160];
                int n;
                if (h->h_liveness_ms <= 0 || idle <= h->h_liveness_ms)
                        return http_reply(conn, 200, text, (char *)"ok\n", 3,
                                          MHD_RESPMEM_PERSISTENT);
                n = snprintf(body, sizeof(body),
                             "stuck: no progress of the main loop for "
                             "%lld ms (http.liveness.timeout %lld ms)\n",
                             (long long)idle, (long long)h->h_liveness_ms);
                if (n < 0)
                        n = 0;
                if ((size_t)n >= sizeof(body))
                        n = sizeof(body) - 1;
                return http_reply(conn, 503, text, body, (size_t)n,
                                  MHD_RESPMEM_MUST_COPY);
        }
        if (!strcmp(url, "/readyz")) {
                char why[256] = "";
                char body[300];
                int ready = h->h_ready_cb ? h->h_ready_cb(h->h_opaque, why,
                                                          sizeof(why))
                                          : 1;
                /* the callback may name the state either way */
                int n = snprintf(body, sizeof(body), "%s\n",
                                 *why    ? why
                                 : ready ? "ready"
                                         : "not ready");
                if (n < 0)
                        n = 0;
                if ((size_t)n >= sizeof(body))
                        n = sizeof(body) - 1;
                return http_reply(conn, ready ? 200 : 503, text, body,
                                  (size_t)n, MHD_RESPMEM_MUST_COPY);
        }
        return http_reply(conn, 404, text, (char *)"not found\n", 10,
                          MHD_RESPMEM_PERSISTENT);
}

cdc_http_t *cdc_http_new(const char *listen, const cdc_conf_t *conf,
                         cdc_metrics_t *m, cdc_http_ready_cb_t *ready_cb,
                         void *opaque, char *errstr, size_t errstr_size) {
        const cdc_conf_common_t *cc = cdc_conf_common(conf);
        struct sockaddr_in sin;
        const char *colon, *portstr;
        char host[64] = "0.0.0.0";
        const union MHD_DaemonInfo *info;
        cdc_http_t *h;
        long port;
        char *end;

        if (errstr_size)
                *errstr = '\0';
        if (!listen || !*listen)
                return NULL;
        colon = strrchr(listen, ':');
        if (colon) {
                size_t hl = (size_t)(colon - listen);
                if (hl >= sizeof(host)) {
                        snprintf(errstr, errstr_size,
                                 "http.listen: host too long");
                        return NULL;
                }
                if (hl) {
                        memcpy(host, listen, hl);
                        host[hl] = '\0';
                }
                portstr = colon + 1;
        } else {
                portstr = listen;
        }
        port = strtol(portstr, &end, 10);
        if (!*portstr || *end || port < 0 || port > 65535) {
                snprintf(errstr, errstr_size,
                         "http.listen: \"%s\" is not host:port", listen);
                return NULL;
        }
        if (!strcmp(host, "localhost"))
                snprintf(host, sizeof(host), "127.0.0.1");
        memset(&sin, 0, sizeof(sin));
        sin.sin_family = AF_INET;
        sin.sin_port   = htons((uint16_t)port);
        if (inet_pton(AF_INET, host, &sin.sin_addr) != 1) {
                snprintf(errstr, errstr_size,
                         "http.listen: \"%s\" is not an IPv4 address", host);
                return NULL;
        }
        h = calloc(1, sizeof(*h));
        if (!h) {
                snprintf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        h->h_metrics     = m;
        h->h_ready_cb    = ready_cb;
        h->h_opaque      = opaque;
        h->h_liveness_ms = cc->http_liveness_ms;
        atomic_init(&h->h_alive_ms, http_now_ms());
        /* Bounded per address and in time: a client holding connections
         * open (idle, or sending a byte now and then) gets at most
         * http.max.connections.per.ip of them, so the kubelet's probe and
         * the scraper still get in (issue: 32 idle connections to the
         * metrics port used to fail /healthz and restart the pod). The
         * idle timeout is whole seconds for libmicrohttpd: rounded up. */
        h->h_mhd = MHD_start_daemon(
                MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL,
                http_handler, h, MHD_OPTION_SOCK_ADDR, &sin,
                MHD_OPTION_CONNECTION_LIMIT, (unsigned int)cc->http_max_conn,
                MHD_OPTION_PER_IP_CONNECTION_LIMIT,
                (unsigned int)cc->http_max_per_ip,
                MHD_OPTION_CONNECTION_TIMEOUT,
                (unsigned int)((cc->http_idle_ms + 999) / 1000),
                MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned int)64,
                MHD_OPTION_END);
        if (!h->h_mhd) {
                snprintf(errstr, errstr_size,
                         "http.listen: cannot listen on %s", listen);
                free(h);
                return NULL;
        }
        info      = MHD_get_daemon_info(h->h_mhd, MHD_DAEMON_INFO_BIND_PORT);
        h->h_port = info ? info->port : (int)port;
        return h;
}

int cdc_http_port(const cdc_http_t *h) {
        return h ? h->h_port : -1;
}

void cdc_http_destroy(cdc_http_t *h) {
        if (!h)
                return;
        MHD_stop_daemon(h->h_mhd);
        free(h);
}
