/**
 * @file cdc_batch.c
 * @brief The consumer's batch: gather, parse, add, settle the dead
 *        letters, store or drop (see cdc_batch.h).
 */
#include "cdc_batch.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdc_backoff.h"
#include "cdc_event.h"
#include "cdc_log.h"
#include "cdc_precheck.h"
#include "cdc_tomb.h"

/* Dead-letter lines: at most BATCH_LOG_BURST per period, then a count. */
#define BATCH_LOG_BURST     10
#define BATCH_LOG_PERIOD_US (10 * 1000000LL)

/* Buckets of followcdc_consumer_event_age_seconds: the source's commit
 * times have one-second resolution (binlog event headers), so nothing
 * finer than half a second means much; the tail covers a consumer that
 * was down or catching up for hours. */
static const int64_t batch_age_bounds_ms[] = {
        500,    1000,   2000,   5000,    10000,   30000,    60000,
        120000, 300000, 600000, 1800000, 3600000, 21600000, 86400000
};

/* Windows smaller than this are parsed on the main thread alone. */
#define BATCH_PARSE_SPLIT 64

/* A record's progress through add. */
enum {
        REC_NEW = 0, /* gathered */
        REC_PARSED,  /* parse result in ev / perr / why */
        REC_DONE,    /* added, counted as tombstone, or marked a letter */
};

/* A record's dead letter. */
enum {
        L_NONE = 0, /* not poison */
        L_PENDING,  /* marked, not sent yet */
        L_SENT,     /* queued in the producer */
        L_RESEND,   /* refused for its size: send truncated now */
        L_FAILED,   /* delivery failed: send again after a backoff */
        L_ACKED,    /* acknowledged */
};

/* One Kafka message of the batch and everything known about it. */
typedef struct batch_rec_s {
        rd_kafka_message_t *rkm; /* owned */
        cdc_event_t *ev;         /* parsed, not yet added (owned) */
        char *why;               /* dead-letter reason (owned) */
        int64_t src_ms;          /* applied change's commit time, 0: none */
        cdc_err_t perr;          /* parse result */
        uint8_t st;              /* REC_* */
        uint8_t lst;             /* L_* */
        uint8_t ltrunc;          /* letter sent truncated */
        uint8_t over;            /* refused by a cap before parsing */
        uint8_t tomb;            /* a tombstone (ev: its header's delete) */
} batch_rec_t;

struct cdc_batch_s {
        cdc_batch_conf_t b_conf; /* strings borrowed */
        cdc_apply_t *b_ap;
        cdc_dlq_t *b_dq;
        cdc_kcons_t *b_kc;

        batch_rec_t *b_recs; /* [0, n) the batch, [n, n + ncarry) carried */
        size_t b_cap;        /* of the batch, and again of the carried */
        size_t b_n, b_ncarry;
        size_t b_bytes;                 /* values gathered */
        rd_kafka_message_t **b_scratch; /* messages view for cdc_kcons */
        cdc_batch_phase_t b_phase;

        /* add */
        size_t b_cur;  /* next record to handle */
        size_t b_wend; /* end of the parsed window */
        size_t b_events, b_tombs, b_tomb_dels;

        /* dead letters: ids are b_gen << 32 | record index */
        uint32_t b_gen;
        size_t b_nletters, b_lacked, b_lfailed;
        int b_lrefused;
        char b_lerr[256];

        /* parse helper thread: records [pfrom, pto) of the window */
        pthread_t b_pt;
        pthread_mutex_t b_plk;
        pthread_cond_t b_pcnd;
        int b_pt_started, b_pjob, b_pstop;
        size_t b_pfrom, b_pto;

        /* rate limit of dead-letter lines */
        int64_t b_log_us;
        unsigned b_log_n;
        uint64_t b_log_dropped;

        cdc_metric_t *m_msgs, *m_events, *m_tomb, *m_tomb_del, *m_dlq,
                *m_unmapped, *m_oversized, *m_age;
};

int cdc_batch_table_mapped(const cdc_batch_conf_t *conf, const char *table) {
        return !strcmp(table, conf->follow_table) ||
               !strcmp(table, conf->idem_table);
}

/* ---- parse ---- */

/* Parse records [from, to): caps first, then JSON. @locality any thread */
static void batch_parse_range(cdc_batch_t *b, size_t from, size_t to) {
        char es[512];
        size_t i;

        for (i = from; i < to; i++) {
                batch_rec_t *rec        = &b->b_recs[i];
                rd_kafka_message_t *rkm = rec->rkm;

                rec->st = REC_PARSED;
                es[0]   = '\0';
                if (!rkm->payload) {
                        /* a tombstone: the delete in its header, if any */
                        rd_kafka_headers_t *hdrs = NULL;
                        int over                 = 0;
                        if (rd_kafka_message_headers(rkm, &hdrs))
                                hdrs = NULL;
                        rec->tomb = 1;
                        rec->perr =
                                cdc_tomb_parse(hdrs, b->b_conf.event_max_bytes,
                                               b->b_conf.event_max_columns,
                                               &rec->ev, &over, es, sizeof(es));
                        rec->over = (uint8_t)over;
                        if (rec->perr && rec->perr != CDC_ERR__NOMEM)
                                rec->why = strdup(
                                        es[0] ? es : cdc_err2str(rec->perr));
                        continue;
                }
                rec->perr = cdc_precheck_event(
                        rkm->payload, rkm->len, b->b_conf.event_max_bytes,
                        b->b_conf.event_max_columns, es, sizeof(es));
                if (rec->perr)
                        rec->over = 1;
                else
                        rec->perr = cdc_event_parse(rkm->payload, rkm->len,
                                                    &rec->ev, es, sizeof(es));
                if (rec->perr && rec->perr != CDC_ERR__NOMEM)
                        rec->why = strdup(es[0] ? es : cdc_err2str(rec->perr));
        }
}

static void *batch_parse_main(void *arg) {
        cdc_batch_t *b = arg;
        pthread_mutex_lock(&b->b_plk);
        for (;;) {
                while (!b->b_pjob && !b->b_pstop)
                        pthread_cond_wait(&b->b_pcnd, &b->b_plk);
                if (b->b_pstop)
                        break;
                pthread_mutex_unlock(&b->b_plk);
                batch_parse_range(b, b->b_pfrom, b->b_pto);
                pthread_mutex_lock(&b->b_plk);
                b->b_pjob = 0;
                pthread_cond_broadcast(&b->b_pcnd);
        }
        pthread_mutex_unlock(&b->b_plk);
        return NULL;
}

/* Parse the window [from, to): JSON parsing is half the consumer's CPU
 * and Redis is idle meanwhile, so the second half goes to the helper. */
static void batch_parse(cdc_batch_t *b, size_t from, size_t to) {
        size_t half = from + (to - from) / 2;

        if (!b->b_pt_started || to - from < BATCH_PARSE_SPLIT) {
                batch_parse_range(b, from, to);
                return;
        }
        pthread_mutex_lock(&b->b_plk);
        b->b_pfrom = half;
        b->b_pto   = to;
        b->b_pjob  = 1;
        pthread_cond_broadcast(&b->b_pcnd);
        pthread_mutex_unlock(&b->b_plk);
        batch_parse_range(b, from, half);
        pthread_mutex_lock(&b->b_plk);
        while (b->b_pjob)
                pthread_cond_wait(&b->b_pcnd, &b->b_plk);
        pthread_mutex_unlock(&b->b_plk);
}

/* Bytes parsing \p rkm reads: its value, or a tombstone's headers (the
 * delete it carries). */
static size_t batch_parse_bytes(rd_kafka_message_t *rkm) {
        rd_kafka_headers_t *hdrs = NULL;
        const char *name;
        const void *val;
        size_t i, sz, sum = 0;

        if (rkm->payload || rd_kafka_message_headers(rkm, &hdrs))
                return rkm->len;
        for (i = 0; !rd_kafka_header_get_all(hdrs, i, &name, &val, &sz); i++)
                sum += sz;
        return sum;
}

/* End of the window starting at \p from: CDC_BATCH_PARSE_EVENTS records
 * or CDC_BATCH_PARSE_BYTES of values to parse, at least one record.
 * Values over event.max.bytes are never parsed and do not count. */
static size_t batch_window_end(const cdc_batch_t *b, size_t from) {
        size_t end = from, bytes = 0;

        while (end < b->b_n && end - from < CDC_BATCH_PARSE_EVENTS) {
                size_t len = batch_parse_bytes(b->b_recs[end].rkm);
                if (len > b->b_conf.event_max_bytes)
                        len = 0;
                if (end > from && bytes + len > CDC_BATCH_PARSE_BYTES)
                        break;
                bytes += len;
                end++;
        }
        return end;
}

/* ---- records ---- */

static void batch_rec_clear(batch_rec_t *rec) {
        if (rec->rkm)
                rd_kafka_message_destroy(rec->rkm);
        cdc_event_destroy(rec->ev);
        free(rec->why);
        memset(rec, 0, sizeof(*rec));
}

/* The dead-letter reason of \p rec; a fixed one if copying it failed
 * (out of memory must not stop the stream). */
static const char *batch_why(const batch_rec_t *rec) {
        return rec->why ? rec->why : "unparsable";
}

/* Log a summary of the dead-letter lines held back, once per period. */
static void batch_log_tick(cdc_batch_t *b, int64_t now) {
        if (now - b->b_log_us < BATCH_LOG_PERIOD_US)
                return;
        if (b->b_log_dropped)
                cdc_log(LOG_WARNING, "CONSUMER",
                        "%" PRIu64 " more message(s) dead-lettered in the "
                        "last %" PRId64 "s (not logged one by one; see "
                        "followcdc_consumer_dead_letters_total)",
                        b->b_log_dropped, (now - b->b_log_us) / 1000000);
        b->b_log_us      = now;
        b->b_log_n       = 0;
        b->b_log_dropped = 0;
}

/* Mark \p rec poison: it goes to the dead-letter topic with \p reason
 * (copied unless it is rec->why already). */
static void batch_letter(cdc_batch_t *b, batch_rec_t *rec, const char *reason) {
        rd_kafka_message_t *rkm = rec->rkm;

        if (rec->why != reason) {
                free(rec->why);
                rec->why = reason ? strdup(reason) : NULL;
        }
        rec->lst = L_PENDING;
        b->b_nletters++;
        cdc_metric_add(b->m_dlq, 1);
        batch_log_tick(b, cdc_now_us());
        if (b->b_log_n++ < BATCH_LOG_BURST)
                cdc_log(LOG_WARNING, "CONSUMER",
                        "dead-lettering %s [%" PRId32 "] offset %" PRId64
                        ": %s",
                        rd_kafka_topic_name(rkm->rkt), rkm->partition,
                        rkm->offset, batch_why(rec));
        else
                b->b_log_dropped++;
}

/* Queue the copy of letter \p idx; a copy too large is sent truncated at
 * once (librdkafka refuses it locally, before any broker sees it). */
static void batch_letter_send(cdc_batch_t *b, size_t idx) {
        batch_rec_t *rec = &b->b_recs[idx];
        uint64_t id      = (uint64_t)b->b_gen << 32 | (uint64_t)idx;
        cdc_dlq_status_t st;
        char es[256];

        for (;;) {
                /* sent before the call: its report may be served inside */
                rec->lst = L_SENT;
                st       = cdc_dlq_send(b->b_dq, rec->rkm, batch_why(rec),
                                        rec->ltrunc, id, es, sizeof(es));
                if (st != CDC_DLQ_TOO_LARGE || rec->ltrunc)
                        break;
                rec->ltrunc = 1;
        }
        if (st == CDC_DLQ_OK)
                return;
        rec->lst = L_FAILED;
        b->b_lfailed++;
        if (st != CDC_DLQ_RETRY)
                b->b_lrefused = 1;
        snprintf(b->b_lerr, sizeof(b->b_lerr), "%s", es);
}

/* Empty the batch (messages freed, letters of it forgotten) and make the
 * carried messages the next batch. */
static void batch_reset(cdc_batch_t *b) {
        size_t i;

        for (i = 0; i < b->b_n; i++)
                batch_rec_clear(&b->b_recs[i]);
        if (b->b_ncarry)
                memmove(b->b_recs, b->b_recs + b->b_n,
                        b->b_ncarry * sizeof(*b->b_recs));
        memset(b->b_recs + b->b_ncarry, 0, b->b_n * sizeof(*b->b_recs));
        b->b_n      = b->b_ncarry;
        b->b_ncarry = 0;
        b->b_bytes  = 0;
        for (i = 0; i < b->b_n; i++)
                b->b_bytes += b->b_recs[i].rkm->len;
        b->b_phase     = b->b_n ? CDC_BATCH_GATHER : CDC_BATCH_EMPTY;
        b->b_cur       = 0;
        b->b_wend      = 0;
        b->b_events    = 0;
        b->b_tombs     = 0;
        b->b_tomb_dels = 0;
        b->b_nletters  = 0;
        b->b_lacked    = 0;
        b->b_lfailed   = 0;
        b->b_lrefused  = 0;
        b->b_lerr[0]   = '\0';
        /* delivery reports still in flight belong to the old batch */
        b->b_gen++;
        batch_log_tick(b, cdc_now_us());
}

/* Fill the messages view of records [from, from + n). */
static rd_kafka_message_t *const *batch_view(cdc_batch_t *b, size_t from,
                                             size_t n) {
        size_t i;
        for (i = 0; i < n; i++)
                b->b_scratch[i] = b->b_recs[from + i].rkm;
        return b->b_scratch;
}

/* ---- public ---- */

cdc_batch_t *cdc_batch_new(const cdc_batch_conf_t *conf, cdc_apply_t *ap,
                           cdc_dlq_t *dq, cdc_kcons_t *kc, cdc_metrics_t *m,
                           char *errstr, size_t errstr_size) {
        cdc_batch_t *b = calloc(1, sizeof(*b));

        if (!b)
                goto nomem;
        b->b_conf    = *conf;
        b->b_ap      = ap;
        b->b_dq      = dq;
        b->b_kc      = kc;
        b->b_cap     = conf->max_msgs ? conf->max_msgs : 1;
        b->b_recs    = calloc(2 * b->b_cap, sizeof(*b->b_recs));
        b->b_scratch = calloc(b->b_cap, sizeof(*b->b_scratch));
        if (!b->b_recs || !b->b_scratch)
                goto nomem;
        if (m) {
                b->m_msgs = cdc_metrics_counter(
                        m, "followcdc_consumer_messages_total",
                        "Kafka messages consumed", NULL);
                b->m_events = cdc_metrics_counter(
                        m, "followcdc_consumer_events_total",
                        "Change events handed to the applier", NULL);
                b->m_tomb = cdc_metrics_counter(
                        m, "followcdc_consumer_tombstones_total",
                        "Tombstones consumed (null values)", NULL);
                b->m_tomb_del = cdc_metrics_counter(
                        m, "followcdc_consumer_tombstone_deletes_total",
                        "Deletes applied from a tombstone's followcdc.delete "
                        "header (version-checked)",
                        NULL);
                b->m_dlq = cdc_metrics_counter(
                        m, "followcdc_consumer_dead_letters_total",
                        "Messages sent to the dead-letter topic", NULL);
                b->m_unmapped = cdc_metrics_counter(
                        m, "followcdc_consumer_unmapped_events_total",
                        "Events of tables that are not mapped "
                        "(dead-lettered)",
                        NULL);
                b->m_oversized = cdc_metrics_counter(
                        m, "followcdc_consumer_oversized_events_total",
                        "Messages over event.max.bytes or event.max.columns "
                        "(dead-lettered unparsed)",
                        NULL);
                b->m_age = cdc_metrics_histogram_ms(
                        m, "followcdc_consumer_event_age_seconds",
                        "Age of each applied change when Redis acknowledged "
                        "it, from its commit on the source (binlog times "
                        "have 1 s resolution; snapshot reads not counted)",
                        NULL, batch_age_bounds_ms,
                        sizeof(batch_age_bounds_ms) /
                                sizeof(*batch_age_bounds_ms));
        }
        pthread_mutex_init(&b->b_plk, NULL);
        pthread_cond_init(&b->b_pcnd, NULL);
        /* no helper thread: parse everything on the main thread */
        if (!pthread_create(&b->b_pt, NULL, batch_parse_main, b))
                b->b_pt_started = 1;
        b->b_log_us = cdc_now_us();
        return b;
nomem:
        snprintf(errstr, errstr_size, "batch: out of memory");
        if (b) {
                free(b->b_recs);
                free(b->b_scratch);
                free(b);
        }
        return NULL;
}

void cdc_batch_destroy(cdc_batch_t *b) {
        size_t i;

        if (!b)
                return;
        if (b->b_pt_started) {
                pthread_mutex_lock(&b->b_plk);
                b->b_pstop = 1;
                pthread_cond_broadcast(&b->b_pcnd);
                pthread_mutex_unlock(&b->b_plk);
                pthread_join(b->b_pt, NULL);
        }
        pthread_mutex_destroy(&b->b_plk);
        pthread_cond_destroy(&b->b_pcnd);
        for (i = 0; i < b->b_n + b->b_ncarry; i++)
                batch_rec_clear(&b->b_recs[i]);
        free(b->b_recs);
        free(b->b_scratch);
        free(b);
}

cdc_batch_phase_t cdc_batch_phase(const cdc_batch_t *b) {
        return b->b_phase;
}

size_t cdc_batch_count(const cdc_batch_t *b) {
        return b->b_n;
}

int cdc_batch_full(const cdc_batch_t *b) {
        return b->b_n >= b->b_cap || b->b_bytes >= b->b_conf.max_bytes;
}

int cdc_batch_push(cdc_batch_t *b, rd_kafka_message_t *rkm) {
        if (b->b_phase != CDC_BATCH_EMPTY && b->b_phase != CDC_BATCH_GATHER) {
                /* not gathering: keep it for the next batch */
                cdc_batch_carry(b, rkm);
                return 1;
        }
        if (b->b_n >= b->b_cap) {
                cdc_batch_carry(b, rkm);
                return 1;
        }
        /* carried records sit after the batch: make room */
        if (b->b_ncarry)
                memmove(b->b_recs + b->b_n + 1, b->b_recs + b->b_n,
                        b->b_ncarry * sizeof(*b->b_recs));
        memset(&b->b_recs[b->b_n], 0, sizeof(b->b_recs[0]));
        b->b_recs[b->b_n++].rkm = rkm;
        b->b_bytes += rkm->len;
        b->b_phase = CDC_BATCH_GATHER;
        return cdc_batch_full(b);
}

cdc_err_t cdc_batch_add(cdc_batch_t *b) {
        char es[512];
        size_t i;

        if (b->b_phase == CDC_BATCH_GATHER)
                b->b_phase = CDC_BATCH_ADD;
        if (b->b_phase != CDC_BATCH_ADD)
                return b->b_phase == CDC_BATCH_SETTLE ? CDC_ERR_NO_ERROR
                                                      : CDC_ERR__STATE;
        while (b->b_cur < b->b_n) {
                batch_rec_t *rec = &b->b_recs[b->b_cur];
                cdc_err_t err;

                if (b->b_cur == b->b_wend) {
                        b->b_wend = batch_window_end(b, b->b_cur);
                        batch_parse(b, b->b_cur, b->b_wend);
                }
                if (rec->tomb && !rec->ev && !rec->perr) {
                        /* a tombstone without a delete header (an older
                         * producer): only there for log compaction */
                } else if (rec->perr == CDC_ERR__NOMEM) {
                        /* not the message's fault: apply it later */
                        return CDC_ERR__NOMEM;
                } else if (rec->perr) {
                        if (rec->over)
                                cdc_metric_add(b->m_oversized, 1);
                        batch_letter(b, rec, rec->why);
                } else if (!cdc_batch_table_mapped(&b->b_conf,
                                                   rec->ev->source.table)) {
                        /* Dropping it would lose changes silently when
                         * follow.table / idem.table do not match what the
                         * producer writes: keep it, visibly. */
                        snprintf(es, sizeof(es),
                                 "table \"%s\" is not mapped (follow.table "
                                 "\"%s\", idem.table \"%s\")",
                                 rec->ev->source.table, b->b_conf.follow_table,
                                 b->b_conf.idem_table);
                        cdc_metric_add(b->m_unmapped, 1);
                        batch_letter(b, rec, es);
                } else {
                        es[0] = '\0';
                        err   = cdc_apply_add(b->b_ap, rec->ev, es, sizeof(es));
                        if (err == CDC_ERR__QUEUE_FULL)
                                return err; /* the record stays parsed */
                        if (err == CDC_ERR__BAD_EVENT) {
                                batch_letter(b, rec,
                                             es[0] ? es : "unmappable event");
                        } else if (err) {
                                cdc_log(LOG_ERR, "CONSUMER", "apply: %s",
                                        cdc_err2str(err));
                                return err;
                        } else {
                                cdc_metric_add(b->m_events, 1);
                                b->b_events++;
                                /* a snapshot read's time is the snapshot's,
                                 * not a change's, and a tombstone repeats
                                 * its delete: no age */
                                if (!rec->ev->source.snapshot && !rec->tomb)
                                        rec->src_ms = rec->ev->source.ts_ms;
                                if (rec->tomb) {
                                        /* the delete event itself may be
                                         * compacted away: applied again
                                         * from here (a no-op if it was
                                         * not, version-checked) */
                                        cdc_metric_add(b->m_tomb_del, 1);
                                        b->b_tomb_dels++;
                                }
                        }
                }
                if (rec->tomb) {
                        cdc_metric_add(b->m_tomb, 1);
                        b->b_tombs++;
                }
                cdc_event_destroy(rec->ev);
                rec->ev = NULL;
                rec->st = REC_DONE;
                cdc_metric_add(b->m_msgs, 1);
                b->b_cur++;
        }
        /* queue the dead letters now so their delivery overlaps Redis */
        for (i = 0; i < b->b_n && b->b_nletters; i++)
                if (b->b_recs[i].lst == L_PENDING)
                        batch_letter_send(b, i);
        b->b_phase = CDC_BATCH_SETTLE;
        cdc_dbg(APPLY, "APPLY",
                "batch of %zu message(s) added: %zu event(s), %zu "
                "tombstone(s) (%zu with a delete), %zu dead letter(s); %zu "
                "script(s) queued",
                b->b_n, b->b_events, b->b_tombs, b->b_tomb_dels, b->b_nletters,
                cdc_apply_pending(b->b_ap));
        return CDC_ERR_NO_ERROR;
}

/* Send now the letters refused for their size (truncated this time). */
static void batch_letters_resend_now(cdc_batch_t *b) {
        size_t i;
        for (i = 0; i < b->b_n; i++)
                if (b->b_recs[i].lst == L_RESEND)
                        batch_letter_send(b, i);
}

cdc_err_t cdc_batch_letters(cdc_batch_t *b, int timeout_ms, char *errstr,
                            size_t errstr_size) {
        if (b->b_phase != CDC_BATCH_SETTLE)
                return CDC_ERR__STATE;
        if (b->b_lacked == b->b_nletters)
                return CDC_ERR_NO_ERROR;
        batch_letters_resend_now(b);
        if (!b->b_lfailed && !cdc_dlq_flush(b->b_dq, timeout_ms)) {
                size_t i;
                /* Nothing in flight any more, yet letters without a
                 * report: never wait for what cannot come, send them
                 * again (a duplicate dead letter is harmless). */
                for (i = 0; i < b->b_n; i++) {
                        if (b->b_recs[i].lst != L_SENT)
                                continue;
                        b->b_recs[i].lst = L_FAILED;
                        b->b_lfailed++;
                        snprintf(b->b_lerr, sizeof(b->b_lerr),
                                 "%s: no delivery report",
                                 cdc_dlq_topic(b->b_dq));
                }
        }
        batch_letters_resend_now(b);
        if (b->b_lacked == b->b_nletters)
                return CDC_ERR_NO_ERROR;
        if (b->b_lfailed) {
                snprintf(errstr, errstr_size, "%s", b->b_lerr);
                return CDC_ERR__TRANSPORT;
        }
        return CDC_ERR__TIMED_OUT;
}

int cdc_batch_letters_refused(const cdc_batch_t *b) {
        return b->b_lfailed && b->b_lrefused;
}

void cdc_batch_letters_resend(cdc_batch_t *b) {
        size_t i;

        b->b_lrefused = 0;
        for (i = 0; i < b->b_n; i++) {
                if (b->b_recs[i].lst != L_FAILED)
                        continue;
                b->b_lfailed--;
                batch_letter_send(b, i);
        }
}

void cdc_batch_dr(cdc_batch_t *b, uint64_t id, cdc_dlq_status_t st,
                  const char *errstr) {
        size_t idx = (size_t)(id & 0xffffffffu);
        batch_rec_t *rec;

        if ((uint32_t)(id >> 32) != b->b_gen || idx >= b->b_n)
                return; /* a letter of a dropped batch */
        rec = &b->b_recs[idx];
        if (rec->lst != L_SENT)
                return;
        if (st == CDC_DLQ_OK) {
                rec->lst = L_ACKED;
                b->b_lacked++;
                return;
        }
        if (st == CDC_DLQ_TOO_LARGE && !rec->ltrunc) {
                /* the topic's max.message.bytes is below ours */
                rec->ltrunc = 1;
                rec->lst    = L_RESEND;
                return;
        }
        rec->lst = L_FAILED;
        b->b_lfailed++;
        if (st != CDC_DLQ_RETRY)
                b->b_lrefused = 1;
        snprintf(b->b_lerr, sizeof(b->b_lerr), "%s", errstr);
}

void cdc_batch_store(cdc_batch_t *b) {
        size_t i;

        if (b->b_n) {
                /* Redis acknowledged every change of the batch: how old
                 * each one is now, from its commit on the source */
                int64_t now = cdc_wallclock_ms();
                for (i = 0; i < b->b_n; i++)
                        if (b->b_recs[i].src_ms > 0)
                                cdc_metric_observe_ms(
                                        b->m_age, now - b->b_recs[i].src_ms);
                cdc_kcons_store(b->b_kc, batch_view(b, 0, b->b_n), b->b_n);
        }
        batch_reset(b);
}

size_t cdc_batch_drop(cdc_batch_t *b) {
        size_t n = b->b_n;

        if (!n)
                return 0;
        cdc_apply_discard(b->b_ap);
        cdc_kcons_rewind(b->b_kc, batch_view(b, 0, n), n);
        batch_reset(b);
        return n;
}

void cdc_batch_carry(cdc_batch_t *b, rd_kafka_message_t *rkm) {
        if (b->b_ncarry < b->b_cap) {
                batch_rec_t *rec = &b->b_recs[b->b_n + b->b_ncarry++];
                memset(rec, 0, sizeof(*rec));
                rec->rkm = rkm;
                return;
        }
        cdc_kcons_rewind(b->b_kc, &rkm, 1);
        rd_kafka_message_destroy(rkm);
}

void cdc_batch_drop_carried(cdc_batch_t *b, int rewind) {
        size_t i;

        if (!b->b_ncarry)
                return;
        if (rewind)
                cdc_kcons_rewind(b->b_kc, batch_view(b, b->b_n, b->b_ncarry),
                                 b->b_ncarry);
        for (i = 0; i < b->b_ncarry; i++)
                batch_rec_clear(&b->b_recs[b->b_n + i]);
        b->b_ncarry = 0;
}

size_t cdc_batch_carried(const cdc_batch_t *b) {
        return b->b_ncarry;
}
