/**
 * @file cdc_metrics.h
 * @brief Counters and gauges rendered as Prometheus text, and the small
 *        HTTP endpoint (libmicrohttpd) serving /metrics, /healthz, /readyz.
 *
 * Metrics are registered at start-up from the main thread; updates are
 * lock-free atomics from any thread. Every registry starts with
 * `followcdc_build_info{version="...",librdkafka="..."} 1`.
 */
#ifndef CDC_METRICS_H
#define CDC_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include "cdc_conf.h"
#include "cdc_err.h"

typedef struct cdc_metrics_s cdc_metrics_t;
typedef struct cdc_metric_s cdc_metric_t;

/** @returns a new empty registry, or NULL. */
cdc_metrics_t *cdc_metrics_new(void);

/** @brief Free the registry and its metrics. NULL: no-op. */
void cdc_metrics_destroy(cdc_metrics_t *m);

/**
 * @brief Register a counter (monotonic) named \p name, e.g.
 *        "followcdc_producer_rows_total", with Prometheus \p labels text
 *        such as `table="follow",op="c"` (NULL or "" for none). The same
 *        name may be registered with several label sets.
 * @returns the metric (owned by \p m), or NULL on allocation failure.
 *          A NULL metric is accepted (and ignored) by the update calls.
 * @locality main thread
 */
cdc_metric_t *cdc_metrics_counter(cdc_metrics_t *m, const char *name,
                                  const char *help, const char *labels);

/** @brief Register a counter of milliseconds (cdc_metric_add() or
 *         cdc_metric_set() in ms), rendered in seconds as Prometheus
 *         wants (name it `..._seconds_total`). As cdc_metrics_counter(). */
cdc_metric_t *cdc_metrics_counter_ms(cdc_metrics_t *m, const char *name,
                                     const char *help, const char *labels);

/** @brief Register a gauge. As cdc_metrics_counter(). */
cdc_metric_t *cdc_metrics_gauge(cdc_metrics_t *m, const char *name,
                                const char *help, const char *labels);

/** Most buckets of one histogram (+Inf not counted). */
#define CDC_METRICS_HIST_MAX 24

/**
 * @brief Register a histogram of durations: observations in
 *        milliseconds (cdc_metric_observe_ms()), rendered in seconds as
 *        Prometheus wants (`<name>_bucket{le="..."}`, `_sum`, `_count`).
 * @param bounds_ms the buckets' upper bounds in ms, increasing, at most
 *        CDC_METRICS_HIST_MAX (+Inf is added).
 * @returns the metric, or NULL (allocation, or bad bounds).
 * @locality main thread
 */
cdc_metric_t *cdc_metrics_histogram_ms(cdc_metrics_t *m, const char *name,
                                       const char *help, const char *labels,
                                       const int64_t *bounds_ms, size_t cnt);

/** @brief Count one observation of \p ms (negative: 0) in a histogram.
 *  @locality any thread */
void cdc_metric_observe_ms(cdc_metric_t *mt, int64_t ms);

/**
 * @brief Hide (1) or show (0) a metric's samples: a labelled series that
 *        no longer applies (a partition revoked) disappears from /metrics
 *        instead of staying at its last value. Its HELP/TYPE lines stay.
 * @locality any thread
 */
void cdc_metric_hide(cdc_metric_t *mt, int hide);

/** @brief Add \p v. @locality any thread */
void cdc_metric_add(cdc_metric_t *mt, int64_t v);

/** @brief Set a gauge to \p v. @locality any thread */
void cdc_metric_set(cdc_metric_t *mt, int64_t v);

/** @returns the current value. @locality any thread */
int64_t cdc_metric_get(const cdc_metric_t *mt);

/**
 * @brief Render every metric as Prometheus text exposition format.
 * @returns malloc()ed text (caller frees) and its length, or NULL.
 * @locality any thread
 */
char *cdc_metrics_render(cdc_metrics_t *m, size_t *lenp);

/* ---- HTTP ---- */

typedef struct cdc_http_s cdc_http_t;

/**
 * Readiness probe: return 1 if ready, else 0 and a reason in \p why.
 * \p why starts empty; text written there is the body of /readyz either
 * way (a ready process may name its state, e.g. "ready: standby"); left
 * empty, the body is "ready" or "not ready".
 * Called on the HTTP thread: read only atomics or sig_atomic_t state.
 */
typedef int(cdc_http_ready_cb_t)(void *opaque, char *why, size_t why_size);

/**
 * @brief Serve /metrics, /healthz and /readyz on \p listen: "host:port",
 *        ":port" (all interfaces) or "port"; "" or NULL disables the
 *        endpoint (returns NULL with errstr "").
 *
 * - `/readyz`: 200 when \p ready_cb says so, else 503 with its reason.
 * - `/healthz` (liveness): 200 while the main loop makes progress, i.e.
 *   calls cdc_http_alive() at least every `http.liveness.timeout`; after
 *   that long without a call, 503 with the time since the last one.
 *   Counting starts here, so start-up has the same allowance.
 * - At most `http.max.connections` connections, `http.max.connections.per.ip`
 *   from one address, and a connection idle for `http.idle.timeout` is
 *   closed: idle or slow clients from one address cannot take the probes'
 *   connections (issue: 32 idle connections used to fail /healthz).
 *
 * @param conf the engine whose common rows (cdc_conf_common()) give the
 *        http.* settings; borrowed, read here only.
 * @returns the handle, or NULL with the reason in \p errstr.
 * @locality main thread; requests are served on libmicrohttpd's thread.
 */
cdc_http_t *cdc_http_new(const char *listen, const cdc_conf_t *conf,
                         cdc_metrics_t *m, cdc_http_ready_cb_t *ready_cb,
                         void *opaque, char *errstr, size_t errstr_size);

/**
 * @brief The main loop made progress (a poll, a heartbeat, a wait step):
 *        call it every iteration and every step of a long wait. Cheap
 *        (one clock read, one atomic store). NULL: no-op.
 * @locality any thread (normally the main loop)
 */
void cdc_http_alive(cdc_http_t *h);

/** @returns the bound TCP port (useful with port 0). */
int cdc_http_port(const cdc_http_t *h);

/** @brief Stop serving and free. NULL: no-op. */
void cdc_http_destroy(cdc_http_t *h);

#endif
