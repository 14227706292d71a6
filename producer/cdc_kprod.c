/**
 * @file cdc_kprod.c
 * @brief Idempotent Kafka producer with never-drop back-pressure.
 *
 * Back-pressure follows librdkafka's examples/producer.c: on
 * RD_KAFKA_RESP_ERR__QUEUE_FULL serve delivery reports and retry. Per-row
 * order survives retries because the idempotent producer keeps at most
 * 5 requests in flight per partition and sequences them (KIP-98).
 *
 * The publisher thread (cdc_kprod_publisher_start()): the main thread
 * only checks a message and puts it in a bounded ring, in order; one
 * thread takes them in that order and hands them to librdkafka
 * (rd_kafka_producev(), waiting on a full queue), and serves librdkafka's
 * events (rd_kafka_poll()). librdkafka's per-message work then runs beside
 * the decoding instead of on its thread. Delivery reports, whichever
 * thread serves them, are counted on that thread and appended to a list
 * of acknowledgements once per run of one sequence number (kp_lock once
 * per run, not per message); the thread that calls cdc_kprod_poll() or
 * cdc_kprod_flush() passes them to the callback, so the callback keeps
 * running on the main thread, with or without the publisher. Every
 * operation that needs what was produced to be in librdkafka (flush,
 * commit, abort) first waits for the ring to empty.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <time.h>

#include "cdc_kprod.h"
#include "cdc_backoff.h"
#include "cdc_log.h"

#define KPROD_TOPICS_MAX 64

/* The ring between the main thread and the publisher: at most this many
 * messages, and this many bytes of keys and values (a larger message
 * still goes into an empty ring), so it stays small beside librdkafka's
 * own queue (queue.buffering.max.kbytes). */
#define KPROD_RING_CAP   CDC_KPROD_RING
#define KPROD_RING_BYTES (2u << 20)
/* messages the publisher takes from the ring at once */
#define KPROD_TAKE_MAX   (KPROD_RING_CAP / 4 < 256 ? KPROD_RING_CAP / 4 : 256)
/* While messages keep coming, the publisher naps KPROD_NAP_MS between
 * batches and is woken early only once KPROD_WAKE_AT wait: one wake-up
 * per message would cost more than the message. After KPROD_QUIET_US
 * without one, it sleeps (KPROD_SLEEP_MS) and the next message wakes it. */
#define KPROD_NAP_MS     2
#define KPROD_WAKE_AT    64
#define KPROD_QUIET_US   100000
#define KPROD_SLEEP_MS   100
/* A key and value up to this long together are copied into the ring slot
 * (the value's buffer is freed at once, on the thread that made it) and
 * librdkafka copies them into its message (RD_KAFKA_MSG_F_COPY), freed
 * on the publisher: no buffer crosses threads, so no malloc arena is
 * shared. A longer value is handed over as it is (RD_KAFKA_MSG_F_FREE). */
#ifndef KPROD_VAL_INLINE
#define KPROD_VAL_INLINE 1000
#endif
#define KPROD_KEY_INLINE   64
/* librdkafka's RD_KAFKAP_MESSAGE_V2_MAX_OVERHEAD: it refuses a message
 * whose key, value and headers plus this exceed message.max.bytes */
#define KPROD_MSG_OVERHEAD 36

typedef struct kprod_job_s {
        rd_kafka_topic_t *kj_rkt;
        char *kj_value; /* owned (malloc()ed), or in kj_buf; NULL: none */
        size_t kj_len;
        rd_kafka_headers_t *kj_hdrs; /* owned */
        char *kj_key;                /* owned (malloc()ed), or in kj_buf */
        size_t kj_keylen;
        uint64_t kj_seq;
        int32_t kj_partition;
        int kj_inline; /* kj_value is in kj_buf */
        int kj_kalloc; /* kj_key is malloc()ed */
        char kj_buf[KPROD_KEY_INLINE + KPROD_VAL_INLINE]; /* key, value */
} kprod_job_t;

/* kp_ack_cnt acknowledgements of messages with sequence number seq */
typedef struct kprod_ack_s {
        uint64_t ka_seq;
        uint64_t ka_cnt;
        cdc_err_t ka_err;
} kprod_ack_t;

struct cdc_kprod_s {
        rd_kafka_t *kp_rk;
        struct {
                char *name;
                rd_kafka_topic_t *rkt;
        } kp_topics[KPROD_TOPICS_MAX];
        int kp_topic_cnt;
        cdc_kprod_dr_cb_t *kp_dr_cb;
        void *kp_opaque;
        volatile sig_atomic_t *kp_run;
        int kp_fatal;                  /* __atomic: set by any thread */
        volatile sig_atomic_t kp_down; /* all brokers down, not seen up
                                        * since (read by any thread) */
        size_t kp_max_bytes;           /* message.max.bytes in effect */

        /* transactions (producer.transactions=true) */
        int kp_txn;              /* transactional.id set */
        int kp_txn_inited;       /* init_transactions done on this kp_rk */
        int kp_txn_open;         /* begin_transaction done, not ended */
        int kp_txn_abort;        /* __atomic: abort before the next one */
        int64_t kp_txn_begun_us; /* when the open one began */
        rd_kafka_conf_t *kp_rkc; /* template to make kp_rk again */
        int kp_nice;             /* added to the helper threads' nice */

        /* kp_lock guards the fields below (and kp_errstr), written by
         * librdkafka's callbacks on any thread and by the publisher */
        pthread_mutex_t kp_lock;
        pthread_cond_t kp_cnd_room; /* the ring shrank (main waits) */
        pthread_cond_t kp_cnd_ack;  /* an acknowledgement came */
        char kp_errstr[512];
        char kp_down_why[256];
        char kp_drwhy[256];   /* why the first delivery failed */
        kprod_ack_t *kp_acks; /* not yet passed to kp_dr_cb */
        size_t kp_ack_cnt, kp_ack_cap;
        kprod_job_t *kp_ring; /* the publisher's; NULL without one */
        /* Single producer, single consumer: the main thread fills slot
         * head % KPROD_RING_CAP and moves kp_ring_head; the publisher
         * hands over [tail, taken) and moves kp_ring_tail (both
         * __atomic). kp_ring_taken (kp_lock) keeps a purge off the slots
         * being handed over. */
        uint64_t kp_ring_head;
        uint64_t kp_ring_tail;
        uint64_t kp_ring_taken;
        /* __atomic: the publisher has handed over (or discarded) the
         * taken jobs before this one; those slots are freed only when
         * the whole take is, but the messages are librdkafka's */
        uint64_t kp_ring_handed;
        size_t kp_ring_bytes; /* __atomic: keys and values in the ring */
        int kp_pub_on;        /* the thread runs */
        int kp_pub_stop;      /* asks it to end (also read __atomic) */
        int kp_pub_idle;      /* __atomic: it waits in rd_kafka_poll() */
        int kp_pub_sleep;     /* __atomic: for long (KPROD_SLEEP_MS) */
        /* __atomic: microseconds produce waited for room in the ring
         * (the publisher behind), and handing a message to librdkafka
         * waited for room in its queue (Kafka behind) */
        int64_t kp_ring_wait_us;
        int64_t kp_queue_wait_us;
        pthread_t kp_pub;
        rd_kafka_queue_t *kp_mainq; /* to wake it (rd_kafka_queue_yield) */

        /* the main thread's own */
        kprod_ack_t *kp_acks_out; /* swapped with kp_acks to serve them */
        size_t kp_acks_out_cap;
        char kp_errout[512];  /* cdc_kprod_errstr()'s copy */
        char kp_downout[256]; /* cdc_kprod_down_reason()'s */
};

/* ---- errors and acknowledgements (any thread) ---- */

static int kprod_is_fatal(const cdc_kprod_t *kp) {
        return __atomic_load_n(&kp->kp_fatal, __ATOMIC_ACQUIRE);
}

static void kprod_wake_all(cdc_kprod_t *kp) {
        pthread_cond_broadcast(&kp->kp_cnd_room);
        pthread_cond_broadcast(&kp->kp_cnd_ack);
}

/* The error text, and the producer stopped for good when \p fatal. The
 * first fatal error's text stays. */
static void kprod_err(cdc_kprod_t *kp, int fatal, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static void kprod_err(cdc_kprod_t *kp, int fatal, const char *fmt, ...) {
        va_list ap;
        pthread_mutex_lock(&kp->kp_lock);
        if (!kprod_is_fatal(kp)) {
                va_start(ap, fmt);
                vsnprintf(kp->kp_errstr, sizeof(kp->kp_errstr), fmt, ap);
                va_end(ap);
        }
        if (fatal) {
                __atomic_store_n(&kp->kp_fatal, 1, __ATOMIC_RELEASE);
                kprod_wake_all(kp);
        }
        pthread_mutex_unlock(&kp->kp_lock);
}

/* One more acknowledgement (or failure) of \p seq, merged with the last
 * one when it has the same number. kp_lock held. */
static void kprod_ack_push(cdc_kprod_t *kp, uint64_t seq, uint64_t cnt,
                           cdc_err_t err) {
        kprod_ack_t *a;

        if (kp->kp_ack_cnt) {
                a = &kp->kp_acks[kp->kp_ack_cnt - 1];
                if (a->ka_seq == seq && a->ka_err == err) {
                        a->ka_cnt += cnt;
                        goto out;
                }
        }
        if (kp->kp_ack_cnt == kp->kp_ack_cap) {
                size_t cap     = kp->kp_ack_cap ? kp->kp_ack_cap * 2 : 64;
                kprod_ack_t *n = realloc(kp->kp_acks, cap * sizeof(*n));
                if (!n) {
                        /* an acknowledgement lost would hold the
                         * checkpoint back for ever: stop instead */
                        if (!kprod_is_fatal(kp))
                                snprintf(kp->kp_errstr, sizeof(kp->kp_errstr),
                                         "out of memory recording delivery "
                                         "reports");
                        __atomic_store_n(&kp->kp_fatal, 1, __ATOMIC_RELEASE);
                        kprod_wake_all(kp);
                        return;
                }
                kp->kp_acks    = n;
                kp->kp_ack_cap = cap;
        }
        a         = &kp->kp_acks[kp->kp_ack_cnt++];
        a->ka_seq = seq;
        a->ka_cnt = cnt;
        a->ka_err = err;
out:
        pthread_cond_signal(&kp->kp_cnd_ack);
}

/* Pass the acknowledgements received so far to the callback, on the
 * calling thread (the main one). @returns how many. */
static int kprod_acks_serve(cdc_kprod_t *kp) {
        kprod_ack_t *list;
        size_t cnt, cap, i;
        char why[sizeof(kp->kp_drwhy)];
        uint64_t n = 0, j;

        pthread_mutex_lock(&kp->kp_lock);
        cnt = kp->kp_ack_cnt;
        if (!cnt) {
                pthread_mutex_unlock(&kp->kp_lock);
                return 0;
        }
        list                = kp->kp_acks;
        cap                 = kp->kp_ack_cap;
        kp->kp_acks         = kp->kp_acks_out;
        kp->kp_ack_cap      = kp->kp_acks_out_cap;
        kp->kp_ack_cnt      = 0;
        kp->kp_acks_out     = list;
        kp->kp_acks_out_cap = cap;
        memcpy(why, kp->kp_drwhy, sizeof(why));
        pthread_mutex_unlock(&kp->kp_lock);

        for (i = 0; i < cnt; i++) {
                for (j = 0; j < list[i].ka_cnt; j++)
                        if (kp->kp_dr_cb)
                                kp->kp_dr_cb(kp->kp_opaque, list[i].ka_seq,
                                             list[i].ka_err,
                                             list[i].ka_err ? why : NULL);
                n += list[i].ka_cnt;
        }
        return n > INT32_MAX ? INT32_MAX : (int)n;
}

/* Wait on \p cnd (kp_lock held) until it is signalled or \p deadline_us
 * (cdc_now_us(); 0: no limit). @returns 0, or -1 at the deadline. */
static int kprod_wait_until(cdc_kprod_t *kp, pthread_cond_t *cnd,
                            int64_t deadline_us) {
        struct timespec ts;
        int64_t left;

        if (!deadline_us) {
                pthread_cond_wait(cnd, &kp->kp_lock);
                return 0;
        }
        left = deadline_us - cdc_now_us();
        if (left <= 0)
                return -1;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += (time_t)(left / 1000000);
        ts.tv_nsec += (long)(left % 1000000) * 1000L;
        if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(cnd, &kp->kp_lock, &ts);
        return 0;
}

/* deadline of a wait of \p timeout_ms (< 0: none) */
static int64_t kprod_deadline(int timeout_ms) {
        if (timeout_ms < 0)
                return 0;
        return cdc_now_us() + (int64_t)timeout_ms * 1000 + 1;
}

/* ---- librdkafka callbacks ---- */

static void kprod_log_cb(const rd_kafka_t *rk, int level, const char *fac,
                         const char *buf) {
        (void)rk;
        cdc_log(level, "RDKAFKA", "%s: %s", fac, buf);
}

/* @locality the thread serving librdkafka's queue: the publisher, or the
 * one calling cdc_kprod_poll()/_flush() (kp_errstr under kp_lock). */
static void kprod_error_cb(rd_kafka_t *rk, int err, const char *reason,
                           void *opaque) {
        cdc_kprod_t *kp = opaque;
        char fatal[256];

        if (err == RD_KAFKA_RESP_ERR__FATAL) {
                rd_kafka_fatal_error(rk, fatal, sizeof(fatal));
                kprod_err(kp, 1, "fatal Kafka error: %s", fatal);
                cdc_log(LOG_ERR, "KPROD", "fatal Kafka error: %s", fatal);
                return;
        }
        /* Refused credentials (SASL) or a broker certificate we do not
         * trust (TLS handshake): librdkafka would retry forever and the
         * producer would wait for acks that never come, a stall with
         * nothing but retries in the log. Like the Java client's
         * AuthenticationException, treat it as fatal: stop with the cause
         * (exit 1), the checkpoint still at the last acknowledged change. */
        if (err == RD_KAFKA_RESP_ERR__AUTHENTICATION ||
            err == RD_KAFKA_RESP_ERR__SSL) {
                const char *what = err == RD_KAFKA_RESP_ERR__SSL
                                           ? "TLS handshake"
                                           : "authentication";
                kprod_err(kp, 1, "Kafka %s failed: %s", what, reason);
                cdc_log(LOG_ERR, "KPROD", "Kafka %s failed: %s", what, reason);
                return;
        }
        /* transient: librdkafka reconnects and retries by itself */
        if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
                if (!kp->kp_down)
                        cdc_log(LOG_WARNING, "KPROD", "all brokers down: %s",
                                reason);
                pthread_mutex_lock(&kp->kp_lock);
                snprintf(kp->kp_down_why, sizeof(kp->kp_down_why),
                         "all brokers down: %s", reason);
                pthread_mutex_unlock(&kp->kp_lock);
                kp->kp_down = 1;
        } else
                cdc_dbg(KPROD, "KPROD", "%s: %s",
                        rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

static void kprod_up(cdc_kprod_t *kp) {
        if (!kp->kp_down)
                return;
        kp->kp_down = 0;
        cdc_log(LOG_NOTICE, "KPROD", "brokers reachable again");
}

/* Successful delivery reports of one sequence number, counted on the
 * thread serving them and recorded (kp_lock) in one go: one lock and one
 * signal per run of reports instead of per message. librdkafka calls the
 * callback only inside rd_kafka_poll(), _flush() and the transaction
 * calls, and each of our calls of those is followed by kprod_tl_flush():
 * outside them the count is empty. */
static __thread struct {
        cdc_kprod_t *kp;
        uint64_t seq;
        uint64_t cnt;
} kprod_tl_ack;

static void kprod_tl_flush(void) {
        cdc_kprod_t *kp = kprod_tl_ack.kp;

        if (!kprod_tl_ack.cnt)
                return;
        pthread_mutex_lock(&kp->kp_lock);
        kprod_ack_push(kp, kprod_tl_ack.seq, kprod_tl_ack.cnt,
                       CDC_ERR_NO_ERROR);
        pthread_mutex_unlock(&kp->kp_lock);
        kprod_tl_ack.cnt = 0;
        kprod_tl_ack.kp  = NULL;
}

/* rd_kafka_poll() of kp_rk, recording the reports it served. */
static int kprod_rk_poll(cdc_kprod_t *kp, int timeout_ms) {
        int n = rd_kafka_poll(kp->kp_rk, timeout_ms);
        kprod_tl_flush();
        return n;
}

/* @locality as kprod_error_cb(): records the report, kprod_acks_serve()
 * passes it on */
static void kprod_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *rkm,
                        void *opaque) {
        cdc_kprod_t *kp = opaque;
        uint64_t seq    = (uint64_t)(uintptr_t)rkm->_private;
        (void)rk;

        if (rkm->err)
                kprod_tl_flush();
        if (rkm->err && kp->kp_txn) {
                /* Transactional: the open transaction can't commit any
                 * more; the engine aborts it and resumes from the
                 * checkpoint committed with the last one. */
                pthread_mutex_lock(&kp->kp_lock);
                if (!kprod_is_fatal(kp))
                        snprintf(kp->kp_errstr, sizeof(kp->kp_errstr),
                                 "delivery to %s [%d] failed: %s",
                                 rd_kafka_topic_name(rkm->rkt),
                                 (int)rkm->partition,
                                 rd_kafka_err2str(rkm->err));
                __atomic_store_n(&kp->kp_txn_abort, 1, __ATOMIC_RELEASE);
                pthread_mutex_unlock(&kp->kp_lock);
                return;
        }
        if (rkm->err) {
                /* message.timeout.ms=0 and idempotence: librdkafka retries
                 * every retriable error itself, so a failed delivery is
                 * permanent. Skipping it would lose a change: stop. */
                pthread_mutex_lock(&kp->kp_lock);
                if (!kprod_is_fatal(kp)) {
                        snprintf(kp->kp_errstr, sizeof(kp->kp_errstr),
                                 "delivery to %s [%d] failed: %s",
                                 rd_kafka_topic_name(rkm->rkt),
                                 (int)rkm->partition,
                                 rd_kafka_err2str(rkm->err));
                        snprintf(kp->kp_drwhy, sizeof(kp->kp_drwhy), "%s",
                                 rd_kafka_err2str(rkm->err));
                }
                __atomic_store_n(&kp->kp_fatal, 1, __ATOMIC_RELEASE);
                kprod_ack_push(kp, seq, 1, CDC_ERR__FATAL);
                kprod_wake_all(kp);
                pthread_mutex_unlock(&kp->kp_lock);
                return;
        }
        kprod_up(kp); /* a broker acknowledged */
        if (kprod_tl_ack.kp == kp && kprod_tl_ack.seq == seq) {
                kprod_tl_ack.cnt++;
                return;
        }
        kprod_tl_flush();
        kprod_tl_ack.kp  = kp;
        kprod_tl_ack.seq = seq;
        kprod_tl_ack.cnt = 1;
}

static void kprod_sync_init(cdc_kprod_t *kp) {
        pthread_condattr_t ca;

        pthread_mutex_init(&kp->kp_lock, NULL);
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&kp->kp_cnd_room, &ca);
        pthread_cond_init(&kp->kp_cnd_ack, &ca);
        pthread_condattr_destroy(&ca);
}

/* ---- the helper threads' priority ---- */

/* Lower the calling thread's priority by \p nice (its nice value plus
 * \p nice, at most 19; Linux keeps a nice value per thread). Lowering
 * needs no privilege; a failure only costs speed, so it is logged. */
static void kprod_nice_self(int nice, const char *name) {
        int cur;

        if (nice <= 0)
                return;
        errno = 0;
        cur   = getpriority(PRIO_PROCESS, 0); /* this thread */
        if (cur == -1 && errno)
                cur = 0;
        cur = cur + nice > 19 ? 19 : cur + nice;
        if (setpriority(PRIO_PROCESS, 0, cur))
                cdc_dbg(KPROD, "KPROD", "thread %s: nice %d: %s", name, cur,
                        strerror(errno));
}

/* librdkafka's on_thread_start interceptor: its main and broker threads
 * (including those made later for brokers it learns of) run niced. */
static rd_kafka_resp_err_t kprod_on_thread_start(rd_kafka_t *rk,
                                                 rd_kafka_thread_type_t type,
                                                 const char *name,
                                                 void *ic_opaque) {
        (void)rk;
        (void)type;
        kprod_nice_self((int)(intptr_t)ic_opaque, name);
        return RD_KAFKA_RESP_ERR_NO_ERROR;
}

static rd_kafka_resp_err_t kprod_on_new(rd_kafka_t *rk,
                                        const rd_kafka_conf_t *conf,
                                        void *ic_opaque, char *errstr,
                                        size_t errstr_size) {
        (void)conf;
        (void)errstr;
        (void)errstr_size;
        return rd_kafka_interceptor_add_on_thread_start(
                rk, "followcdc-nice", kprod_on_thread_start, ic_opaque);
}

/* rd_kafka_new() of \p rkc (owned from the call, also on failure) with
 * the helper threads niced by kp_nice. */
static rd_kafka_t *kprod_rk_new(cdc_kprod_t *kp, rd_kafka_conf_t *rkc,
                                char *errstr, size_t errstr_size) {
        rd_kafka_t *rk;
        rd_kafka_resp_err_t rerr;

        if (kp->kp_nice > 0) {
                rerr = rd_kafka_conf_interceptor_add_on_new(
                        rkc, "followcdc-nice", kprod_on_new,
                        (void *)(intptr_t)kp->kp_nice);
                if (rerr && rerr != RD_KAFKA_RESP_ERR__CONFLICT)
                        cdc_log(LOG_WARNING, "KPROD",
                                "Kafka threads keep the main thread's "
                                "priority: %s",
                                rd_kafka_err2str(rerr));
        }
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, rkc, errstr, errstr_size);
        if (!rk)
                rd_kafka_conf_destroy(rkc);
        return rk;
}

/* ---- the publisher thread ---- */

static size_t kprod_job_bytes(const kprod_job_t *kj) {
        return kj->kj_len + kj->kj_keylen;
}

/* Free what a message not handed to librdkafka owns. */
static void kprod_job_discard(kprod_job_t *kj) {
        if (!kj->kj_inline)
                free(kj->kj_value);
        if (kj->kj_hdrs)
                rd_kafka_headers_destroy(kj->kj_hdrs);
        if (kj->kj_kalloc)
                free(kj->kj_key);
        kj->kj_value  = NULL;
        kj->kj_hdrs   = NULL;
        kj->kj_key    = NULL;
        kj->kj_inline = 0;
        kj->kj_kalloc = 0;
}

/* rd_kafka_producev() of one message: on success librdkafka owns a value
 * sent with RD_KAFKA_MSG_F_FREE, and \p hdrs. */
static rd_kafka_resp_err_t kprod_producev(
        cdc_kprod_t *kp, rd_kafka_topic_t *rkt, int32_t partition, int msgflags,
        char *value, size_t len, const void *key, size_t keylen,
        rd_kafka_headers_t *hdrs, uint64_t seq) {
        return rd_kafka_producev(
                kp->kp_rk, RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_PARTITION(partition),
                RD_KAFKA_V_MSGFLAGS(msgflags), RD_KAFKA_V_VALUE(value, len),
                RD_KAFKA_V_KEY(key, keylen),
                RD_KAFKA_V_OPAQUE((void *)(uintptr_t)seq),
                RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_END);
}

/* Back-pressure: librdkafka's queue is full. Never drop; serve its events
 * (acknowledgements make room) for up to \p ms. */
static void kprod_queue_full_wait(cdc_kprod_t *kp, int *waited, int ms) {
        int64_t t0 = cdc_now_us();

        if (!(*waited)++)
                cdc_dbg(KPROD, "KPROD",
                        "local queue full (%d messages): waiting",
                        rd_kafka_outq_len(kp->kp_rk));
        kprod_rk_poll(kp, ms);
        __atomic_add_fetch(&kp->kp_queue_wait_us, cdc_now_us() - t0,
                           __ATOMIC_RELAXED);
}

/* Hand one message to librdkafka, waiting (serving its events) while its
 * queue is full; discard it once the producer failed or stops. */
static void kprod_pub_one(cdc_kprod_t *kp, kprod_job_t *kj) {
        int waited = 0;

        while (!kprod_is_fatal(kp) &&
               !__atomic_load_n(&kp->kp_pub_stop, __ATOMIC_ACQUIRE)) {
                rd_kafka_resp_err_t rerr =
                        kprod_producev(kp, kj->kj_rkt, kj->kj_partition,
                                       kj->kj_inline  ? RD_KAFKA_MSG_F_COPY
                                       : kj->kj_value ? RD_KAFKA_MSG_F_FREE
                                                      : 0,
                                       kj->kj_value, kj->kj_len, kj->kj_key,
                                       kj->kj_keylen, kj->kj_hdrs, kj->kj_seq);
                if (!rerr) {
                        if (!kj->kj_inline)
                                kj->kj_value = NULL; /* librdkafka's now */
                        kj->kj_hdrs = NULL;
                        break;
                }
                if (rerr != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                        /* sizes were checked when it was queued: nothing
                         * else is expected, and skipping it would lose a
                         * change */
                        kprod_err(kp, 1, "produce to %s: %s",
                                  rd_kafka_topic_name(kj->kj_rkt),
                                  rd_kafka_err2str(rerr));
                        break;
                }
                kprod_queue_full_wait(kp, &waited, 10);
        }
        kprod_job_discard(kj);
}

/* Hand the taken jobs [\p from, \p to) to librdkafka, in order. Runs of
 * jobs of one topic whose key and value are in their slot, that carry no
 * headers and go where the partitioner says (nearly all) go in one
 * rd_kafka_produce_batch() call: one clock read and one topic lock per run
 * instead of per message (the clock reads were a tenth of this thread's
 * time). The rest, one by one: librdkafka 2.0.2's batch call adds an
 * explicit partition of a topic it has no metadata for yet to the
 * transaction as the unassigned partition, which fails the transaction. */
static int kprod_job_batchable(const kprod_job_t *kj) {
        return kj->kj_inline && !kj->kj_hdrs &&
               kj->kj_partition == RD_KAFKA_PARTITION_UA;
}

static void kprod_pub_jobs(cdc_kprod_t *kp, uint64_t from, uint64_t to) {
        rd_kafka_message_t msgs[KPROD_TAKE_MAX];
        uint64_t i = from;

        while (i < to) {
                kprod_job_t *kj = &kp->kp_ring[i % KPROD_RING_CAP];
                int cnt = 0, done = 0, waited = 0, k;

                if (!kprod_job_batchable(kj)) {
                        kprod_pub_one(kp, kj);
                        i++;
                        __atomic_store_n(&kp->kp_ring_handed, i,
                                         __ATOMIC_RELAXED);
                        continue;
                }
                while (i + (uint64_t)cnt < to && cnt < KPROD_TAKE_MAX) {
                        kprod_job_t *x = &kp->kp_ring[(i + (uint64_t)cnt) %
                                                      KPROD_RING_CAP];
                        if (!kprod_job_batchable(x) || x->kj_rkt != kj->kj_rkt)
                                break;
                        memset(&msgs[cnt], 0, sizeof(msgs[cnt]));
                        msgs[cnt].payload  = x->kj_value;
                        msgs[cnt].len      = x->kj_len;
                        msgs[cnt].key      = x->kj_key;
                        msgs[cnt].key_len  = x->kj_keylen;
                        msgs[cnt]._private = (void *)(uintptr_t)x->kj_seq;
                        cnt++;
                }
                /* a message refused for a full queue fails every later
                 * one too: what went in is a prefix, in order */
                while (done < cnt && !kprod_is_fatal(kp) &&
                       !__atomic_load_n(&kp->kp_pub_stop, __ATOMIC_ACQUIRE)) {
                        rd_kafka_produce_batch(
                                kj->kj_rkt, RD_KAFKA_PARTITION_UA,
                                RD_KAFKA_MSG_F_COPY, msgs + done, cnt - done);
                        while (done < cnt && !msgs[done].err)
                                done++;
                        if (done == cnt)
                                break;
                        if (msgs[done].err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                                /* as kprod_pub_one(): nothing else is
                                 * expected, and skipping would lose it */
                                kprod_err(kp, 1, "produce to %s: %s",
                                          rd_kafka_topic_name(kj->kj_rkt),
                                          rd_kafka_err2str(msgs[done].err));
                                break;
                        }
                        __atomic_store_n(&kp->kp_ring_handed,
                                         i + (uint64_t)done, __ATOMIC_RELAXED);
                        kprod_queue_full_wait(kp, &waited, 10);
                }
                for (k = 0; k < cnt; k++)
                        kprod_job_discard(&kp->kp_ring[(i + (uint64_t)k) %
                                                       KPROD_RING_CAP]);
                i += (uint64_t)cnt;
                __atomic_store_n(&kp->kp_ring_handed, i, __ATOMIC_RELAXED);
        }
}

static void *kprod_pub_main(void *arg) {
        cdc_kprod_t *kp = arg;
        int64_t last_us = 0; /* when it last had messages */
        int napped      = 0; /* waited since the last batch */
        sigset_t all;

        /* signals are the main thread's */
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, NULL);
        kprod_nice_self(kp->kp_nice, "publisher");

        pthread_mutex_lock(&kp->kp_lock);
        while (!kp->kp_pub_stop) {
                uint64_t tail = kp->kp_ring_tail, head, i;
                size_t n, bytes = 0;
                int64_t now;

                head = __atomic_load_n(&kp->kp_ring_head, __ATOMIC_SEQ_CST);
                n    = (size_t)(head - tail);
                if (!n || (n < KPROD_WAKE_AT && !napped)) {
                        /* serve librdkafka's events until messages come
                         * (kprod_wake() yields the queue) */
                        int sleep;
                        now = cdc_now_us();
                        if (n)
                                last_us = now;
                        sleep = now - last_us > KPROD_QUIET_US;
                        __atomic_store_n(&kp->kp_pub_sleep, sleep,
                                         __ATOMIC_SEQ_CST);
                        __atomic_store_n(&kp->kp_pub_idle, 1, __ATOMIC_SEQ_CST);
                        pthread_mutex_unlock(&kp->kp_lock);
                        /* a message put in before idle was seen set finds
                         * no one to wake: look once more */
                        if (__atomic_load_n(&kp->kp_ring_head,
                                            __ATOMIC_SEQ_CST) != head)
                                sleep = 0;
                        kprod_rk_poll(kp,
                                      sleep ? KPROD_SLEEP_MS : KPROD_NAP_MS);
                        __atomic_store_n(&kp->kp_pub_idle, 0, __ATOMIC_SEQ_CST);
                        pthread_mutex_lock(&kp->kp_lock);
                        napped = 1;
                        continue;
                }
                napped  = 0;
                last_us = cdc_now_us();
                if (n > KPROD_TAKE_MAX)
                        n = KPROD_TAKE_MAX;
                /* the oldest messages, in order; the main thread writes
                 * only the slots after head */
                kp->kp_ring_taken = tail + n;
                pthread_mutex_unlock(&kp->kp_lock);
                for (i = tail; i < tail + n; i++)
                        bytes += kprod_job_bytes(
                                &kp->kp_ring[i % KPROD_RING_CAP]);
                kprod_pub_jobs(kp, tail, tail + n);
                kprod_rk_poll(kp, 0);
                __atomic_sub_fetch(&kp->kp_ring_bytes, bytes, __ATOMIC_RELAXED);
                pthread_mutex_lock(&kp->kp_lock);
                __atomic_store_n(&kp->kp_ring_tail, tail + n, __ATOMIC_RELEASE);
                pthread_cond_broadcast(&kp->kp_cnd_room);
        }
        pthread_mutex_unlock(&kp->kp_lock);
        return NULL;
}

/* Messages in the ring. @locality main thread (which alone moves
 * kp_ring_head) */
static size_t kprod_ring_cnt(const cdc_kprod_t *kp) {
        return (size_t)(kp->kp_ring_head -
                        __atomic_load_n(&kp->kp_ring_tail, __ATOMIC_ACQUIRE));
}

/* Wake the publisher if it waits: \p now, or when it sleeps for long or
 * enough messages wait. @locality main thread */
static void kprod_wake(cdc_kprod_t *kp, int now) {
        if (!__atomic_load_n(&kp->kp_pub_idle, __ATOMIC_SEQ_CST))
                return;
        if (!now && !__atomic_load_n(&kp->kp_pub_sleep, __ATOMIC_RELAXED) &&
            kprod_ring_cnt(kp) < KPROD_WAKE_AT)
                return;
        /* one wake-up per wait is enough */
        if (__atomic_exchange_n(&kp->kp_pub_idle, 0, __ATOMIC_SEQ_CST))
                rd_kafka_queue_yield(kp->kp_mainq);
}

/* Discard the messages in the ring the publisher has not taken.
 * kp_lock held; main thread. */
static void kprod_ring_purge(cdc_kprod_t *kp) {
        uint64_t i;

        for (i = kp->kp_ring_taken; i < kp->kp_ring_head; i++) {
                kprod_job_t *kj = &kp->kp_ring[i % KPROD_RING_CAP];
                __atomic_sub_fetch(&kp->kp_ring_bytes, kprod_job_bytes(kj),
                                   __ATOMIC_RELAXED);
                kprod_job_discard(kj);
        }
        __atomic_store_n(&kp->kp_ring_head, kp->kp_ring_taken,
                         __ATOMIC_SEQ_CST);
}

/* Wait until every message of the ring is in librdkafka (\p purge:
 * discard those not taken yet), at most \p timeout_ms (< 0: no limit).
 * Acknowledgements are passed on meanwhile.
 * @returns CDC_ERR_NO_ERROR or CDC_ERR__TIMED_OUT. */
static cdc_err_t kprod_ring_drain(cdc_kprod_t *kp, int timeout_ms, int purge) {
        int64_t deadline = kprod_deadline(timeout_ms);
        cdc_err_t err    = CDC_ERR_NO_ERROR;

        if (!kp->kp_ring)
                return CDC_ERR_NO_ERROR;
        pthread_mutex_lock(&kp->kp_lock);
        if (purge)
                kprod_ring_purge(kp);
        kprod_wake(kp, 1);
        while (kprod_ring_cnt(kp) && kp->kp_pub_on) {
                if (kprod_wait_until(kp, &kp->kp_cnd_room, deadline)) {
                        err = CDC_ERR__TIMED_OUT;
                        break;
                }
        }
        pthread_mutex_unlock(&kp->kp_lock);
        kprod_acks_serve(kp);
        return err;
}

cdc_err_t cdc_kprod_publisher_start(cdc_kprod_t *kp, char *errstr,
                                    size_t errstr_size) {
        int rc;

        if (kp->kp_pub_on)
                return CDC_ERR_NO_ERROR;
        if (!kp->kp_ring) {
                kp->kp_ring = calloc(KPROD_RING_CAP, sizeof(*kp->kp_ring));
                if (!kp->kp_ring) {
                        snprintf(errstr, errstr_size, "out of memory");
                        return CDC_ERR__NOMEM;
                }
        }
        kp->kp_mainq = rd_kafka_queue_get_main(kp->kp_rk);
        if (!kp->kp_mainq) {
                snprintf(errstr, errstr_size, "no main queue");
                return CDC_ERR__FATAL;
        }
        kp->kp_pub_stop   = 0;
        kp->kp_ring_taken = kp->kp_ring_tail = kp->kp_ring_head;
        __atomic_store_n(&kp->kp_ring_handed, kp->kp_ring_head,
                         __ATOMIC_RELAXED);
        rc = pthread_create(&kp->kp_pub, NULL, kprod_pub_main, kp);
        if (!rc)
                pthread_setname_np(kp->kp_pub, "publisher"); /* top -H */
        if (rc) {
                rd_kafka_queue_destroy(kp->kp_mainq);
                kp->kp_mainq = NULL;
                snprintf(errstr, errstr_size, "publisher thread: %s",
                         strerror(rc));
                return CDC_ERR__FATAL;
        }
        kp->kp_pub_on = 1;
        return CDC_ERR_NO_ERROR;
}

int cdc_kprod_publisher_running(const cdc_kprod_t *kp) {
        return kp->kp_pub_on;
}

/* Stop the publisher (what it has taken is produced or, if it waits for
 * room, discarded) and discard the rest of the ring. */
static void kprod_publisher_stop(cdc_kprod_t *kp) {
        if (!kp->kp_pub_on)
                return;
        pthread_mutex_lock(&kp->kp_lock);
        __atomic_store_n(&kp->kp_pub_stop, 1, __ATOMIC_RELEASE);
        kprod_ring_purge(kp);
        pthread_mutex_unlock(&kp->kp_lock);
        rd_kafka_queue_yield(kp->kp_mainq);
        pthread_join(kp->kp_pub, NULL);
        kp->kp_pub_on = 0;
        rd_kafka_queue_destroy(kp->kp_mainq);
        kp->kp_mainq = NULL;
        pthread_mutex_lock(&kp->kp_lock);
        kp->kp_ring_taken = kp->kp_ring_tail; /* it handed over all it took */
        __atomic_store_n(&kp->kp_ring_handed, kp->kp_ring_tail,
                         __ATOMIC_RELAXED);
        kprod_ring_purge(kp);
        pthread_cond_broadcast(&kp->kp_cnd_room);
        pthread_mutex_unlock(&kp->kp_lock);
}

/* ---- setup ---- */

/* Our default for \p name, unless the user set it (under any of its
 * names: cdc_conf_kafka_get() knows librdkafka's aliases). */
static int kprod_default(const cdc_conf_t *conf, rd_kafka_conf_t *rkc,
                         const char *name, const char *value, char *errstr,
                         size_t errstr_size) {
        if (cdc_conf_kafka_get(conf, name))
                return 0;
        if (rd_kafka_conf_set(rkc, name, value, errstr, errstr_size) !=
            RD_KAFKA_CONF_OK)
                return -1;
        return 0;
}

/* A numeric property in effect (set or librdkafka's default); 0 if
 * unknown. */
static long long kprod_conf_num(rd_kafka_conf_t *rkc, const char *name) {
        char v[32];
        size_t vsz = sizeof(v);

        if (rd_kafka_conf_get(rkc, name, v, &vsz) != RD_KAFKA_CONF_OK)
                return 0;
        return strtoll(v, NULL, 10);
}

/* librdkafka never queues a message larger than
 * queue.buffering.max.kbytes (it would wait for room for ever): our
 * default grows to two messages of message.max.bytes; a smaller value
 * set by the user is refused. */
static int kprod_queue_fits(const cdc_conf_t *conf, rd_kafka_conf_t *rkc,
                            size_t max_bytes, char *errstr,
                            size_t errstr_size) {
        const char *mine =
                cdc_conf_kafka_get(conf, "queue.buffering.max.kbytes");
        long long one = (long long)((max_bytes + 1023) / 1024);
        long long kb  = kprod_conf_num(rkc, "queue.buffering.max.kbytes");
        char v[32];

        if (kb >= (mine ? one : 2 * one))
                return 0;
        if (mine) {
                snprintf(errstr, errstr_size,
                         "kafka.queue.buffering.max.kbytes=%s cannot hold a "
                         "message of message.max.bytes=%zu: set it to at "
                         "least %lld",
                         mine, max_bytes, one);
                return -1;
        }
        snprintf(v, sizeof(v), "%lld", 2 * one);
        return rd_kafka_conf_set(rkc, "queue.buffering.max.kbytes", v, errstr,
                                 errstr_size) == RD_KAFKA_CONF_OK
                       ? 0
                       : -1;
}

/* Refuse settings that give up order or durability. */
static int kprod_check_safe(const cdc_conf_t *conf, const char *txn_id,
                            char *errstr, size_t errstr_size) {
        const char *v;
        if (!txn_id && cdc_conf_kafka_get(conf, "transactional.id")) {
                snprintf(errstr, errstr_size,
                         "kafka.transactional.id is set but "
                         "producer.transactions is not: set "
                         "producer.transactions=true");
                return -1;
        }
        v = cdc_conf_kafka_get(conf, "enable.idempotence");
        if (v && strcasecmp(v, "true") && strcmp(v, "1")) {
                snprintf(errstr, errstr_size,
                         "kafka.enable.idempotence must stay true: without "
                         "it a retry can reorder one row's changes");
                return -1;
        }
        v = cdc_conf_kafka_get(conf, "acks"); /* or request.required.acks */
        if (v && strcasecmp(v, "all") && strcmp(v, "-1")) {
                snprintf(errstr, errstr_size,
                         "kafka.acks must be all: the checkpoint moves only "
                         "past changes every in-sync replica holds");
                return -1;
        }
        /* also max.in.flight.requests.per.connection, its other name */
        v = cdc_conf_kafka_get(conf, "max.in.flight");
        if (v && (strlen(v) != 1 || v[0] < '1' || v[0] > '5')) {
                snprintf(errstr, errstr_size,
                         "kafka.max.in.flight must be 1..5 with the "
                         "idempotent producer");
                return -1;
        }
        return 0;
}

cdc_kprod_t *cdc_kprod_new(const cdc_conf_t *conf, cdc_kprod_dr_cb_t *dr_cb,
                           void *opaque, volatile sig_atomic_t *run,
                           char *errstr, size_t errstr_size) {
        return cdc_kprod_new_txn(conf, NULL, 0, dr_cb, opaque, run, errstr,
                                 errstr_size);
}

cdc_kprod_t *cdc_kprod_new_txn(const cdc_conf_t *conf, const char *txn_id,
                               int nice, cdc_kprod_dr_cb_t *dr_cb, void *opaque,
                               volatile sig_atomic_t *run, char *errstr,
                               size_t errstr_size) {
        static const char *const defaults[][2] = {
                { "enable.idempotence", "true" },
                { "acks", "all" },
                { "compression.codec", "lz4" },
                { "linger.ms", "10" },
                { "batch.num.messages", "10000" },
                { "batch.size", "1000000" },
                { "max.in.flight.requests.per.connection", "5" },
                { "message.timeout.ms", "0" },
                /* what waits for acknowledgement: 4 MiB keeps up with the
                 * broker (bench/producer.sh, bench/snapshot.sh) and keeps
                 * a huge transaction's producer small (bench/bigtxn.sh);
                 * raised to hold two messages of message.max.bytes */
                { "queue.buffering.max.kbytes", "4096" },
                { "queue.buffering.max.messages", "100000" },
                { "client.id", "followcdc-producer" },
                { NULL, NULL }
        };
        cdc_kprod_t *kp = NULL, *ret = NULL;
        rd_kafka_conf_t *rkc = NULL;
        int i;

        if (kprod_check_safe(conf, txn_id, errstr, errstr_size))
                goto out;
        kp = calloc(1, sizeof(*kp));
        if (kp)
                kprod_sync_init(kp);
        rkc = cdc_conf_kafka_dup(conf);
        if (!kp || !rkc) {
                snprintf(errstr, errstr_size, "out of memory");
                goto out;
        }
        for (i = 0; defaults[i][0]; i++) {
                const char *v = defaults[i][1];
                /* a transaction must end within transaction.timeout.ms
                 * (60 s): its messages can't wait for ever. A message
                 * that times out aborts the transaction; nothing is lost,
                 * the engine resumes from the last committed checkpoint */
                if (txn_id && !strcmp(defaults[i][0], "message.timeout.ms"))
                        v = "60000";
                if (kprod_default(conf, rkc, defaults[i][0], v, errstr,
                                  errstr_size))
                        goto out;
        }
        if (txn_id) {
                if (rd_kafka_conf_set(rkc, "transactional.id", txn_id, errstr,
                                      errstr_size) != RD_KAFKA_CONF_OK)
                        goto out;
                kp->kp_txn = 1;
        }
        {
                long long mb = kprod_conf_num(rkc, "message.max.bytes");
                kp->kp_max_bytes =
                        mb > 0 ? (size_t)mb : 1000000; /* librdkafka's */
        }
        if (kprod_queue_fits(conf, rkc, kp->kp_max_bytes, errstr, errstr_size))
                goto out;
        kp->kp_dr_cb  = dr_cb;
        kp->kp_nice   = nice;
        kp->kp_opaque = opaque;
        kp->kp_run    = run;
        rd_kafka_conf_set_opaque(rkc, kp);
        rd_kafka_conf_set_dr_msg_cb(rkc, kprod_dr_cb);
        rd_kafka_conf_set_error_cb(rkc, kprod_error_cb);
        rd_kafka_conf_set_log_cb(rkc, kprod_log_cb);
        if (kp->kp_txn) {
                /* kept to make the producer again (cdc_kprod_reset) */
                kp->kp_rkc = rd_kafka_conf_dup(rkc);
                if (!kp->kp_rkc) {
                        snprintf(errstr, errstr_size, "out of memory");
                        goto out;
                }
        }

        kp->kp_rk = kprod_rk_new(kp, rkc, errstr, errstr_size);
        rkc       = NULL; /* owned by kp_rk now, or freed */
        if (!kp->kp_rk)
                goto out;
        ret = kp;
        kp  = NULL;
out:
        if (rkc)
                rd_kafka_conf_destroy(rkc);
        cdc_kprod_destroy(kp);
        return ret;
}

static void kprod_topics_clear(cdc_kprod_t *kp) {
        int i;
        for (i = 0; i < kp->kp_topic_cnt; i++) {
                rd_kafka_topic_destroy(kp->kp_topics[i].rkt);
                free(kp->kp_topics[i].name);
        }
        kp->kp_topic_cnt = 0;
}

void cdc_kprod_destroy(cdc_kprod_t *kp) {
        if (!kp)
                return;
        kprod_publisher_stop(kp);
        kprod_topics_clear(kp);
        if (kp->kp_rk)
                rd_kafka_destroy(kp->kp_rk);
        kprod_tl_flush();
        if (kp->kp_rkc)
                rd_kafka_conf_destroy(kp->kp_rkc);
        free(kp->kp_ring);
        free(kp->kp_acks);
        free(kp->kp_acks_out);
        pthread_cond_destroy(&kp->kp_cnd_room);
        pthread_cond_destroy(&kp->kp_cnd_ack);
        pthread_mutex_destroy(&kp->kp_lock);
        free(kp);
}

/* ---- produce ---- */

static rd_kafka_topic_t *kprod_topic(cdc_kprod_t *kp, const char *name) {
        rd_kafka_topic_t *rkt;
        char *dup;
        int i;

        for (i = 0; i < kp->kp_topic_cnt; i++)
                if (!strcmp(kp->kp_topics[i].name, name))
                        return kp->kp_topics[i].rkt;
        if (kp->kp_topic_cnt == KPROD_TOPICS_MAX)
                return NULL;
        dup = strdup(name);
        if (!dup)
                return NULL;
        rkt = rd_kafka_topic_new(kp->kp_rk, name, NULL);
        if (!rkt) {
                free(dup);
                return NULL;
        }
        kp->kp_topics[kp->kp_topic_cnt].name = dup;
        kp->kp_topics[kp->kp_topic_cnt].rkt  = rkt;
        kp->kp_topic_cnt++;
        return rkt;
}

/* Varint size of \p n as librdkafka writes a header's lengths (zigzag). */
static size_t kprod_varint_size(size_t n) {
        uint64_t v = (uint64_t)n << 1;
        size_t sz  = 1;
        while (v >= 0x80) {
                v >>= 7;
                sz++;
        }
        return sz;
}

/* No room in the ring for \p need bytes more (an empty ring takes any). */
static int kprod_ring_full(const cdc_kprod_t *kp, size_t need) {
        size_t cnt = kprod_ring_cnt(kp);
        return cnt == KPROD_RING_CAP ||
               (cnt &&
                __atomic_load_n(&kp->kp_ring_bytes, __ATOMIC_RELAXED) + need >
                        KPROD_RING_BYTES);
}

/* Put one message in the publisher's ring, waiting for room. \p value
 * and \p hdrs are owned from the call. */
static cdc_err_t kprod_enqueue(cdc_kprod_t *kp, rd_kafka_topic_t *rkt,
                               const char *topic, int32_t partition,
                               const void *key, size_t keylen, char *value,
                               size_t len, rd_kafka_headers_t *hdrs,
                               size_t hdrs_size, uint64_t seq) {
        cdc_err_t err = CDC_ERR_NO_ERROR;
        char *kcopy   = NULL;
        kprod_job_t *kj;
        int waited = 0, big;
        size_t need;

        /* librdkafka's own check, made here so the caller can still send
         * a smaller message instead */
        if (len > INT32_MAX || keylen > INT32_MAX ||
            KPROD_MSG_OVERHEAD + keylen + len + hdrs_size > kp->kp_max_bytes) {
                kprod_err(
                        kp, 0, "produce to %s: %zu + %zu bytes: %s", topic,
                        keylen, len,
                        rd_kafka_err2str(RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE));
                err = CDC_ERR__BAD_EVENT;
                goto out;
        }
        if (!key)
                keylen = 0;
        if (!value)
                len = 0;
        big = keylen > KPROD_KEY_INLINE || len > KPROD_VAL_INLINE;
        if (keylen > KPROD_KEY_INLINE) {
                kcopy = malloc(keylen);
                if (!kcopy) {
                        kprod_err(kp, 0, "produce to %s: out of memory", topic);
                        err = CDC_ERR__NOMEM;
                        goto out;
                }
                memcpy(kcopy, key, keylen);
        }
        need = keylen + len;
        if (kprod_ring_full(kp, need)) {
                int64_t t0 = cdc_now_us();
                pthread_mutex_lock(&kp->kp_lock);
                while (kprod_ring_full(kp, need)) {
                        if (kprod_is_fatal(kp)) {
                                err = CDC_ERR__FATAL;
                                break;
                        }
                        if (kp->kp_run && !*kp->kp_run) {
                                err = CDC_ERR__STATE;
                                break;
                        }
                        if (!waited++)
                                cdc_dbg(KPROD, "KPROD",
                                        "publisher behind (%zu messages): "
                                        "waiting",
                                        kprod_ring_cnt(kp));
                        kprod_wake(kp, 1);
                        kprod_wait_until(kp, &kp->kp_cnd_room,
                                         cdc_now_us() + 50000);
                        /* the checkpoint moves on while we wait */
                        pthread_mutex_unlock(&kp->kp_lock);
                        kprod_acks_serve(kp);
                        pthread_mutex_lock(&kp->kp_lock);
                }
                pthread_mutex_unlock(&kp->kp_lock);
                __atomic_add_fetch(&kp->kp_ring_wait_us, cdc_now_us() - t0,
                                   __ATOMIC_RELAXED);
                if (err)
                        goto out;
        }
        /* the slot after head: the publisher reads only those before */
        kj               = &kp->kp_ring[kp->kp_ring_head % KPROD_RING_CAP];
        kj->kj_rkt       = rkt;
        kj->kj_partition = partition;
        kj->kj_hdrs      = hdrs;
        kj->kj_seq       = seq;
        kj->kj_keylen    = keylen;
        kj->kj_len       = len;
        kj->kj_kalloc    = kcopy != NULL;
        kj->kj_inline    = !big;
        if (big) {
                kj->kj_key = kcopy ? kcopy : kj->kj_buf;
                if (!kcopy && keylen)
                        memcpy(kj->kj_buf, key, keylen);
                kj->kj_value = value; /* handed over */
                value        = NULL;
        } else {
                /* copied: value is freed below, on this thread */
                kj->kj_key   = kj->kj_buf;
                kj->kj_value = value ? kj->kj_buf + keylen : NULL;
                if (keylen)
                        memcpy(kj->kj_buf, key, keylen);
                if (value)
                        memcpy(kj->kj_buf + keylen, value, len);
        }
        hdrs  = NULL;
        kcopy = NULL;
        __atomic_add_fetch(&kp->kp_ring_bytes, need, __ATOMIC_RELAXED);
        __atomic_store_n(&kp->kp_ring_head, kp->kp_ring_head + 1,
                         __ATOMIC_SEQ_CST);
        kprod_wake(kp, 0);
out:
        free(value);
        free(kcopy);
        if (hdrs)
                rd_kafka_headers_destroy(hdrs);
        return err;
}

/* Queue one message; \p value and \p hdrs are owned from the call. */
static cdc_err_t kprod_send(cdc_kprod_t *kp, const char *topic,
                            int32_t partition, const void *key, size_t keylen,
                            char *value, size_t len, rd_kafka_headers_t *hdrs,
                            size_t hdrs_size, uint64_t seq) {
        rd_kafka_topic_t *rkt;
        cdc_err_t err = CDC_ERR__FATAL;
        int waited    = 0;

        if (kprod_is_fatal(kp))
                goto out;
        if (kp->kp_txn && !kp->kp_txn_open) {
                err = cdc_kprod_txn_begin(kp);
                if (err)
                        goto out;
                err = CDC_ERR__FATAL;
        }
        rkt = kprod_topic(kp, topic);
        if (!rkt) {
                kprod_err(kp, 0, "topic %s: cannot create handle", topic);
                goto out;
        }
        if (kp->kp_pub_on)
                return kprod_enqueue(kp, rkt, topic, partition, key, keylen,
                                     value, len, hdrs, hdrs_size, seq);
        while (1) {
                rd_kafka_resp_err_t rerr;
                rerr = kprod_producev(kp, rkt, partition,
                                      value ? RD_KAFKA_MSG_F_FREE : 0, value,
                                      len, key, keylen, hdrs, seq);
                if (!rerr) {
                        value = NULL; /* owned by librdkafka */
                        hdrs  = NULL;
                        err   = CDC_ERR_NO_ERROR;
                        break;
                }
                if (rerr == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE) {
                        /* refused locally before anything was queued: the
                         * caller may send a smaller message instead */
                        kprod_err(kp, 0, "produce to %s: %zu + %zu bytes: %s",
                                  topic, keylen, len, rd_kafka_err2str(rerr));
                        err = CDC_ERR__BAD_EVENT;
                        break;
                }
                if (rerr != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                        kprod_err(kp, 1, "produce to %s: %s", topic,
                                  rd_kafka_err2str(rerr));
                        break;
                }
                kprod_queue_full_wait(kp, &waited, 50);
                kprod_acks_serve(kp);
                if (kprod_is_fatal(kp))
                        break;
                if (kp->kp_run && !*kp->kp_run) {
                        err = CDC_ERR__STATE;
                        break;
                }
        }
out:
        free(value);
        if (hdrs)
                rd_kafka_headers_destroy(hdrs);
        return err;
}

cdc_err_t cdc_kprod_produce(cdc_kprod_t *kp, const char *topic,
                            int32_t partition, const void *key, size_t keylen,
                            char *value, size_t len, uint64_t seq) {
        return kprod_send(kp, topic, partition, key, keylen, value, len, NULL,
                          0, seq);
}

cdc_err_t cdc_kprod_produce_tombstone(cdc_kprod_t *kp, const char *topic,
                                      const void *key, size_t keylen,
                                      const char *hname, const void *hval,
                                      size_t hlen, uint64_t seq) {
        rd_kafka_headers_t *hdrs = NULL;
        size_t hsize             = 0;

        if (hname) {
                size_t nlen = strlen(hname);
                hdrs        = rd_kafka_headers_new(1);
                if (!hdrs ||
                    rd_kafka_header_add(hdrs, hname, -1, hval, (ssize_t)hlen)) {
                        if (hdrs)
                                rd_kafka_headers_destroy(hdrs);
                        kprod_err(kp, 0, "tombstone header: out of memory");
                        return CDC_ERR__NOMEM;
                }
                hsize = nlen + hlen + kprod_varint_size(nlen) +
                        kprod_varint_size(hlen);
        }
        return kprod_send(kp, topic, RD_KAFKA_PARTITION_UA, key, keylen, NULL,
                          0, hdrs, hsize, seq);
}

int cdc_kprod_poll(cdc_kprod_t *kp, int timeout_ms) {
        int n;

        if (!kp->kp_pub_on) {
                n = kprod_rk_poll(kp, timeout_ms);
                kprod_acks_serve(kp);
                return n;
        }
        /* the publisher serves librdkafka's queue: wait for what it
         * recorded */
        n = kprod_acks_serve(kp);
        if (n || !timeout_ms)
                return n;
        pthread_mutex_lock(&kp->kp_lock);
        if (!kp->kp_ack_cnt && !kprod_is_fatal(kp))
                kprod_wait_until(kp, &kp->kp_cnd_ack,
                                 kprod_deadline(timeout_ms));
        pthread_mutex_unlock(&kp->kp_lock);
        return kprod_acks_serve(kp);
}

cdc_err_t cdc_kprod_flush(cdc_kprod_t *kp, int timeout_ms) {
        int64_t deadline = kprod_deadline(timeout_ms);
        rd_kafka_resp_err_t rerr;
        int left = timeout_ms;

        if (kprod_ring_drain(kp, timeout_ms, 0))
                return CDC_ERR__TIMED_OUT;
        if (deadline) {
                int64_t us = deadline - cdc_now_us();
                left       = us > 0 ? (int)(us / 1000) : 0;
        }
        rerr = rd_kafka_flush(kp->kp_rk, left);
        kprod_tl_flush();
        kprod_acks_serve(kp);
        if (rerr == RD_KAFKA_RESP_ERR__TIMED_OUT)
                return CDC_ERR__TIMED_OUT;
        return CDC_ERR_NO_ERROR;
}

int cdc_kprod_outq_len(cdc_kprod_t *kp) {
        /* rd_kafka_outq_len() also counts the events waiting on the main
         * queue (delivery reports, errors: one per reconnect while the
         * brokers are down); take those off. */
        rd_kafka_queue_t *q = kp->kp_mainq ? kp->kp_mainq
                                           : rd_kafka_queue_get_main(kp->kp_rk);
        int n               = rd_kafka_outq_len(kp->kp_rk);

        if (q) {
                n -= (int)rd_kafka_queue_length(q);
                if (q != kp->kp_mainq)
                        rd_kafka_queue_destroy(q);
        }
        /* an event served between the two reads */
        if (n < 0)
                n = 0;
        /* the ring's slots not yet handed to librdkafka (none without a
         * ring): those handed of a take still being handed over are in
         * librdkafka's count */
        return n + (int)(kp->kp_ring_head - __atomic_load_n(&kp->kp_ring_handed,
                                                            __ATOMIC_RELAXED));
}

void cdc_kprod_waits(const cdc_kprod_t *kp, int64_t *ring_us,
                     int64_t *queue_us) {
        *ring_us  = __atomic_load_n(&kp->kp_ring_wait_us, __ATOMIC_RELAXED);
        *queue_us = __atomic_load_n(&kp->kp_queue_wait_us, __ATOMIC_RELAXED);
}

int cdc_kprod_fatal(const cdc_kprod_t *kp) {
        return kprod_is_fatal(kp);
}

const char *cdc_kprod_errstr(cdc_kprod_t *kp) {
        pthread_mutex_lock(&kp->kp_lock);
        memcpy(kp->kp_errout, kp->kp_errstr, sizeof(kp->kp_errout));
        pthread_mutex_unlock(&kp->kp_lock);
        return kp->kp_errout;
}

rd_kafka_t *cdc_kprod_rk(cdc_kprod_t *kp) {
        return kp->kp_rk;
}

size_t cdc_kprod_max_message_bytes(const cdc_kprod_t *kp) {
        return kp->kp_max_bytes;
}

int cdc_kprod_brokers_down(const cdc_kprod_t *kp) {
        return kp->kp_down;
}

const char *cdc_kprod_down_reason(cdc_kprod_t *kp) {
        if (!kp->kp_down)
                return "";
        pthread_mutex_lock(&kp->kp_lock);
        memcpy(kp->kp_downout, kp->kp_down_why, sizeof(kp->kp_downout));
        pthread_mutex_unlock(&kp->kp_lock);
        return kp->kp_downout;
}

int cdc_kprod_partitions(cdc_kprod_t *kp, const char *topic, int timeout_ms) {
        const struct rd_kafka_metadata *md = NULL;
        rd_kafka_topic_t *rkt              = kprod_topic(kp, topic);
        rd_kafka_resp_err_t rerr;
        int n = -1;

        if (!rkt)
                return -1;
        rerr = rd_kafka_metadata(kp->kp_rk, 0, rkt, &md, timeout_ms);
        if (rerr == RD_KAFKA_RESP_ERR_NO_ERROR && md && md->topic_cnt == 1 &&
            md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR &&
            md->topics[0].partition_cnt > 0)
                n = md->topics[0].partition_cnt;
        if (md)
                rd_kafka_metadata_destroy(md);
        return n;
}

int cdc_kprod_probe(cdc_kprod_t *kp, int timeout_ms) {
        const struct rd_kafka_metadata *md = NULL;
        rd_kafka_resp_err_t rerr;

        if (!kp->kp_down)
                return 1;
        /* any broker answering a metadata request is up */
        rerr = rd_kafka_metadata(kp->kp_rk, 0, NULL, &md, timeout_ms);
        if (md)
                rd_kafka_metadata_destroy(md);
        if (rerr == RD_KAFKA_RESP_ERR_NO_ERROR)
                kprod_up(kp);
        return !kp->kp_down;
}

/* ---- transactions ---- */

/* Map a transactional API error: fatal ends the producer (fenced by a
 * newer instance with the same transactional.id, among others); one that
 * needs an abort marks the open transaction; others are retriable. */
static cdc_err_t kprod_txn_err(cdc_kprod_t *kp, const char *what,
                               rd_kafka_error_t *error) {
        cdc_err_t err;
        if (!error)
                return CDC_ERR_NO_ERROR;
        if (rd_kafka_error_is_fatal(error)) {
                kprod_err(kp, 1, "%s: fatal: %s", what,
                          rd_kafka_error_string(error));
                err = CDC_ERR__FATAL;
        } else {
                kprod_err(kp, 0, "%s: %s", what, rd_kafka_error_string(error));
                if (rd_kafka_error_txn_requires_abort(error))
                        __atomic_store_n(&kp->kp_txn_abort, 1,
                                         __ATOMIC_RELEASE);
                err = CDC_ERR__TRANSPORT;
        }
        rd_kafka_error_destroy(error);
        return err;
}

static int kprod_txn_must_abort(const cdc_kprod_t *kp) {
        return __atomic_load_n(&kp->kp_txn_abort, __ATOMIC_ACQUIRE);
}

int cdc_kprod_transactional(const cdc_kprod_t *kp) {
        return kp->kp_txn;
}

cdc_err_t cdc_kprod_txn_init(cdc_kprod_t *kp, int timeout_ms) {
        cdc_err_t err;
        if (!kp->kp_txn || kp->kp_txn_inited)
                return CDC_ERR_NO_ERROR;
        if (kprod_is_fatal(kp))
                return CDC_ERR__FATAL;
        err = kprod_txn_err(kp, "init transactions",
                            rd_kafka_init_transactions(kp->kp_rk, timeout_ms));
        if (!err)
                kp->kp_txn_inited = 1;
        return err;
}

cdc_err_t cdc_kprod_txn_begin(cdc_kprod_t *kp) {
        cdc_err_t err;
        if (!kp->kp_txn || kp->kp_txn_open)
                return CDC_ERR_NO_ERROR;
        if (!kp->kp_txn_inited) {
                kprod_err(kp, 0, "transactions not initialized");
                return CDC_ERR__STATE;
        }
        err = kprod_txn_err(kp, "begin transaction",
                            rd_kafka_begin_transaction(kp->kp_rk));
        if (!err) {
                kp->kp_txn_open = 1;
                __atomic_store_n(&kp->kp_txn_abort, 0, __ATOMIC_RELEASE);
                kp->kp_txn_begun_us = cdc_now_us();
        }
        return err;
}

int64_t cdc_kprod_txn_begun_us(const cdc_kprod_t *kp) {
        return kp->kp_txn_open ? kp->kp_txn_begun_us : 0;
}

cdc_err_t cdc_kprod_txn_abort(cdc_kprod_t *kp, int timeout_ms) {
        cdc_err_t err;
        if (!kp->kp_txn_open)
                return CDC_ERR_NO_ERROR;
        if (kprod_is_fatal(kp))
                return CDC_ERR__FATAL;
        /* what the publisher has not handed over yet is part of the
         * transaction: dropped with it */
        if (kprod_ring_drain(kp, timeout_ms, 1)) {
                kprod_err(kp, 0,
                          "abort transaction: the publisher is still "
                          "handing messages to librdkafka");
                return CDC_ERR__TRANSPORT;
        }
        err = kprod_txn_err(kp, "abort transaction",
                            rd_kafka_abort_transaction(kp->kp_rk, timeout_ms));
        kprod_tl_flush();
        if (!err) {
                kp->kp_txn_open = 0;
                __atomic_store_n(&kp->kp_txn_abort, 0, __ATOMIC_RELEASE);
        }
        return err;
}

cdc_err_t cdc_kprod_txn_commit(cdc_kprod_t *kp, int timeout_ms) {
        cdc_err_t err;
        if (!kp->kp_txn_open)
                return CDC_ERR_NO_ERROR;
        if (kprod_is_fatal(kp))
                return CDC_ERR__FATAL;
        if (!kprod_txn_must_abort(kp)) {
                /* every message of it in librdkafka first */
                if (kprod_ring_drain(kp, timeout_ms, 0)) {
                        kprod_err(kp, 0,
                                  "commit transaction: the publisher is "
                                  "still handing messages to librdkafka");
                        return CDC_ERR__TRANSPORT; /* commit again later */
                }
                /* flushes every message first (serving delivery
                 * reports), then ends the transaction */
                err = kprod_txn_err(
                        kp, "commit transaction",
                        rd_kafka_commit_transaction(kp->kp_rk, timeout_ms));
                kprod_tl_flush();
                kprod_acks_serve(kp);
                if (!err && !kprod_txn_must_abort(kp)) {
                        kp->kp_txn_open = 0;
                        return CDC_ERR_NO_ERROR;
                }
                if (err == CDC_ERR__FATAL)
                        return err;
                if (!kprod_txn_must_abort(kp))
                        return err; /* retriable: commit again later */
        }
        /* a message failed or the broker asked for an abort: nothing of
         * this transaction is visible to read_committed readers */
        cdc_log(LOG_WARNING, "KPROD", "transaction aborted: %s",
                cdc_kprod_errstr(kp));
        err = cdc_kprod_txn_abort(kp, timeout_ms);
        if (err == CDC_ERR__FATAL)
                return err;
        return CDC_ERR__TRANSPORT; /* aborted (or still to abort) */
}

cdc_err_t cdc_kprod_reset(cdc_kprod_t *kp, char *errstr, size_t errstr_size) {
        rd_kafka_conf_t *rkc;
        int publisher = kp->kp_pub_on;

        if (!kp->kp_rkc) {
                snprintf(errstr, errstr_size, "not a transactional producer");
                return CDC_ERR__STATE;
        }
        rkc = rd_kafka_conf_dup(kp->kp_rkc);
        if (!rkc) {
                snprintf(errstr, errstr_size, "out of memory");
                return CDC_ERR__NOMEM;
        }
        kprod_publisher_stop(kp); /* what it holds is abandoned too */
        kprod_topics_clear(kp);
        rd_kafka_destroy(kp->kp_rk); /* an open transaction is abandoned:
                                      * the next init_transactions with
                                      * our transactional.id aborts it */
        kprod_tl_flush();
        kp->kp_rk = kprod_rk_new(kp, rkc, errstr, errstr_size);
        if (!kp->kp_rk) {
                __atomic_store_n(&kp->kp_fatal, 1, __ATOMIC_RELEASE);
                return CDC_ERR__FATAL;
        }
        pthread_mutex_lock(&kp->kp_lock);
        __atomic_store_n(&kp->kp_fatal, 0, __ATOMIC_RELEASE);
        __atomic_store_n(&kp->kp_txn_abort, 0, __ATOMIC_RELEASE);
        kp->kp_errstr[0] = '\0';
        kp->kp_drwhy[0]  = '\0';
        kp->kp_ack_cnt   = 0; /* reports of the old one: the engine
                               * starts over from the checkpoint */
        pthread_mutex_unlock(&kp->kp_lock);
        kp->kp_down       = 0;
        kp->kp_txn_inited = 0;
        kp->kp_txn_open   = 0;
        if (publisher)
                return cdc_kprod_publisher_start(kp, errstr, errstr_size);
        return CDC_ERR_NO_ERROR;
}
