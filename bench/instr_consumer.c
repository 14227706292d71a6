/**
 * @file instr_consumer.c
 * @brief Fixed, server-free input for the consumer's parse + map path, for
 *        instruction counts (bench/instr.sh runs it under callgrind).
 *
 * Builds EVENTS follow change events with the contract's own encoder
 * (cdc_event_encode, as the producer writes them): a fixed mix of 80 %
 * creates, 15 % updates (both images), 5 % deletes over 200,000 users,
 * then hands each value to the consumer's modules as cdc_batch does for
 * one record: cdc_precheck_event (caps), cdc_event_parse (the contract
 * parser), cdc_batch_table_mapped and cdc_apply_add (event -> Redis
 * scripts, queued; the queue is discarded when full, nothing is sent: no
 * Redis is needed). The defaults of the consumer's configuration are used
 * (cdc_cconf_init).
 *
 * Only instr_run() is measured (callgrind --toggle-collect=instr_run;
 * with callgrind.h the driver switches instrumentation on around it, as
 * instr_producer.c does).
 * Prints `instr_consumer events=<n> scripts=<n>` and exits 1 if an event
 * was refused.
 *
 * Usage: instr_consumer [EVENTS (100000)]
 *        instr_consumer --requests   exit 0 if built with callgrind.h
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef CDC_HAVE_CALLGRIND_H
#include <valgrind/callgrind.h>
#define CDC_HAVE_REQUESTS 1
#else
#define CDC_HAVE_REQUESTS 0
#define CALLGRIND_START_INSTRUMENTATION
#define CALLGRIND_STOP_INSTRUMENTATION
#endif

#include "cdc_apply.h"
#include "cdc_batch.h"
#include "cdc_cconf.h"
#include "cdc_event.h"
#include "cdc_log.h"
#include "cdc_precheck.h"

typedef struct msg_s {
        char *val;
        size_t len;
} msg_t;

static uint64_t rnd_next(uint64_t *s) {
        uint64_t x = *s;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *s = x;
        return x;
}

static json_t *row_new(uint64_t a, uint64_t b, int status, uint64_t version,
                       int64_t ms) {
        char ts[40];
        cdc_time_format_us(ts, sizeof(ts), ms * 1000);
        return json_pack("{s:I,s:I,s:I,s:i,s:I,s:s,s:s}", "id",
                         (json_int_t)((a << 20) | b), "follower_id",
                         (json_int_t)a, "followee_id", (json_int_t)b, "status",
                         status, "version", (json_int_t)version, "created_at",
                         ts, "updated_at", ts);
}

static msg_t *input_build(uint64_t n) {
        msg_t *msgs = calloc(n, sizeof(*msgs));
        uint64_t s  = 88172645463325252ull, i;
        int64_t ms  = INT64_C(1767323045678); /* 2026-01-02T03:04:05.678Z */

        if (!msgs)
                return NULL;
        for (i = 0; i < n; i++) {
                uint64_t a      = 1 + rnd_next(&s) % 200000;
                uint64_t b      = 1 + rnd_next(&s) % 200000;
                int r           = (int)(rnd_next(&s) % 100);
                cdc_op_t op     = r < 80   ? CDC_OP_CREATE
                                  : r < 95 ? CDC_OP_UPDATE
                                           : CDC_OP_DELETE;
                cdc_event_t *ev = cdc_event_new(op);
                cdc_source_t *src;

                if (!ev)
                        return NULL;
                src = &ev->source;
                snprintf(src->name, sizeof(src->name), "followcdc");
                src->server_id = 1;
                snprintf(src->db, sizeof(src->db), "followcdc");
                snprintf(src->table, sizeof(src->table), "follow");
                snprintf(src->gtid, sizeof(src->gtid), "0-1-%" PRIu64, i + 1);
                src->seq = i + 1;
                snprintf(src->file, sizeof(src->file), "mysql-bin.000001");
                src->pos   = 4 + (i + 1) * 100;
                src->ts_ms = ms + (int64_t)i;
                ev->ts_ms  = ms + (int64_t)i;
                if (op != CDC_OP_CREATE)
                        ev->before = row_new(a, b, 1, 1, ms);
                if (op != CDC_OP_DELETE)
                        ev->after = row_new(a, b, op == CDC_OP_CREATE, 2,
                                            ms + (int64_t)i);
                msgs[i].val = cdc_event_encode(ev, &msgs[i].len);
                cdc_event_destroy(ev);
                if (!msgs[i].val)
                        return NULL;
        }
        return msgs;
}

/* The measured part: one record of cdc_batch's parse and add. */
uint64_t instr_run(cdc_apply_t *ap, const cdc_batch_conf_t *bc,
                   const msg_t *msgs, uint64_t n, uint64_t *badp);
uint64_t instr_run(cdc_apply_t *ap, const cdc_batch_conf_t *bc,
                   const msg_t *msgs, uint64_t n, uint64_t *badp) {
        uint64_t i, scripts = 0, bad = 0;
        char es[512];

        for (i = 0; i < n; i++) {
                cdc_event_t *ev = NULL;
                cdc_err_t err;

                es[0] = '\0';
                err   = cdc_precheck_event(msgs[i].val, msgs[i].len,
                                           bc->event_max_bytes,
                                           bc->event_max_columns, es, sizeof(es));
                if (!err)
                        err = cdc_event_parse(msgs[i].val, msgs[i].len, &ev, es,
                                              sizeof(es));
                if (err || !cdc_batch_table_mapped(bc, ev->source.table)) {
                        bad++;
                        cdc_event_destroy(ev);
                        continue;
                }
                err = cdc_apply_add(ap, ev, es, sizeof(es));
                if (err == CDC_ERR__QUEUE_FULL) {
                        scripts += cdc_apply_pending(ap);
                        cdc_apply_discard(ap); /* as if flushed */
                        err = cdc_apply_add(ap, ev, es, sizeof(es));
                }
                if (err)
                        bad++;
                cdc_event_destroy(ev);
        }
        scripts += cdc_apply_pending(ap);
        cdc_apply_discard(ap);
        *badp = bad;
        return scripts;
}

int main(int argc, char **argv) {
        uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 100000;
        uint64_t scripts, bad, i;
        cdc_apply_conf_t ac;
        cdc_batch_conf_t bc;
        cdc_cconf_t cc;
        cdc_apply_t *ap;
        char es[512];
        const char *why;
        msg_t *msgs;

        if (argc > 1 && !strcmp(argv[1], "--requests"))
                return CDC_HAVE_REQUESTS ? 0 : 1;
        if (!n) {
                fprintf(stderr, "usage: instr_consumer [EVENTS]\n");
                return 2;
        }
        cdc_log_set_level(LOG_WARNING);
        if (cdc_cconf_init(&cc, es, sizeof(es)) ||
            (why = cdc_cconf_finalize(&cc)) != NULL) {
                fprintf(stderr, "instr_consumer: conf\n");
                return 2;
        }
        cdc_cconf_apply_conf(&cc, &ac);
        ac.redis_port = 1; /* never connected */
        ap            = cdc_apply_new(&ac, es, sizeof(es));
        if (!ap) {
                fprintf(stderr, "instr_consumer: apply: %s\n", es);
                return 2;
        }
        memset(&bc, 0, sizeof(bc));
        bc.max_msgs          = (size_t)cc.batch_size;
        bc.max_bytes         = (size_t)cc.batch_bytes;
        bc.event_max_bytes   = (size_t)cc.event_max_bytes;
        bc.event_max_columns = (int)cc.event_max_columns;
        bc.follow_table      = cc.follow_table;
        bc.idem_table        = cc.idem_table;
        msgs                 = input_build(n);
        if (!msgs) {
                fprintf(stderr, "instr_consumer: out of memory\n");
                return 2;
        }

        CALLGRIND_START_INSTRUMENTATION;
        scripts = instr_run(ap, &bc, msgs, n, &bad);
        CALLGRIND_STOP_INSTRUMENTATION;
        printf("instr_consumer events=%" PRIu64 " scripts=%" PRIu64
               " bad=%" PRIu64 "\n",
               n, scripts, bad);

        for (i = 0; i < n; i++)
                free(msgs[i].val);
        free(msgs);
        cdc_apply_destroy(ap);
        cdc_cconf_destroy(&cc);
        return bad ? 1 : 0;
}
