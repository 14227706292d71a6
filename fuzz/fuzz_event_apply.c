/**
 * @file fuzz_event_apply.c
 * @brief libFuzzer harness: one Kafka message value through the consumer's
 *        path up to the Redis pipeline (no server): the caps checked
 *        before parsing, the event parser and the mapper to scripts.
 *
 * Invariants checked besides the sanitizers:
 *  - every refusal comes with a reason;
 *  - an accepted event re-encoded (cdc_event_encode) parses again and
 *    maps to the same number of scripts with the same result;
 *  - the mapper never queues more than 4 scripts for one event;
 *  - the parser's fast path (cdc_event_parse_fast) accepts only what the
 *    full path (jansson + validate) accepts, and makes the same event of
 *    it (both encoded again must be byte for byte equal).
 * Seeds: fuzz/corpus/event_apply/ (schemas/events/examples and
 * tests/data/apply inputs).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdc_apply.h"
#include "cdc_event.h"
#include "cdc_event_int.h"
#include "cdc_log.h"
#include "cdc_precheck.h"

/* Caps as configured by default, smaller so the fuzzer reaches them. */
#define FZ_MAX_BYTES   (256 * 1024)
#define FZ_MAX_COLUMNS 64

static cdc_apply_t *fz_ap;

static cdc_apply_t *fz_applier(void) {
        cdc_apply_conf_t conf;
        char es[256];

        memset(&conf, 0, sizeof(conf));
        conf.redis_port  = 1; /* never connected */
        conf.idem_ttl_ms = 7LL * 86400 * 1000;
        conf.max_batch   = 64;
        return cdc_apply_new(&conf, es, sizeof(es));
}

/* Map \p ev; @returns the error and the number of scripts it queued. */
static cdc_err_t fz_map(const cdc_event_t *ev, size_t *np) {
        char es[512];
        size_t before;
        cdc_err_t err;

        if (cdc_apply_pending(fz_ap) + 4 > 64)
                cdc_apply_discard(fz_ap);
        before = cdc_apply_pending(fz_ap);
        es[0]  = '\0';
        err    = cdc_apply_add(fz_ap, ev, es, sizeof(es));
        if (err == CDC_ERR__BAD_EVENT && !es[0])
                abort(); /* a refusal without a reason */
        if (err && err != CDC_ERR__BAD_EVENT)
                abort(); /* the queue had room: nothing else is legal */
        *np = cdc_apply_pending(fz_ap) - before;
        if (*np > 4)
                abort();
        return err;
}

/* The fast path never accepts what the full path refuses, and never makes
 * another event of it. */
static void fz_fast_vs_full(const char *buf, size_t size) {
        cdc_event_t *fast = NULL, *full = NULL;
        char es[512], *a = NULL, *b = NULL;
        size_t alen = 0, blen = 0;

        if (!cdc_event_parse_fast(buf, size, &fast)) {
                if (fast)
                        abort();
                return;
        }
        if (cdc_event_parse_full(buf, size, &full, es, sizeof(es))) {
                fprintf(stderr,
                        "fast path accepted what the full path "
                        "refuses (%s):\n%.*s\n",
                        es, (int)size, buf);
                abort();
        }
        a = cdc_event_encode(fast, &alen);
        b = cdc_event_encode(full, &blen);
        if (a && b &&
            (alen != blen || memcmp(a, b, alen) ||
             fast->source.server_id != full->source.server_id ||
             fast->source.snapshot != full->source.snapshot)) {
                fprintf(stderr, "fast and full paths differ:\n%.*s\n%.*s\n",
                        (int)alen, a, (int)blen, b);
                abort();
        }
        free(a);
        free(b);
        cdc_event_destroy(fast);
        cdc_event_destroy(full);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const char *buf = (const char *)data;
        cdc_event_t *ev = NULL, *ev2 = NULL;
        char es[512], *text          = NULL;
        size_t tlen = 0, n1 = 0, n2 = 0;
        cdc_err_t err, err2;

        if (!fz_ap) {
                cdc_log_set_level(LOG_CRIT);
                fz_ap = fz_applier();
                if (!fz_ap)
                        abort();
        }
        es[0] = '\0';
        if (cdc_precheck_event(buf, size, FZ_MAX_BYTES, FZ_MAX_COLUMNS, es,
                               sizeof(es))) {
                if (!es[0])
                        abort();
                return 0;
        }
        fz_fast_vs_full(buf, size);
        es[0] = '\0';
        err   = cdc_event_parse(buf, size, &ev, es, sizeof(es));
        if (err) {
                if (ev || (err == CDC_ERR__BAD_EVENT && !es[0]))
                        abort();
                return 0;
        }
        err = fz_map(ev, &n1);

        /* round trip: what was accepted once is accepted again, alike */
        text = cdc_event_encode(ev, &tlen);
        if (!text)
                goto out;
        if (cdc_event_parse(text, tlen, &ev2, es, sizeof(es))) {
                fprintf(stderr, "re-encoded event refused: %s\n%.*s\n", es,
                        (int)tlen, text);
                abort();
        }
        err2 = fz_map(ev2, &n2);
        if (err2 != err || n2 != n1) {
                fprintf(stderr, "mapping differs after round trip\n");
                abort();
        }
out:
        free(text);
        cdc_event_destroy(ev);
        cdc_event_destroy(ev2);
        return 0;
}
