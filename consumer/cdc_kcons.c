/**
 * @file cdc_kcons.c
 * @brief Kafka group consumer of followcdc-consumer (see cdc_kcons.h).
 */
#include "cdc_kcons.h"

#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdc_backoff.h" /* cdc_now_us */
#include "cdc_log.h"

/* Per assigned partition: the next offset not acknowledged yet, known
 * from the last store (acked) or, before any, from the first message
 * polled since the assignment (first). The lag counts from there, so a
 * batch waiting for Redis counts as not consumed. */
typedef struct kcons_ack_s {
        char *topic;
        int32_t partition;
        int64_t acked; /* -1: nothing stored since assigned */
        int64_t first; /* -1: nothing polled since assigned */
} kcons_ack_t;

/* Partitions a replay has already repositioned in this process. */
#define KCONS_MAX_SEEN 4096

struct cdc_kcons_s {
        rd_kafka_t *kc_rk;
        const cdc_cconf_t *kc_cc;
        cdc_kcons_revoke_cb_t *kc_revoke_cb;
        cdc_kcons_assign_cb_t *kc_assign_cb;
        void *kc_opaque;
        int kc_assigned;
        uint64_t kc_rebalances;
        uint64_t kc_replayed; /* partitions a replay repositioned */
        volatile int kc_fatal;
        int64_t kc_denied_since; /* first refusal by ACL, 0: none (us) */
        int kc_closing;
        char **kc_seen; /* "topic/partition" replayed already */
        int kc_seen_cnt;
        kcons_ack_t *kc_ack; /* per assigned partition, for the lag */
        int kc_nack, kc_ackcap;
        int kc_ack_unknown;      /* entries with neither acked nor first */
        uint64_t kc_wakes;       /* fetcher wake-ups (cdc_kcons_refill) */
        int64_t kc_wake_next_us; /* no wake-up before (rate, backoff) */
        int kc_woke;             /* a wake-up was answered */
        int64_t kc_wake_pos, kc_wake_hi; /* its sums of positions and
                                          * high watermarks */
        /* The wake-up request runs on its own thread (kcons_waker()): its
         * round trip took 16-40 ms on a loaded machine, and the main
         * thread, which waited for it, had Redis idle meanwhile. */
        pthread_t kc_wt;
        pthread_mutex_t kc_wlk;
        pthread_cond_t kc_wcnd;
        int kc_wt_up;   /* the thread runs (started on the first wake) */
        int kc_wt_stop; /* under kc_wlk: the thread is to end */
        rd_kafka_topic_partition_list_t *kc_wt_req; /* under kc_wlk: the
                                                     * next request */
        int kc_wt_busy; /* under kc_wlk: a request not answered yet */
        int kc_wt_done; /* under kc_wlk: answered, not looked at yet */
        rd_kafka_resp_err_t kc_wt_err; /* under kc_wlk: its result */
        int64_t kc_qbytes;  /* queued.max.messages.kbytes, in bytes */
        int64_t kc_avg_len; /* running mean size of a message (bytes) */
};

/* ---- logging ---- */

static void kcons_log_cb(const rd_kafka_t *rk, int level, const char *fac,
                         const char *buf) {
        (void)rk;
        cdc_log(level, "RDKAFKA", "%s: %s", fac, buf);
}

/* Errors no retry can fix: refused credentials, an untrusted broker
 * certificate, a missing ACL. librdkafka retries them forever, so the
 * consumer would sit idle with Redis up and /readyz green: stop instead,
 * naming the cause (exit 1), as the Java client does with its
 * AuthenticationException and AuthorizationException. A refusal by ACL
 * gets KCONS_DENIED_GRACE_MS first: an ACL created just before the
 * consumer starts can reach the broker's authorizer a moment later. */
#define KCONS_DENIED_GRACE_MS 10000

static const char *kcons_denied(rd_kafka_resp_err_t err, int *authz) {
        *authz = 0;
        switch (err) {
        case RD_KAFKA_RESP_ERR__AUTHENTICATION:
                return "Kafka authentication failed";
        case RD_KAFKA_RESP_ERR__SSL:
                return "Kafka TLS handshake failed";
        case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
        case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
        case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
                *authz = 1;
                return "not authorized by Kafka (missing ACL)";
        default:
                return NULL;
        }
}

/* The timeout to give rd_kafka_seek_partitions() for a wait of \p ms with
 * librdkafka \p version (rd_kafka_version()). Before 2.1.0 the call waits
 * its timeout in microseconds (it passes it to an internal queue pop that
 * takes them), so 10 s became 10 ms: under load the seeks, still under
 * way, were reported as timed out, and a replay was committed and sought
 * again at every retry. */
int cdc_kcons_seek_timeout(int ms, int version) {
        if (version >= 0x020100ff || ms <= 0)
                return ms;
        return ms > INT_MAX / 1000 ? INT_MAX : ms * 1000;
}

/* @returns 1 when ERR ends the consumer (logged), 0 otherwise.
 * @locality the thread that polls (error_cb is served by the poll calls) */
static int kcons_refused(cdc_kcons_t *kc, rd_kafka_resp_err_t err,
                         const char *what) {
        int authz;
        int64_t now;
        const char *denied = kcons_denied(err, &authz);
        if (!denied)
                return 0;
        if (authz) {
                now = cdc_now_us();
                if (!kc->kc_denied_since) {
                        kc->kc_denied_since = now;
                        cdc_log(LOG_ERR, "KCONS",
                                "%s: %s; stopping unless allowed within %d s",
                                denied, what, KCONS_DENIED_GRACE_MS / 1000);
                        return 0;
                }
                if (now - kc->kc_denied_since <
                    (int64_t)KCONS_DENIED_GRACE_MS * 1000)
                        return 0;
        }
        cdc_log(LOG_CRIT, "KCONS", "%s: %s", denied, what);
        kc->kc_fatal = 1;
        return 1;
}

static void kcons_error_cb(rd_kafka_t *rk, int err, const char *reason,
                           void *opaque) {
        cdc_kcons_t *kc = opaque;
        int authz;
        if (kcons_denied((rd_kafka_resp_err_t)err, &authz)) {
                kcons_refused(kc, (rd_kafka_resp_err_t)err, reason);
                return;
        }
        if (err == RD_KAFKA_RESP_ERR__FATAL) {
                char es[256];
                rd_kafka_fatal_error(rk, es, sizeof(es));
                cdc_log(LOG_CRIT, "KCONS", "fatal consumer error: %s", es);
                kc->kc_fatal = 1;
                return;
        }
        /* Transport errors are retried by librdkafka itself. */
        cdc_log(err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN ? LOG_WARNING
                                                           : LOG_INFO,
                "KCONS", "%s: %s", rd_kafka_err2name(err), reason);
}

/* ---- replay ---- */

static int kcons_seen(cdc_kcons_t *kc, const char *topic, int32_t part) {
        char key[300];
        int i;
        snprintf(key, sizeof(key), "%s/%" PRId32, topic, part);
        for (i = 0; i < kc->kc_seen_cnt; i++)
                if (!strcmp(kc->kc_seen[i], key))
                        return 1;
        if (kc->kc_seen_cnt < KCONS_MAX_SEEN) {
                kc->kc_seen[kc->kc_seen_cnt] = strdup(key);
                if (kc->kc_seen[kc->kc_seen_cnt])
                        kc->kc_seen_cnt++;
        }
        return 0;
}

/* Reposition partitions assigned for the first time when replaying. */
static void kcons_replay_positions(cdc_kcons_t *kc,
                                   rd_kafka_topic_partition_list_t *parts) {
        rd_kafka_topic_partition_list_t *q = NULL;
        rd_kafka_resp_err_t kerr;
        int i, j;

        if (kc->kc_cc->cc_replay == CDC_REPLAY_NONE)
                return;
        q = rd_kafka_topic_partition_list_new(parts->cnt);
        if (!q)
                return;
        for (i = 0; i < parts->cnt; i++) {
                rd_kafka_topic_partition_t *p = &parts->elems[i];
                if (kcons_seen(kc, p->topic, p->partition))
                        continue;
                if (kc->kc_cc->cc_replay == CDC_REPLAY_EARLIEST) {
                        p->offset = RD_KAFKA_OFFSET_BEGINNING;
                        kc->kc_replayed++;
                        cdc_log(LOG_NOTICE, "KCONS",
                                "replay: %s [%" PRId32 "] from the beginning",
                                p->topic, p->partition);
                } else {
                        rd_kafka_topic_partition_list_add(q, p->topic,
                                                          p->partition)
                                ->offset = kc->kc_cc->cc_replay_ts_ms;
                }
        }
        if (q->cnt) {
                kerr = rd_kafka_offsets_for_times(kc->kc_rk, q, 10000);
                if (kerr)
                        cdc_log(LOG_ERR, "KCONS",
                                "replay: offsets_for_times failed: %s; "
                                "partitions start from the beginning",
                                rd_kafka_err2str(kerr));
                for (j = 0; j < q->cnt; j++) {
                        rd_kafka_topic_partition_t *r = &q->elems[j];
                        int64_t off                   = r->offset;
                        /* Error: replay too much (harmless, every apply is
                         * version-checked) rather than too little. */
                        if (kerr || r->err)
                                off = RD_KAFKA_OFFSET_BEGINNING;
                        else if (off < 0) /* nothing at/after that time */
                                off = RD_KAFKA_OFFSET_END;
                        rd_kafka_topic_partition_list_find(parts, r->topic,
                                                           r->partition)
                                ->offset = off;
                        kc->kc_replayed++;
                        cdc_log(LOG_NOTICE, "KCONS",
                                "replay: %s [%" PRId32 "] from offset %" PRId64
                                " (time %" PRId64 ")",
                                r->topic, r->partition, off,
                                kc->kc_cc->cc_replay_ts_ms);
                }
        }
        rd_kafka_topic_partition_list_destroy(q);
}

/* ---- acknowledged positions (lag) ---- */

static kcons_ack_t *kcons_ack_find(cdc_kcons_t *kc, const char *topic,
                                   int32_t partition) {
        int i;
        for (i = 0; i < kc->kc_nack; i++)
                if (kc->kc_ack[i].partition == partition &&
                    !strcmp(kc->kc_ack[i].topic, topic))
                        return &kc->kc_ack[i];
        return NULL;
}

static void kcons_ack_clear(cdc_kcons_t *kc) {
        int i;
        for (i = 0; i < kc->kc_nack; i++)
                free(kc->kc_ack[i].topic);
        kc->kc_nack        = 0;
        kc->kc_ack_unknown = 0;
}

static void kcons_ack_count(cdc_kcons_t *kc) {
        int i;
        kc->kc_ack_unknown = 0;
        for (i = 0; i < kc->kc_nack; i++)
                if (kc->kc_ack[i].acked < 0 && kc->kc_ack[i].first < 0)
                        kc->kc_ack_unknown++;
}

/* Partitions assigned (add = 1) or revoked (add = 0). Out of memory: the
 * partition has no entry and its lag falls back to the position. */
static void kcons_ack_update(cdc_kcons_t *kc,
                             const rd_kafka_topic_partition_list_t *parts,
                             int add) {
        kcons_ack_t *e;
        int i;

        for (i = 0; i < parts->cnt; i++) {
                const rd_kafka_topic_partition_t *p = &parts->elems[i];
                e = kcons_ack_find(kc, p->topic, p->partition);
                if (!add) {
                        if (e) {
                                free(e->topic);
                                *e = kc->kc_ack[--kc->kc_nack];
                        }
                        continue;
                }
                if (!e) {
                        if (kc->kc_nack == kc->kc_ackcap) {
                                int cap =
                                        kc->kc_ackcap ? kc->kc_ackcap * 2 : 16;
                                kcons_ack_t *a = realloc(
                                        kc->kc_ack, (size_t)cap * sizeof(*a));
                                if (!a)
                                        continue;
                                kc->kc_ack    = a;
                                kc->kc_ackcap = cap;
                        }
                        e        = &kc->kc_ack[kc->kc_nack];
                        e->topic = strdup(p->topic);
                        if (!e->topic)
                                continue;
                        e->partition = p->partition;
                        kc->kc_nack++;
                }
                e->acked = -1;
                e->first = -1;
        }
        kcons_ack_count(kc);
}

static void kcons_ack_polled(cdc_kcons_t *kc, const rd_kafka_message_t *rkm) {
        kcons_ack_t *e = kcons_ack_find(kc, rd_kafka_topic_name(rkm->rkt),
                                        rkm->partition);
        if (e && e->acked < 0 && e->first < 0) {
                e->first = rkm->offset;
                kc->kc_ack_unknown--;
        }
}

/* ---- rebalance ---- */

/* @locality main thread, from inside rd_kafka_consumer_poll() */
static void kcons_rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                               rd_kafka_topic_partition_list_t *parts,
                               void *opaque) {
        cdc_kcons_t *kc = opaque;
        int coop = !strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE");
        rd_kafka_error_t *error  = NULL;
        rd_kafka_resp_err_t kerr = RD_KAFKA_RESP_ERR_NO_ERROR;

        kc->kc_rebalances++;
        switch (err) {
        case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
                if (parts->cnt > 0)
                        kc->kc_denied_since = 0; /* the group let us in */
                kcons_replay_positions(kc, parts);
                cdc_log(LOG_NOTICE, "KCONS", "assigned %d partition(s)%s",
                        parts->cnt, coop ? " (incremental)" : "");
                if (kc->kc_assign_cb && parts->cnt > 0)
                        kc->kc_assign_cb(kc->kc_opaque, parts);
                if (!coop)
                        kcons_ack_clear(kc);
                kcons_ack_update(kc, parts, 1);
                if (coop) {
                        error = rd_kafka_incremental_assign(rk, parts);
                        kc->kc_assigned += parts->cnt;
                } else {
                        kerr            = rd_kafka_assign(rk, parts);
                        kc->kc_assigned = parts->cnt;
                }
                /* A pause outlives unassign/assign in librdkafka: a
                 * partition paused while Redis was down and revoked would
                 * come back paused and stall. Whoever owns it now starts
                 * fetching. */
                if (!error && !kerr)
                        rd_kafka_resume_partitions(rk, parts);
                break;
        case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
                cdc_log(LOG_NOTICE, "KCONS", "revoking %d partition(s)",
                        parts->cnt);
                /* Finish what is in flight, then commit synchronously so
                 * the next owner starts exactly after what Redis has
                 * acknowledged (at most the unacknowledged tail is
                 * re-applied, which version checks make harmless). */
                if (kc->kc_revoke_cb)
                        kc->kc_revoke_cb(kc->kc_opaque, parts);
                if (!rd_kafka_assignment_lost(rk))
                        cdc_kcons_commit(kc);
                else
                        cdc_log(LOG_WARNING, "KCONS",
                                "assignment lost: not committing");
                kcons_ack_update(kc, parts, 0);
                if (coop) {
                        error = rd_kafka_incremental_unassign(rk, parts);
                        kc->kc_assigned -= parts->cnt;
                        if (kc->kc_assigned < 0)
                                kc->kc_assigned = 0;
                } else {
                        kerr            = rd_kafka_assign(rk, NULL);
                        kc->kc_assigned = 0;
                }
                break;
        default:
                cdc_log(LOG_ERR, "KCONS", "rebalance failed: %s",
                        rd_kafka_err2str(err));
                rd_kafka_assign(rk, NULL);
                kcons_ack_clear(kc);
                kc->kc_assigned = 0;
                break;
        }
        if (error) {
                cdc_log(LOG_ERR, "KCONS", "incremental (un)assign: %s",
                        rd_kafka_error_string(error));
                rd_kafka_error_destroy(error);
        } else if (kerr) {
                cdc_log(LOG_ERR, "KCONS", "(un)assign: %s",
                        rd_kafka_err2str(kerr));
        }
}

/* ---- public ---- */

/* Defaults that differ from librdkafka's (see cdc_kcons_new()). */
static const char *const kcons_defaults[][2] = {
        { "bootstrap.servers", "127.0.0.1:9092" },
        { "auto.offset.reset", "earliest" },
        /* The pre-fetch queue's bound counts message bytes, but librdkafka
         * checks it before a fetch and then adds the whole response, and
         * a compressed response grows several times once decompressed
         * (JSON events in lz4 sets): with 2 MiB responses a backlog of a
         * 1M-row transaction took the consumer to 100 MB.
         * Small fetches bound that overshoot; a larger message still
         * arrives whole (the broker returns at least one batch). A full
         * queue no longer idles the loop (cdc_kcons_refill()), so 4 MiB
         * applies as fast as 6 MiB did. */
        { "queued.max.messages.kbytes", "4096" },
        { "fetch.max.bytes", "524288" },
        { "max.partition.fetch.bytes", "131072" },
        /* librdkafka wants fetch.max.bytes >= message.max.bytes; a
         * consumer sends no large request, so this only lowers the floor */
        { "message.max.bytes", "524288" },
        { "fetch.error.backoff.ms", "10" },
        /* librdkafka's default too, said out loud: with
         * producer.transactions=true only committed events are applied */
        { "isolation.level", "read_committed" },
};

cdc_kcons_t *cdc_kcons_new(const cdc_cconf_t *cc,
                           cdc_kcons_revoke_cb_t *revoke_cb, void *opaque,
                           char *errstr, size_t errstr_size) {
        cdc_kcons_t *kc = NULL, *ret = NULL;
        rd_kafka_topic_partition_list_t *topics = NULL;
        rd_kafka_conf_t *kconf                  = NULL;
        rd_kafka_resp_err_t kerr;
        char es[512];
        size_t d;
        int i;

        kc = calloc(1, sizeof(*kc));
        if (kc) {
                pthread_mutex_init(&kc->kc_wlk, NULL);
                pthread_cond_init(&kc->kc_wcnd, NULL);
        }
        kconf = cdc_conf_kafka_dup(cc->cc_conf);
        if (!kc || !kconf ||
            !(kc->kc_seen = calloc(KCONS_MAX_SEEN, sizeof(char *)))) {
                snprintf(errstr, errstr_size, "out of memory");
                goto out;
        }
        for (d = 0; d < sizeof(kcons_defaults) / sizeof(*kcons_defaults); d++) {
                const char *k = kcons_defaults[d][0], *v = kcons_defaults[d][1];
                const char *mine;
                /* librdkafka wants fetch.max.bytes >= message.max.bytes:
                 * a larger message.max.bytes set by the user wins, and a
                 * smaller fetch.max.bytes set by the user lowers ours */
                if (!strcmp(k, "fetch.max.bytes") &&
                    (mine = cdc_conf_kafka_get(cc->cc_conf,
                                               "message.max.bytes")) &&
                    strtoll(mine, NULL, 10) > strtoll(v, NULL, 10))
                        continue;
                if (!strcmp(k, "message.max.bytes") &&
                    (mine = cdc_conf_kafka_get(cc->cc_conf,
                                               "fetch.max.bytes")) &&
                    strtoll(mine, NULL, 10) < strtoll(v, NULL, 10))
                        v = mine;
                if (!cdc_conf_kafka_get(cc->cc_conf, k) &&
                    rd_kafka_conf_set(kconf, k, v, es, sizeof(es))) {
                        snprintf(errstr, errstr_size, "kafka: %s", es);
                        goto out;
                }
        }
        {
                char qk[32];
                size_t qks = sizeof(qk);
                if (rd_kafka_conf_get(kconf, "queued.max.messages.kbytes", qk,
                                      &qks) == RD_KAFKA_CONF_OK)
                        kc->kc_qbytes = strtoll(qk, NULL, 10) * 1024;
        }
        kc->kc_cc        = cc;
        kc->kc_revoke_cb = revoke_cb;
        kc->kc_opaque    = opaque;

        /* Offsets are stored by hand once Redis acknowledged; the
         * auto-committer only commits what was stored. */
        if (rd_kafka_conf_set(kconf, "group.id", cc->cc_group_id, es,
                              sizeof(es)) ||
            rd_kafka_conf_set(kconf, "enable.auto.offset.store", "false", es,
                              sizeof(es))) {
                snprintf(errstr, errstr_size, "kafka: %s", es);
                goto out;
        }
        rd_kafka_conf_set_rebalance_cb(kconf, kcons_rebalance_cb);
        rd_kafka_conf_set_error_cb(kconf, kcons_error_cb);
        rd_kafka_conf_set_log_cb(kconf, kcons_log_cb);
        rd_kafka_conf_set_opaque(kconf, kc);

        kc->kc_rk = rd_kafka_new(RD_KAFKA_CONSUMER, kconf, es, sizeof(es));
        if (!kc->kc_rk) {
                snprintf(errstr, errstr_size, "kafka: %s", es);
                goto out;
        }
        kconf = NULL;
        rd_kafka_poll_set_consumer(kc->kc_rk);

        topics = rd_kafka_topic_partition_list_new(cc->cc_topic_cnt);
        for (i = 0; i < cc->cc_topic_cnt; i++)
                rd_kafka_topic_partition_list_add(topics, cc->cc_topics[i],
                                                  RD_KAFKA_PARTITION_UA);
        kerr = rd_kafka_subscribe(kc->kc_rk, topics);
        if (kerr) {
                snprintf(errstr, errstr_size, "subscribe: %s",
                         rd_kafka_err2str(kerr));
                goto out;
        }
        for (i = 0; i < cc->cc_topic_cnt; i++)
                cdc_log(LOG_NOTICE, "KCONS", "subscribed to %s (group %s)",
                        cc->cc_topics[i], cc->cc_group_id);
        ret = kc;
        kc  = NULL;
out:
        if (topics)
                rd_kafka_topic_partition_list_destroy(topics);
        if (kconf)
                rd_kafka_conf_destroy(kconf);
        cdc_kcons_destroy(kc);
        return ret;
}

/* ---- fetcher wake-up thread (see cdc_kcons_refill()) ---- */

/* Refill checks at most this often; a wake-up that timed out (a leader
 * unreachable) waits KCONS_WAKE_BACKOFF_MS before the next. */
#define KCONS_WAKE_EVERY_MS   10
#define KCONS_WAKE_TIMEOUT_MS 100
#define KCONS_WAKE_BACKOFF_MS 1000

/* A wake-up that failed (timed out, or no thread to send it) woke nothing:
 * the next one waits KCONS_WAKE_BACKOFF_MS. @locality main thread */
static void kcons_wake_failed(cdc_kcons_t *kc, const char *why) {
        cdc_dbg(KCONS, "KCONS", "fetcher wake-up: %s", why);
        kc->kc_woke         = 0;
        kc->kc_wake_next_us = cdc_now_us() + KCONS_WAKE_BACKOFF_MS * 1000;
}

/* @locality waker thread */
static void *kcons_waker(void *arg) {
        cdc_kcons_t *kc = arg;
        rd_kafka_topic_partition_list_t *req;
        rd_kafka_resp_err_t kerr;

        pthread_mutex_lock(&kc->kc_wlk);
        for (;;) {
                while (!kc->kc_wt_stop && !kc->kc_wt_req)
                        pthread_cond_wait(&kc->kc_wcnd, &kc->kc_wlk);
                if (kc->kc_wt_stop)
                        break;
                req           = kc->kc_wt_req;
                kc->kc_wt_req = NULL;
                pthread_mutex_unlock(&kc->kc_wlk);
                /* One ListOffsets per leader of the assignment: its reply
                 * wakes that broker's thread, which then fetches. */
                kerr = rd_kafka_offsets_for_times(kc->kc_rk, req,
                                                  KCONS_WAKE_TIMEOUT_MS);
                rd_kafka_topic_partition_list_destroy(req);
                pthread_mutex_lock(&kc->kc_wlk);
                kc->kc_wt_err  = kerr;
                kc->kc_wt_busy = 0;
                kc->kc_wt_done = 1;
        }
        pthread_mutex_unlock(&kc->kc_wlk);
        return NULL;
}

/* Hand \p req (taken over) to the waker thread, starting it if needed.
 * @returns 0, or -1 (no thread: \p req is still the caller's)
 * @locality main thread */
static int kcons_waker_start(cdc_kcons_t *kc,
                             rd_kafka_topic_partition_list_t *req) {
        if (!kc->kc_wt_up) {
                if (pthread_create(&kc->kc_wt, NULL, kcons_waker, kc))
                        return -1;
                kc->kc_wt_up = 1;
        }
        pthread_mutex_lock(&kc->kc_wlk);
        kc->kc_wt_req  = req;
        kc->kc_wt_busy = 1;
        pthread_cond_signal(&kc->kc_wcnd);
        pthread_mutex_unlock(&kc->kc_wlk);
        return 0;
}

/* @returns 1 while a wake-up is under way; collects the answer of the
 *          last one (a timeout backs the next off).
 * @locality main thread */
static int kcons_waker_busy(cdc_kcons_t *kc) {
        rd_kafka_resp_err_t kerr = RD_KAFKA_RESP_ERR_NO_ERROR;
        int busy, done;

        if (!kc->kc_wt_up)
                return 0;
        pthread_mutex_lock(&kc->kc_wlk);
        busy           = kc->kc_wt_busy;
        done           = kc->kc_wt_done;
        kc->kc_wt_done = 0;
        if (done)
                kerr = kc->kc_wt_err;
        pthread_mutex_unlock(&kc->kc_wlk);
        if (done && kerr)
                kcons_wake_failed(kc, rd_kafka_err2str(kerr));
        return busy;
}

/* Ends the waker thread (a request under way first runs out: at most
 * KCONS_WAKE_TIMEOUT_MS). @locality main thread */
static void kcons_waker_stop(cdc_kcons_t *kc) {
        if (!kc->kc_wt_up)
                return;
        pthread_mutex_lock(&kc->kc_wlk);
        kc->kc_wt_stop = 1;
        pthread_cond_signal(&kc->kc_wcnd);
        pthread_mutex_unlock(&kc->kc_wlk);
        pthread_join(kc->kc_wt, NULL);
        kc->kc_wt_up = 0;
        if (kc->kc_wt_req) { /* handed, never taken */
                rd_kafka_topic_partition_list_destroy(kc->kc_wt_req);
                kc->kc_wt_req = NULL;
        }
}

void cdc_kcons_destroy(cdc_kcons_t *kc) {
        int i;
        if (!kc)
                return;
        kcons_waker_stop(kc);
        pthread_mutex_destroy(&kc->kc_wlk);
        pthread_cond_destroy(&kc->kc_wcnd);
        if (kc->kc_rk)
                rd_kafka_destroy(kc->kc_rk);
        if (kc->kc_seen) {
                for (i = 0; i < kc->kc_seen_cnt; i++)
                        free(kc->kc_seen[i]);
                free(kc->kc_seen);
        }
        kcons_ack_clear(kc);
        free(kc->kc_ack);
        free(kc);
}

rd_kafka_message_t *cdc_kcons_poll(cdc_kcons_t *kc, int timeout_ms) {
        rd_kafka_message_t *rkm = rd_kafka_consumer_poll(kc->kc_rk, timeout_ms);
        char what[512];
        int authz;
        /* refused by ACL and nothing allowed since: the grace is over */
        if (kc->kc_denied_since && !kc->kc_fatal &&
            cdc_now_us() - kc->kc_denied_since >=
                    (int64_t)KCONS_DENIED_GRACE_MS * 1000) {
                cdc_log(LOG_CRIT, "KCONS",
                        "not authorized by Kafka (missing ACL): still "
                        "refused after %d s",
                        KCONS_DENIED_GRACE_MS / 1000);
                kc->kc_fatal = 1;
        }
        if (!rkm)
                return NULL;
        if (!rkm->err) {
                int64_t len         = (int64_t)rkm->len + (int64_t)rkm->key_len;
                kc->kc_denied_since = 0; /* reading again: allowed */
                kc->kc_avg_len =
                        kc->kc_avg_len
                                ? kc->kc_avg_len + (len - kc->kc_avg_len) / 64
                                : len;
                if (kc->kc_ack_unknown > 0)
                        kcons_ack_polled(kc, rkm);
                return rkm;
        }
        if (kcons_denied(rkm->err, &authz)) {
                snprintf(what, sizeof(what), "%s [%" PRId32 "]: %s",
                         rkm->rkt ? rd_kafka_topic_name(rkm->rkt) : "-",
                         rkm->partition, rd_kafka_message_errstr(rkm));
                kcons_refused(kc, rkm->err, what);
        } else if (rkm->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                cdc_log(rkm->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART
                                ? LOG_NOTICE
                                : LOG_WARNING,
                        "KCONS", "%s [%" PRId32 "]: %s",
                        rkm->rkt ? rd_kafka_topic_name(rkm->rkt) : "-",
                        rkm->partition, rd_kafka_message_errstr(rkm));
        rd_kafka_message_destroy(rkm);
        return NULL;
}

/* Per partition, keep the lowest (min=1) or highest offset of msgs. */
static rd_kafka_topic_partition_list_t *kcons_offsets(
        rd_kafka_message_t *const *msgs, size_t n, int min) {
        rd_kafka_topic_partition_list_t *l =
                rd_kafka_topic_partition_list_new(16);
        size_t i;

        for (i = 0; l && i < n; i++) {
                const char *t = rd_kafka_topic_name(msgs[i]->rkt);
                rd_kafka_topic_partition_t *p =
                        rd_kafka_topic_partition_list_find(l, t,
                                                           msgs[i]->partition);
                int64_t off = min ? msgs[i]->offset : msgs[i]->offset + 1;
                if (!p)
                        rd_kafka_topic_partition_list_add(l, t,
                                                          msgs[i]->partition)
                                ->offset = off;
                else if (min ? off < p->offset : off > p->offset)
                        p->offset = off;
        }
        return l;
}

cdc_err_t cdc_kcons_store(cdc_kcons_t *kc, rd_kafka_message_t *const *msgs,
                          size_t n) {
        rd_kafka_topic_partition_list_t *l;
        cdc_err_t err = CDC_ERR_NO_ERROR;
        int i;

        if (!n)
                return CDC_ERR_NO_ERROR;
        l = kcons_offsets(msgs, n, 0);
        if (!l)
                return CDC_ERR__NOMEM;
        rd_kafka_offsets_store(kc->kc_rk, l);
        for (i = 0; i < l->cnt; i++) {
                if (!l->elems[i].err) {
                        kcons_ack_t *e = kcons_ack_find(kc, l->elems[i].topic,
                                                        l->elems[i].partition);
                        if (e) {
                                if (e->acked < 0 && e->first < 0)
                                        kc->kc_ack_unknown--;
                                e->acked = l->elems[i].offset;
                        }
                        continue;
                }
                /* Not assigned any more: the new owner re-reads it. */
                cdc_log(LOG_INFO, "KCONS",
                        "%s [%" PRId32 "]: offset %" PRId64 " not stored: %s",
                        l->elems[i].topic, l->elems[i].partition,
                        l->elems[i].offset, rd_kafka_err2str(l->elems[i].err));
                err = CDC_ERR__STATE;
        }
        rd_kafka_topic_partition_list_destroy(l);
        return err;
}

void cdc_kcons_rewind(cdc_kcons_t *kc, rd_kafka_message_t *const *msgs,
                      size_t n) {
        rd_kafka_topic_partition_list_t *l, *asg = NULL;
        rd_kafka_topic_partition_list_t *seek;
        rd_kafka_error_t *error;
        int i;

        if (!n)
                return;
        l = kcons_offsets(msgs, n, 1);
        if (!l)
                return;
        if (rd_kafka_assignment(kc->kc_rk, &asg) || !asg) {
                rd_kafka_topic_partition_list_destroy(l);
                return;
        }
        seek = rd_kafka_topic_partition_list_new(l->cnt);
        for (i = 0; i < l->cnt; i++)
                if (rd_kafka_topic_partition_list_find(asg, l->elems[i].topic,
                                                       l->elems[i].partition))
                        rd_kafka_topic_partition_list_add(
                                seek, l->elems[i].topic, l->elems[i].partition)
                                ->offset = l->elems[i].offset;
        if (seek->cnt) {
                error = rd_kafka_seek_partitions(
                        kc->kc_rk, seek,
                        cdc_kcons_seek_timeout(5000, rd_kafka_version()));
                if (error) {
                        cdc_log(LOG_WARNING, "KCONS", "rewind: %s",
                                rd_kafka_error_string(error));
                        rd_kafka_error_destroy(error);
                }
        }
        rd_kafka_topic_partition_list_destroy(seek);
        rd_kafka_topic_partition_list_destroy(asg);
        rd_kafka_topic_partition_list_destroy(l);
}

cdc_err_t cdc_kcons_commit(cdc_kcons_t *kc) {
        rd_kafka_resp_err_t kerr = rd_kafka_commit(kc->kc_rk, NULL, 0);
        if (kerr && kerr != RD_KAFKA_RESP_ERR__NO_OFFSET) {
                cdc_log(LOG_WARNING, "KCONS", "commit: %s",
                        rd_kafka_err2str(kerr));
                return CDC_ERR__TRANSPORT;
        }
        cdc_dbg(KCONS, "KCONS", "committed");
        return CDC_ERR_NO_ERROR;
}

rd_kafka_topic_partition_list_t *cdc_kcons_assignment(cdc_kcons_t *kc) {
        rd_kafka_topic_partition_list_t *asg = NULL;
        if (rd_kafka_assignment(kc->kc_rk, &asg))
                return NULL;
        return asg;
}

void cdc_kcons_set_assign_cb(cdc_kcons_t *kc, cdc_kcons_assign_cb_t *cb) {
        kc->kc_assign_cb = cb;
}

/* Set each element's offset to its partition's low watermark. */
static cdc_err_t kcons_low_watermarks(cdc_kcons_t *kc,
                                      rd_kafka_topic_partition_list_t *l) {
        rd_kafka_resp_err_t kerr;
        int64_t lo, hi;
        int i;

        for (i = 0; i < l->cnt; i++) {
                rd_kafka_topic_partition_t *p = &l->elems[i];
                kerr = rd_kafka_query_watermark_offsets(
                        kc->kc_rk, p->topic, p->partition, &lo, &hi, 10000);
                if (kerr) {
                        cdc_log(LOG_WARNING, "KCONS",
                                "%s [%" PRId32 "]: low watermark: %s", p->topic,
                                p->partition, rd_kafka_err2str(kerr));
                        return CDC_ERR__TRANSPORT;
                }
                p->offset = lo;
        }
        return CDC_ERR_NO_ERROR;
}

static void kcons_log_replay(const rd_kafka_topic_partition_list_t *l) {
        int i;
        for (i = 0; i < l->cnt; i++)
                cdc_log(LOG_NOTICE, "KCONS",
                        "replay: %s [%" PRId32 "] from offset %" PRId64
                        " (its beginning), committed",
                        l->elems[i].topic, l->elems[i].partition,
                        l->elems[i].offset);
}

cdc_err_t cdc_kcons_commit_beginning(cdc_kcons_t *kc,
                                     rd_kafka_topic_partition_list_t *parts) {
        rd_kafka_resp_err_t kerr;

        if (!parts->cnt)
                return CDC_ERR_NO_ERROR;
        if (kcons_low_watermarks(kc, parts) != CDC_ERR_NO_ERROR)
                return CDC_ERR__TRANSPORT;
        /* not assigned yet: nothing stored to race with (librdkafka
         * resets a partition's stored offset when it is assigned) */
        kerr = rd_kafka_commit(kc->kc_rk, parts, 0);
        if (kerr) {
                cdc_log(LOG_WARNING, "KCONS", "replay: commit: %s",
                        rd_kafka_err2str(kerr));
                return CDC_ERR__TRANSPORT;
        }
        kcons_log_replay(parts);
        return CDC_ERR_NO_ERROR;
}

cdc_err_t cdc_kcons_restart(cdc_kcons_t *kc,
                            const rd_kafka_topic_partition_list_t *parts) {
        rd_kafka_topic_partition_list_t *l = NULL, *asg = NULL;
        rd_kafka_resp_err_t kerr;
        rd_kafka_error_t *error;
        cdc_err_t err = CDC_ERR__TRANSPORT;
        int i;

        asg = cdc_kcons_assignment(kc);
        l   = rd_kafka_topic_partition_list_new(parts->cnt);
        if (!asg || !l)
                goto out;
        for (i = 0; i < parts->cnt; i++) {
                const rd_kafka_topic_partition_t *p = &parts->elems[i];
                if (rd_kafka_topic_partition_list_find(asg, p->topic,
                                                       p->partition))
                        rd_kafka_topic_partition_list_add(l, p->topic,
                                                          p->partition);
        }
        if (!l->cnt) {
                err = CDC_ERR_NO_ERROR;
                goto out;
        }
        if (kcons_low_watermarks(kc, l) != CDC_ERR_NO_ERROR)
                goto out;
        /* Store first: an offset stored earlier (higher) committed by the
         * auto-committer or a revoke after this commit would skip the
         * replay for whoever owns the partition next. */
        rd_kafka_offsets_store(kc->kc_rk, l);
        kerr = rd_kafka_commit(kc->kc_rk, l, 0);
        if (kerr) {
                cdc_log(LOG_WARNING, "KCONS", "replay: commit: %s",
                        rd_kafka_err2str(kerr));
                goto out;
        }
        error = rd_kafka_seek_partitions(
                kc->kc_rk, l,
                cdc_kcons_seek_timeout(10000, rd_kafka_version()));
        if (error) {
                /* committed, but the fetch goes on from where it was and
                 * a later store would commit past the replay: the caller
                 * must not record it as started, and tries again */
                cdc_log(LOG_WARNING, "KCONS", "replay: seek: %s",
                        rd_kafka_error_string(error));
                rd_kafka_error_destroy(error);
                goto out;
        }
        for (i = 0; i < l->cnt; i++) {
                kcons_ack_t *e = kcons_ack_find(kc, l->elems[i].topic,
                                                l->elems[i].partition);
                if (e)
                        e->acked = l->elems[i].offset;
        }
        kcons_ack_count(kc);
        kcons_log_replay(l);
        err = CDC_ERR_NO_ERROR;
out:
        if (l)
                rd_kafka_topic_partition_list_destroy(l);
        if (asg)
                rd_kafka_topic_partition_list_destroy(asg);
        return err;
}

void cdc_kcons_pause(cdc_kcons_t *kc, int pause) {
        rd_kafka_topic_partition_list_t *asg = NULL;
        if (rd_kafka_assignment(kc->kc_rk, &asg) || !asg)
                return;
        if (asg->cnt) {
                if (pause)
                        rd_kafka_pause_partitions(kc->kc_rk, asg);
                else
                        rd_kafka_resume_partitions(kc->kc_rk, asg);
        }
        rd_kafka_topic_partition_list_destroy(asg);
}

int cdc_kcons_lag(cdc_kcons_t *kc, cdc_kcons_lag_cb_t *cb, void *opaque) {
        rd_kafka_topic_partition_list_t *parts = NULL;
        int i, n = 0;

        if (rd_kafka_assignment(kc->kc_rk, &parts) || !parts)
                return -1;
        /* the application's position: next offset consumer_poll returns */
        if (parts->cnt && rd_kafka_position(kc->kc_rk, parts)) {
                rd_kafka_topic_partition_list_destroy(parts);
                return -1;
        }
        for (i = 0; i < parts->cnt; i++) {
                const rd_kafka_topic_partition_t *p = &parts->elems[i];
                const kcons_ack_t *e =
                        kcons_ack_find(kc, p->topic, p->partition);
                int64_t lo = -1, hi = -1, from = p->offset;

                if (e && e->acked >= 0)
                        from = e->acked;
                else if (e && e->first >= 0)
                        from = e->first;
                if (from < 0 ||
                    rd_kafka_get_watermark_offsets(kc->kc_rk, p->topic,
                                                   p->partition, &lo, &hi) ||
                    hi < 0)
                        continue;
                cb(opaque, p->topic, p->partition, hi > from ? hi - from : 0);
                n++;
        }
        rd_kafka_topic_partition_list_destroy(parts);
        return n;
}

int cdc_kcons_refill(cdc_kcons_t *kc, int want) {
        rd_kafka_topic_partition_list_t *parts = NULL;
        rd_kafka_queue_t *q;
        int64_t now = cdc_now_us(), queued, low = want;
        int64_t behind = 0, pos = 0, his = 0;
        int woke = 0;
        int i;

        if (kcons_waker_busy(kc) || now < kc->kc_wake_next_us ||
            kc->kc_closing || !kc->kc_assigned)
                return 0;
        kc->kc_wake_next_us = now + KCONS_WAKE_EVERY_MS * 1000;
        /* The low-water mark: half the queue's bound, in messages of the
         * mean size seen. Woken only when nearly drained, the fetcher had
         * one batch's time to answer and the loop often waited. */
        if (kc->kc_qbytes > 0 && kc->kc_avg_len > 0 &&
            kc->kc_qbytes / 2 / kc->kc_avg_len > low)
                low = kc->kc_qbytes / 2 / kc->kc_avg_len;
        q = rd_kafka_queue_get_consumer(kc->kc_rk);
        if (!q)
                return 0;
        queued = (int64_t)rd_kafka_queue_length(q);
        rd_kafka_queue_destroy(q);
        if (queued >= low)
                return 0;
        if (rd_kafka_assignment(kc->kc_rk, &parts) || !parts)
                return 0;
        if (!parts->cnt || rd_kafka_position(kc->kc_rk, parts))
                goto out;
        /* what the brokers hold beyond the application's position, as of
         * the last fetch responses (cached: no request) */
        for (i = 0; i < parts->cnt; i++) {
                rd_kafka_topic_partition_t *p = &parts->elems[i];
                int64_t lo = -1, hi = -1;

                if (p->offset >= 0 &&
                    !rd_kafka_get_watermark_offsets(kc->kc_rk, p->topic,
                                                    p->partition, &lo, &hi) &&
                    hi > p->offset) {
                        behind += hi - p->offset;
                        pos += p->offset;
                        his += hi;
                }
                p->offset = RD_KAFKA_OFFSET_END; /* the query: latest */
        }
        if (behind <= queued)
                goto out; /* everything is fetched already */
        /* Nothing consumed and nothing new since the last wake-up: it
         * fetched what there was. What looks left is no message (the
         * commit markers of transactions sit below the high watermark
         * for good), and waking again would only repeat the request. */
        if (kc->kc_woke && pos == kc->kc_wake_pos && his == kc->kc_wake_hi)
                goto out;
        if (kcons_waker_start(kc, parts)) {
                kcons_wake_failed(kc, "no thread to send it");
                goto out;
        }
        parts = NULL; /* the waker's now */
        kc->kc_wakes++;
        woke            = 1;
        kc->kc_woke     = 1;
        kc->kc_wake_pos = pos;
        kc->kc_wake_hi  = his;
out:
        if (parts)
                rd_kafka_topic_partition_list_destroy(parts);
        return woke;
}

uint64_t cdc_kcons_wakes(const cdc_kcons_t *kc) {
        return kc->kc_wakes;
}

int cdc_kcons_assigned(const cdc_kcons_t *kc) {
        return kc->kc_assigned;
}

uint64_t cdc_kcons_rebalances(const cdc_kcons_t *kc) {
        return kc->kc_rebalances;
}

uint64_t cdc_kcons_replayed(const cdc_kcons_t *kc) {
        return kc->kc_replayed;
}

int cdc_kcons_fatal(const cdc_kcons_t *kc) {
        return kc->kc_fatal;
}

void cdc_kcons_close(cdc_kcons_t *kc) {
        rd_kafka_resp_err_t kerr;
        if (kc->kc_closing)
                return;
        kc->kc_closing = 1;
        kcons_waker_stop(kc); /* no request of its own while leaving */
        cdc_kcons_commit(kc);
        kerr = rd_kafka_consumer_close(kc->kc_rk);
        if (kerr)
                cdc_log(LOG_WARNING, "KCONS", "close: %s",
                        rd_kafka_err2str(kerr));
        else
                cdc_log(LOG_NOTICE, "KCONS", "left the group");
}

rd_kafka_t *cdc_kcons_rk(cdc_kcons_t *kc) {
        return kc->kc_rk;
}
