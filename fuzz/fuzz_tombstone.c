/**
 * @file fuzz_tombstone.c
 * @brief libFuzzer harness: the headers of a tombstone through the
 *        consumer's path up to the Redis pipeline (no server):
 *        cdc_tomb_parse, then the mapper.
 *
 * Input: headers one after another, each `sel len_lo len_hi value...`;
 * sel & 3 picks the name: followcdc.delete (0 and 3), another header
 * (1), a near miss of the name (2). At most 8 headers.
 *
 * Invariants checked besides the sanitizers:
 *  - every refusal comes with a reason that names the header;
 *  - what is accepted is a delete (op d), and only with exactly one
 *    followcdc.delete header;
 *  - the mapper never queues more than 4 scripts and never refuses
 *    without a reason.
 * Seeds: fuzz/corpus/tombstone/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdc_apply.h"
#include "cdc_event.h"
#include "cdc_log.h"
#include "cdc_tomb.h"

#define FZ_MAX_BYTES   (256 * 1024)
#define FZ_MAX_COLUMNS 64

static cdc_apply_t *fz_ap;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const char *const names[4] = { CDC_EVENT_TOMBSTONE_HEADER,
                                              "traceparent", "followcdc.delet",
                                              CDC_EVENT_TOMBSTONE_HEADER };
        rd_kafka_headers_t *h;
        cdc_event_t *ev = NULL;
        size_t off      = 0, before;
        char es[512];
        int n = 0, ours = 0, over = 0;
        cdc_err_t err;

        if (!fz_ap) {
                cdc_apply_conf_t conf;
                cdc_log_set_level(LOG_CRIT);
                memset(&conf, 0, sizeof(conf));
                conf.redis_port  = 1; /* never connected */
                conf.idem_ttl_ms = 7LL * 86400 * 1000;
                conf.max_batch   = 64;
                fz_ap            = cdc_apply_new(&conf, es, sizeof(es));
                if (!fz_ap)
                        abort();
        }
        h = rd_kafka_headers_new(8);
        while (off + 3 <= size && n < 8) {
                int sel    = data[off] & 3;
                size_t len = (size_t)data[off + 1] | (size_t)data[off + 2] << 8;
                off += 3;
                if (len > size - off)
                        len = size - off;
                rd_kafka_header_add(h, names[sel], -1, data + off,
                                    (ssize_t)len);
                off += len;
                n++;
                ours += sel == 0 || sel == 3;
        }
        es[0] = '\0';
        err   = cdc_tomb_parse(n ? h : NULL, FZ_MAX_BYTES, FZ_MAX_COLUMNS, &ev,
                             &over, es, sizeof(es));
        rd_kafka_headers_destroy(h);
        if (err) {
                if (ev || (err == CDC_ERR__BAD_EVENT &&
                           !strstr(es, CDC_EVENT_TOMBSTONE_HEADER)))
                        abort();
                return 0;
        }
        if (!ev) {
                if (ours)
                        abort(); /* our header accepted, nothing to apply */
                return 0;
        }
        if (ev->op != CDC_OP_DELETE || ours != 1)
                abort();
        if (cdc_apply_pending(fz_ap) + 4 > 64)
                cdc_apply_discard(fz_ap);
        before = cdc_apply_pending(fz_ap);
        es[0]  = '\0';
        err    = cdc_apply_add(fz_ap, ev, es, sizeof(es));
        if ((err == CDC_ERR__BAD_EVENT && !es[0]) ||
            (err && err != CDC_ERR__BAD_EVENT) ||
            cdc_apply_pending(fz_ap) - before > 4)
                abort();
        cdc_event_destroy(ev);
        return 0;
}
