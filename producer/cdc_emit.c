/**
 * @file cdc_emit.c
 * @brief Row -> key -> envelope -> Kafka (see cdc_emit.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdc_emit.h"
#include "cdc_backoff.h"
#include "cdc_log.h"

/* What a Kafka record adds to its key and value (lengths, attributes,
 * timestamp and offset deltas, headers count: a few dozen bytes), with a
 * wide margin: librdkafka refuses key + value + this overhead above
 * message.max.bytes. */
#define EMIT_RECORD_OVERHEAD 1024

/* Oversized events are logged one by one at most this often; the others
 * are counted and summed up in the next line. */
#define EMIT_OVERSIZE_LOG_US (60 * 1000000LL)

static const char *const emit_ops[] = { "c", "u", "d", "r" };

struct cdc_emit_s {
        const cdc_pconf_t *em_pc;
        cdc_kprod_t *em_kp; /* NULL: encode and discard */
        cdc_inflight_t *em_fl;
        size_t em_max_bytes;
        int64_t em_now_ms; /* the last event's ts_ms */
        /* the event being sent: rows write its source in place, so the
         * 700-byte cdc_source_t is copied once per row, not per message */
        cdc_event_t em_ev;
        char em_topics[CDC_PCONF_TABLES_MAX][256];
        char em_errstr[512];

        int64_t em_oversize_logged_us; /* last oversized event logged */
        uint64_t em_oversize_quiet;    /* oversized events not logged since */

        struct {
                cdc_metric_t *rows[CDC_PCONF_TABLES_MAX][4];
                cdc_metric_t *produced, *tombstones, *oversized, *skipped;
                cdc_metric_t *lag_s;
        } em_mt;
};

/* One message of a row change: what emit_send() needs. */
typedef struct {
        int ti; /* table index */
        cdc_op_t op;
        json_t *before, *after;                  /* borrowed row images */
        const cdc_row_t *before_row, *after_row; /* or flat ones */
        const cdc_source_t *src;
        const char *key;
        size_t klen;
        int part_set;           /* part is an explicit partition */
        int32_t part;           /* else: by key */
        const char *purge_user; /* op p */
} emit_msg_t;

/* ---- setup ---- */

static const struct {
        size_t off;
        int gauge;
        const char *name, *help;
} emit_metrics[] = {
#define _M(f) offsetof(cdc_emit_t, em_mt.f)
        { _M(produced), 0, "followcdc_producer_events_produced_total",
          "Messages handed to Kafka (events and tombstones)" },
        { _M(tombstones), 0, "followcdc_producer_tombstones_total",
          "Tombstones produced after deletes" },
        { _M(oversized), 0, "followcdc_producer_events_oversized_total",
          "Events published with oversized column values replaced by the "
          "marker (message.max.bytes)" },
        { _M(skipped), 0, "followcdc_producer_events_skipped_total",
          "Events that could not fit message.max.bytes even with every "
          "value outside the key replaced (logged at ERR)" },
        { _M(lag_s), 1, "followcdc_producer_lag_seconds",
          "Now minus the commit time of the last change read" },
#undef _M
};

cdc_emit_t *cdc_emit_new(const cdc_pconf_t *pc, cdc_kprod_t *kp,
                         cdc_inflight_t *fl, cdc_metrics_t *m, char *errstr,
                         size_t errstr_size) {
        cdc_emit_t *em = calloc(1, sizeof(*em));
        char labels[256];
        size_t i;
        int k;

        if (!em) {
                snprintf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        em->em_pc        = pc;
        em->em_kp        = kp;
        em->em_fl        = fl;
        em->em_max_bytes = kp ? cdc_kprod_max_message_bytes(kp) : SIZE_MAX;
        for (i = 0; i < pc->table_cnt; i++) {
                if (cdc_topic_name(em->em_topics[i], sizeof(em->em_topics[i]),
                                   pc->source_name, pc->mysql_db,
                                   pc->tables[i].name)) {
                        snprintf(errstr, errstr_size,
                                 "topic name for %s.%s is not legal",
                                 pc->mysql_db, pc->tables[i].name);
                        cdc_emit_destroy(em);
                        return NULL;
                }
                for (k = 0; k < 4; k++) {
                        snprintf(labels, sizeof(labels),
                                 "table=\"%s\",op=\"%s\"", pc->tables[i].name,
                                 emit_ops[k]);
                        em->em_mt.rows[i][k] = cdc_metrics_counter(
                                m, "followcdc_producer_rows_total",
                                "Row changes read, by table and op", labels);
                }
        }
        for (i = 0; i < sizeof(emit_metrics) / sizeof(*emit_metrics); i++) {
                cdc_metric_t **mp =
                        (cdc_metric_t **)((char *)em + emit_metrics[i].off);
                *mp = emit_metrics[i].gauge
                              ? cdc_metrics_gauge(m, emit_metrics[i].name,
                                                  emit_metrics[i].help, NULL)
                              : cdc_metrics_counter(m, emit_metrics[i].name,
                                                    emit_metrics[i].help, NULL);
        }
        return em;
}

void cdc_emit_destroy(cdc_emit_t *em) {
        free(em);
}

const char *cdc_emit_errstr(const cdc_emit_t *em) {
        return em->em_errstr;
}

size_t cdc_emit_budget(const cdc_emit_t *em, size_t klen) {
        if (em->em_max_bytes == SIZE_MAX)
                return SIZE_MAX;
        if (em->em_max_bytes <= klen + EMIT_RECORD_OVERHEAD)
                return 0;
        return em->em_max_bytes - klen - EMIT_RECORD_OVERHEAD;
}

/* source.name (once per row: a copy, not printf) */
static void emit_name(cdc_source_t *src, const char *name) {
        size_t n = strnlen(name, sizeof(src->name) - 1);
        memcpy(src->name, name, n);
        src->name[n] = '\0';
}

static int emit_table_idx(const cdc_emit_t *em, const char *table) {
        size_t i;
        for (i = 0; i < em->em_pc->table_cnt; i++)
                if (!strcmp(em->em_pc->tables[i].name, table))
                        return (int)i;
        return -1;
}

static int emit_op_idx(cdc_op_t op) {
        switch (op) {
        case CDC_OP_CREATE:
                return 0;
        case CDC_OP_UPDATE:
                return 1;
        case CDC_OP_DELETE:
                return 2;
        default:
                return 3;
        }
}

/* ---- oversized events ---- */

typedef struct {
        int img; /* 0 before, 1 after */
        const char *col;
        size_t bytes;
} emit_cand_t;

static int emit_cand_cmp(const void *a, const void *b) {
        const emit_cand_t *x = a, *y = b;
        return x->bytes < y->bytes ? 1 : x->bytes > y->bytes ? -1 : 0;
}

static int emit_is_key(const cdc_ptable_t *t, const char *col) {
        size_t i;
        for (i = 0; i < t->col_cnt; i++)
                if (!strcmp(t->cols[i], col))
                        return 1;
        return 0;
}

/* Re-encode \p ev with the largest string values outside the key columns
 * replaced by the marker until it fits \p budget. Values that are not
 * strings are small (numbers, booleans): they stay. @returns the encoded
 * event, or NULL when it can't fit (*nomemp set when out of memory). */
static char *emit_shrink(const cdc_ptable_t *t, const cdc_event_t *ev,
                         size_t len, size_t budget, size_t *lenp, int *nomemp) {
        static const char *const imgname[2] = { "before", "after" };
        const json_t *img[2]                = { ev->before, ev->after };
        json_t *copy[2] = { NULL, NULL }, *over = NULL, *marker = NULL;
        json_t *flat[2]   = { NULL, NULL }; /* JSON of flat images */
        emit_cand_t *cand = NULL;
        size_t n = 0, cap = 0, i, est = len;
        cdc_event_t ev2 = *ev;
        char *val       = NULL;
        const char *col;
        json_t *v;
        int k;

        /* rare (an event over message.max.bytes): JSON is simpler here */
        if ((ev->before_row &&
             !(img[0] = flat[0] = cdc_row_json(ev->before_row))) ||
            (ev->after_row &&
             !(img[1] = flat[1] = cdc_row_json(ev->after_row))))
                goto nomem;
        ev2.before_row = NULL;
        ev2.after_row  = NULL;
        for (k = 0; k < 2; k++)
                cap += img[k] ? json_object_size(img[k]) : 0;
        cand   = calloc(cap ? cap : 1, sizeof(*cand));
        over   = json_object();
        marker = json_string(CDC_EVENT_OVERSIZED_MARKER);
        if (!cand || !over || !marker)
                goto nomem;
        for (k = 0; k < 2; k++) {
                if (!img[k])
                        continue;
                json_object_foreach((json_t *)img[k], col, v) {
                        if (!json_is_string(v) || emit_is_key(t, col) ||
                            json_string_length(v) <=
                                    sizeof(CDC_EVENT_OVERSIZED_MARKER))
                                continue;
                        cand[n].img   = k;
                        cand[n].col   = col;
                        cand[n].bytes = json_string_length(v);
                        n++;
                }
                copy[k] = json_copy((json_t *)img[k]); /* shallow */
                if (!copy[k])
                        goto nomem;
        }
        qsort(cand, n, sizeof(*cand), emit_cand_cmp);
        ev2.before    = copy[0];
        ev2.after     = copy[1];
        ev2.oversized = over;
        for (i = 0; i < n; i++) {
                json_t *per = json_object_get(over, imgname[cand[i].img]);
                if (!per) {
                        per = json_object();
                        if (json_object_set_new(over, imgname[cand[i].img],
                                                per))
                                goto nomem;
                }
                if (json_object_set(copy[cand[i].img], cand[i].col, marker) ||
                    json_object_set_new(
                            per, cand[i].col,
                            json_integer((json_int_t)cand[i].bytes)))
                        goto nomem;
                /* the value's text shrinks at least by its raw length
                 * (escapes only make the original longer) */
                est -= cand[i].bytes + 2 - sizeof(CDC_EVENT_OVERSIZED_MARKER) -
                       1;
                if (est + 64 > budget && i + 1 < n)
                        continue; /* not yet: keep replacing */
                free(val);
                val = cdc_event_encode(&ev2, lenp);
                if (!val)
                        goto nomem;
                if (*lenp <= budget)
                        goto out;
                est = *lenp;
        }
        free(val);
        val = NULL; /* even every candidate replaced does not fit */
        goto out;
nomem:
        free(val);
        val     = NULL;
        *nomemp = 1;
out:
        free(cand);
        json_decref(marker);
        json_decref(over);
        json_decref(copy[0]);
        json_decref(copy[1]);
        json_decref(flat[0]);
        json_decref(flat[1]);
        return val;
}

static void emit_log_oversized(cdc_emit_t *em, const emit_msg_t *mm, size_t len,
                               size_t newlen) {
        int64_t now = cdc_now_us();
        if (em->em_oversize_logged_us &&
            now - em->em_oversize_logged_us < EMIT_OVERSIZE_LOG_US) {
                em->em_oversize_quiet++;
                return;
        }
        cdc_log(LOG_WARNING, "PRODUCER",
                "%c event of %s.%s (gtid %s, file %s:%" PRIu64
                ", row %u) is %zu bytes, over message.max.bytes: largest "
                "values outside the key replaced by \"%s\" (%zu bytes "
                "sent)%s",
                (char)mm->op, mm->src->db, mm->src->table,
                *mm->src->gtid ? mm->src->gtid : "-", mm->src->file,
                mm->src->pos, mm->src->row, len, CDC_EVENT_OVERSIZED_MARKER,
                newlen,
                em->em_oversize_quiet ? "; more since the last report: see "
                                        "followcdc_producer_events_oversized_"
                                        "total"
                                      : "");
        em->em_oversize_logged_us = now;
        em->em_oversize_quiet     = 0;
}

/* ---- produce ---- */

/* Encode one event and hand it (then its tombstone, for a delete) to
 * Kafka. \p first: nothing of this row was produced yet, so a full
 * in-flight ring may still be reported as QUEUE_FULL. */
static cdc_err_t emit_send(cdc_emit_t *em, const emit_msg_t *mm, int first) {
        const cdc_ptable_t *t = &em->em_pc->tables[mm->ti];
        cdc_event_t *ev       = &em->em_ev;
        char *val             = NULL;
        size_t len = 0, budget = cdc_emit_budget(em, mm->klen), full;
        char *hval   = NULL; /* a delete's envelope, again for its tombstone */
        size_t hlen  = 0;
        uint64_t seq = 0;
        int nomem = 0, counted = 0, tries;
        cdc_err_t err;

        ev->op         = mm->op;
        ev->before     = mm->before;
        ev->after      = mm->after;
        ev->before_row = mm->before_row;
        ev->after_row  = mm->after_row;
        ev->oversized  = NULL;
        if (mm->src != &ev->source)
                ev->source = *mm->src;
        ev->ts_ms         = cdc_wallclock_ms();
        em->em_now_ms     = ev->ts_ms; /* the lag metric's now */
        ev->purge_user[0] = '\0';
        if (mm->purge_user)
                snprintf(ev->purge_user, sizeof(ev->purge_user), "%s",
                         mm->purge_user);
        val = cdc_event_encode(ev, &len);
        if (!val)
                goto nomem;
        if (!em->em_kp) {
                free(val); /* bench.decode.only */
                return CDC_ERR_NO_ERROR;
        }
        /* Counted before it is produced, so the checkpoint can't pass it;
         * only the first message of a transaction may find no slot. */
        if (cdc_inflight_add(em->em_fl, cdc_now_coarse_us(), &seq) ==
            CDC_ERR__QUEUE_FULL) {
                free(val);
                if (first) {
                        snprintf(em->em_errstr, sizeof(em->em_errstr),
                                 "in-flight transactions at the limit");
                        return CDC_ERR__QUEUE_FULL;
                }
                /* cannot happen: the row's group is open */
                snprintf(em->em_errstr, sizeof(em->em_errstr),
                         "in-flight ring full inside a transaction");
                return CDC_ERR__FATAL;
        }
        full = len;
        for (tries = 0;; tries++) {
                if (len > budget) {
                        char *small =
                                emit_shrink(t, ev, full, budget, &len, &nomem);
                        free(val);
                        val = small;
                        if (!val)
                                break;
                        if (!counted++)
                                cdc_metric_add(em->em_mt.oversized, 1);
                        emit_log_oversized(em, mm, full, len);
                }
                if (mm->op == CDC_OP_DELETE) {
                        free(hval);
                        hval = malloc(len ? len : 1);
                        if (!hval) {
                                nomem = 1;
                                break;
                        }
                        memcpy(hval, val, len);
                        hlen = len;
                }
                err = cdc_kprod_produce(em->em_kp, em->em_topics[mm->ti],
                                        mm->part_set ? mm->part
                                                     : RD_KAFKA_PARTITION_UA,
                                        mm->key, mm->klen, val, len, seq);
                val = NULL; /* owned by cdc_kprod from the call */
                if (err != CDC_ERR__BAD_EVENT)
                        goto produced;
                if (tries == 2)
                        break; /* still refused: skip it */
                /* Kafka counts more overhead than we did: ask for less */
                budget = budget / 2;
                val    = cdc_event_encode(ev, &len);
                if (!val) {
                        nomem = 1;
                        break;
                }
                full = len;
        }
        /* Nothing of it can be sent. Acknowledge it locally so the
         * checkpoint moves on: the row is skipped, loudly. */
        free(hval);
        cdc_inflight_ack(em->em_fl, seq);
        if (nomem)
                goto nomem;
        cdc_metric_add(em->em_mt.skipped, 1);
        cdc_log(LOG_ERR, "PRODUCER",
                "%c event of %s.%s (gtid %s, file %s:%" PRIu64
                ", row %u, key %.*s) does not fit message.max.bytes=%zu even "
                "with every value outside the key replaced: skipped",
                (char)mm->op, mm->src->db, mm->src->table,
                *mm->src->gtid ? mm->src->gtid : "-", mm->src->file,
                mm->src->pos, mm->src->row,
                (int)(mm->klen > 200 ? 200 : mm->klen), mm->key,
                em->em_max_bytes);
        return CDC_ERR_NO_ERROR;

produced:
        if (err) {
                free(hval);
                hval = NULL;
        }
        if (err == CDC_ERR__STATE) {
                snprintf(em->em_errstr, sizeof(em->em_errstr),
                         "stopped while waiting for room in Kafka's queue");
                return err;
        }
        if (err) {
                snprintf(em->em_errstr, sizeof(em->em_errstr), "%s",
                         cdc_kprod_errstr(em->em_kp));
                return CDC_ERR__FATAL;
        }
        cdc_metric_add(em->em_mt.produced, 1);
        if (mm->op != CDC_OP_DELETE)
                return CDC_ERR_NO_ERROR;
        /* A delete: its tombstone, so compaction keeps only live rows.
         * Compaction may remove the delete event and keep the tombstone:
         * the tombstone carries the event in a header, so a consumer that
         * lagged still applies the delete (version-checked). */
        if (cdc_inflight_add(em->em_fl, cdc_now_coarse_us(), &seq)) {
                free(hval);
                snprintf(em->em_errstr, sizeof(em->em_errstr),
                         "tombstone: in-flight ring full inside a "
                         "transaction");
                return CDC_ERR__FATAL;
        }
        err = cdc_kprod_produce_tombstone(
                em->em_kp, em->em_topics[mm->ti], mm->key, mm->klen,
                hval ? CDC_EVENT_TOMBSTONE_HEADER : NULL, hval, hlen, seq);
        free(hval);
        if (err) {
                snprintf(em->em_errstr, sizeof(em->em_errstr), "tombstone: %s",
                         cdc_kprod_errstr(em->em_kp));
                return err == CDC_ERR__NOMEM        ? err
                       : cdc_kprod_fatal(em->em_kp) ? CDC_ERR__FATAL
                                                    : CDC_ERR__STATE;
        }
        cdc_metric_add(em->em_mt.produced, 1);
        cdc_metric_add(em->em_mt.tombstones, 1);
        return CDC_ERR_NO_ERROR;
nomem:
        free(val);
        snprintf(em->em_errstr, sizeof(em->em_errstr),
                 "out of memory encoding the %c event of %s.%s", (char)mm->op,
                 mm->src->db, mm->src->table);
        return CDC_ERR__NOMEM;
}

static cdc_err_t emit_key(cdc_emit_t *em, const cdc_ptable_t *t,
                          const json_t *img, const cdc_row_t *flat, char **keyp,
                          size_t *klenp) {
        char why[256];
        *keyp = flat ? cdc_key_from_flat(flat, t->cols, t->col_cnt, klenp, why,
                                         sizeof(why))
                     : cdc_key_from_row(img, t->cols, t->col_cnt, klenp, why,
                                        sizeof(why));
        if (*keyp)
                return CDC_ERR_NO_ERROR;
        snprintf(em->em_errstr, sizeof(em->em_errstr),
                 "table %s: can't build the message key: %s (check "
                 "table.%s.key / source.keys)",
                 t->name, why, t->name);
        return !strcmp(why, "out of memory") ? CDC_ERR__NOMEM : CDC_ERR__CONFIG;
}

cdc_err_t cdc_emit_row(cdc_emit_t *em, const cdc_binlog_item_t *it) {
        const cdc_ptable_t *t;
        cdc_source_t *src = &em->em_ev.source;
        emit_msg_t mm;
        char *key = NULL, *key2 = NULL;
        size_t klen = 0, klen2 = 0;
        cdc_err_t err;
        int ti;

        ti = emit_table_idx(em, it->table);
        if (ti < 0)
                return CDC_ERR_NO_ERROR; /* not ours (decoder filters) */
        t    = &em->em_pc->tables[ti];
        *src = it->source;
        emit_name(src, em->em_pc->source_name);
        src->epoch    = (uint32_t)em->em_pc->source_epoch;
        src->snapshot = 0;

        if (it->op == CDC_OP_DELETE)
                err = emit_key(em, t, it->before, it->before_row, &key, &klen);
        else
                err = emit_key(em, t, it->after, it->after_row, &key, &klen);
        if (!err && it->op == CDC_OP_UPDATE && (it->before || it->before_row))
                err = emit_key(em, t, it->before, it->before_row, &key2,
                               &klen2);
        if (err)
                goto out;

        memset(&mm, 0, sizeof(mm));
        mm.ti  = ti;
        mm.src = src;
        if (key2 && (klen2 != klen || memcmp(key, key2, klen))) {
                /* The key itself changed: the old key's row is gone and a
                 * new one exists (delete + tombstone, then create), so
                 * each key's partition tells its whole story. */
                mm.op         = CDC_OP_DELETE;
                mm.before     = it->before;
                mm.before_row = it->before_row;
                mm.key        = key2;
                mm.klen       = klen2;
                err           = emit_send(em, &mm, 1);
                if (!err) {
                        mm.op         = CDC_OP_CREATE;
                        mm.before     = NULL;
                        mm.before_row = NULL;
                        mm.after      = it->after;
                        mm.after_row  = it->after_row;
                        mm.key        = key;
                        mm.klen       = klen;
                        err           = emit_send(em, &mm, 0);
                }
        } else {
                mm.op = it->op;
                if (it->op != CDC_OP_CREATE) {
                        mm.before     = it->before;
                        mm.before_row = it->before_row;
                }
                if (it->op != CDC_OP_DELETE) {
                        mm.after     = it->after;
                        mm.after_row = it->after_row;
                }
                mm.key  = key;
                mm.klen = klen;
                err     = emit_send(em, &mm, 1);
        }
        if (err == CDC_ERR__QUEUE_FULL)
                goto out; /* nothing sent: the same row comes again */
        cdc_metric_add(em->em_mt.rows[ti][emit_op_idx(it->op)], 1);
        if (!err && it->source.ts_ms)
                cdc_metric_set(
                        em->em_mt.lag_s,
                        ((em->em_now_ms ? em->em_now_ms : cdc_wallclock_ms()) -
                         it->source.ts_ms) /
                                1000);
out:
        free(key);
        free(key2);
        return err;
}

cdc_err_t cdc_emit_snapshot_row(cdc_emit_t *em, const char *table, json_t *row,
                                const cdc_source_t *src_in) {
        cdc_source_t *src = &em->em_ev.source;
        emit_msg_t mm;
        char *key   = NULL;
        size_t klen = 0;
        cdc_err_t err;
        int ti = emit_table_idx(em, table);

        if (ti < 0)
                return CDC_ERR_NO_ERROR;
        *src = *src_in;
        emit_name(src, em->em_pc->source_name);
        src->epoch = (uint32_t)em->em_pc->source_epoch;
        err = emit_key(em, &em->em_pc->tables[ti], row, NULL, &key, &klen);
        if (err)
                return err;
        memset(&mm, 0, sizeof(mm));
        mm.ti    = ti;
        mm.op    = CDC_OP_READ;
        mm.after = row;
        mm.src   = src;
        mm.key   = key;
        mm.klen  = klen;
        err      = emit_send(em, &mm, 1);
        if (err != CDC_ERR__QUEUE_FULL)
                cdc_metric_add(em->em_mt.rows[ti][3], 1);
        free(key);
        return err;
}

/* ---- control events ---- */

cdc_err_t cdc_emit_truncate(cdc_emit_t *em, const char *table,
                            const cdc_source_t *src_in, int *partsp) {
        cdc_source_t src = *src_in;
        emit_msg_t mm;
        char key[48];
        int ti        = emit_table_idx(em, table), n, p;
        cdc_err_t err = CDC_ERR_NO_ERROR;

        *partsp = 0;
        if (ti < 0)
                return CDC_ERR_NO_ERROR;
        snprintf(src.name, sizeof(src.name), "%s", em->em_pc->source_name);
        snprintf(src.table, sizeof(src.table), "%s", table);
        src.epoch    = (uint32_t)em->em_pc->source_epoch;
        src.snapshot = 0;
        src.row      = 0;
        if (!em->em_kp)
                return CDC_ERR_NO_ERROR; /* bench.decode.only */
        /* One per partition: each consumer applies it after everything
         * of its partition before it, so no older change of any
         * partition can land after the last sweep. */
        n = cdc_kprod_partitions(em->em_kp, em->em_topics[ti], 10000);
        if (n <= 0) {
                snprintf(em->em_errstr, sizeof(em->em_errstr),
                         "TRUNCATE of %s: the partitions of topic %s are "
                         "unknown (brokers unreachable?)",
                         table, em->em_topics[ti]);
                return CDC_ERR__TRANSPORT;
        }
        for (p = 0; p < n && !err; p++) {
                memset(&mm, 0, sizeof(mm));
                snprintf(key, sizeof(key), "{\"truncate\":%d}", p);
                mm.ti       = ti;
                mm.op       = CDC_OP_TRUNCATE;
                mm.src      = &src;
                mm.key      = key;
                mm.klen     = strlen(key);
                mm.part_set = 1;
                mm.part     = p;
                err         = emit_send(em, &mm, p == 0);
        }
        if (!err)
                *partsp = n;
        return err;
}

cdc_err_t cdc_emit_purge(cdc_emit_t *em, const char *table, const char *user,
                         const cdc_source_t *src_in) {
        cdc_source_t src = *src_in;
        emit_msg_t mm;
        char key[64];
        int ti = emit_table_idx(em, table);

        if (ti < 0)
                return CDC_ERR_NO_ERROR;
        snprintf(src.name, sizeof(src.name), "%s", em->em_pc->source_name);
        snprintf(src.table, sizeof(src.table), "%s", table);
        src.epoch    = (uint32_t)em->em_pc->source_epoch;
        src.snapshot = 0;
        snprintf(key, sizeof(key), "{\"purge\":%s}", user);
        memset(&mm, 0, sizeof(mm));
        mm.ti         = ti;
        mm.op         = CDC_OP_PURGE;
        mm.src        = &src;
        mm.key        = key;
        mm.klen       = strlen(key);
        mm.purge_user = user;
        return emit_send(em, &mm, 1);
}
