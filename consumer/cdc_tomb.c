/**
 * @file cdc_tomb.c
 * @brief A tombstone's delete header -> the delete event (see cdc_tomb.h).
 */
#include "cdc_tomb.h"

#include <stdio.h>
#include <string.h>

#include "cdc_precheck.h"

cdc_err_t cdc_tomb_parse(const rd_kafka_headers_t *hdrs, size_t max_bytes,
                         int max_columns, cdc_event_t **evp, int *overp,
                         char *errstr, size_t errstr_size) {
        const void *val = NULL;
        size_t size = 0, n = 0, idx;
        char why[512];
        cdc_err_t err;

        *evp   = NULL;
        *overp = 0;
        if (!hdrs)
                return CDC_ERR_NO_ERROR;
        /* one header of that name, no more: two would leave the choice
         * to whoever wrote them */
        for (idx = 0;; idx++) {
                const void *v;
                size_t sz;
                if (rd_kafka_header_get((rd_kafka_headers_t *)hdrs, idx,
                                        CDC_EVENT_TOMBSTONE_HEADER, &v, &sz))
                        break;
                if (!n++) {
                        val  = v;
                        size = sz;
                }
        }
        if (!n)
                return CDC_ERR_NO_ERROR;
        if (n > 1) {
                snprintf(errstr, errstr_size,
                         "tombstone has %zu %s headers (expected one)", n,
                         CDC_EVENT_TOMBSTONE_HEADER);
                return CDC_ERR__BAD_EVENT;
        }
        if (!val || !size) {
                snprintf(errstr, errstr_size, "tombstone header %s is empty",
                         CDC_EVENT_TOMBSTONE_HEADER);
                return CDC_ERR__BAD_EVENT;
        }
        why[0] = '\0';
        err    = cdc_precheck_event(val, size, max_bytes, max_columns, why,
                                    sizeof(why));
        if (err) {
                *overp = 1;
                snprintf(errstr, errstr_size, "tombstone header %s: %s",
                         CDC_EVENT_TOMBSTONE_HEADER,
                         why[0] ? why : cdc_err2str(err));
                return CDC_ERR__BAD_EVENT;
        }
        err = cdc_event_parse(val, size, evp, why, sizeof(why));
        if (err) {
                snprintf(errstr, errstr_size, "tombstone header %s: %s",
                         CDC_EVENT_TOMBSTONE_HEADER,
                         why[0] ? why : cdc_err2str(err));
                return err;
        }
        if ((*evp)->op != CDC_OP_DELETE) {
                snprintf(errstr, errstr_size,
                         "tombstone header %s: op is %c, not d",
                         CDC_EVENT_TOMBSTONE_HEADER, (char)(*evp)->op);
                cdc_event_destroy(*evp);
                *evp = NULL;
                return CDC_ERR__BAD_EVENT;
        }
        return CDC_ERR_NO_ERROR;
}
