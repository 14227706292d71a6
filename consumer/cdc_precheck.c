/**
 * @file cdc_precheck.c
 * @brief Size and column caps before parsing (see cdc_precheck.h).
 */
#include "cdc_precheck.h"

#include <stdio.h>
#include <string.h>

/* Deepest nesting tracked for member counts: the envelope is 1, a row
 * image 2. Deeper levels are counted as values only. */
#define PRECHECK_DEPTH 2

cdc_err_t cdc_precheck_event(const char *buf, size_t len, size_t max_bytes,
                             int max_columns, char *errstr,
                             size_t errstr_size) {
        size_t max_values = CDC_PRECHECK_VALUES(max_columns);
        size_t values = 0, members = 0, widest = 0, i;
        int depth = 0, obj2 = 0;

        if (len > max_bytes) {
                snprintf(errstr, errstr_size,
                         "value of %zu bytes exceeds event.max.bytes (%zu)",
                         len, max_bytes);
                return CDC_ERR__BAD_EVENT;
        }
        /* A member takes at least 4 bytes ("":0) plus a separator, and
         * every counted value one byte: a shorter value cannot exceed
         * either cap, so it is not scanned at all. */
        if (max_columns < 0 || len / 4 <= (size_t)max_columns)
                return CDC_ERR_NO_ERROR;

        for (i = 0; i < len; i++) {
                const char *q;
                switch (buf[i]) {
                case '"':
                        /* skip the string: to the next quote that is not
                         * escaped (an odd run of backslashes escapes) */
                        for (;;) {
                                q = memchr(buf + i + 1, '"', len - i - 1);
                                if (!q) {
                                        i = len;
                                        break;
                                }
                                i = (size_t)(q - buf);
                                {
                                        size_t bs = 0;
                                        while (buf[i - 1 - bs] == '\\')
                                                bs++;
                                        if (!(bs & 1))
                                                break;
                                }
                        }
                        break;
                case '{':
                case '[':
                        depth++;
                        if (depth == PRECHECK_DEPTH) {
                                obj2    = buf[i] == '{';
                                members = 0;
                        }
                        break;
                case '}':
                case ']':
                        if (depth == PRECHECK_DEPTH)
                                obj2 = 0;
                        depth--;
                        break;
                case ':':
                        if (depth == PRECHECK_DEPTH && obj2 &&
                            ++members > widest)
                                widest = members;
                        /* fall through */
                case ',':
                        values++;
                        break;
                default:
                        break;
                }
        }
        if (widest > (size_t)max_columns) {
                snprintf(errstr, errstr_size,
                         "row image of %zu columns exceeds "
                         "event.max.columns (%d)",
                         widest, max_columns);
                return CDC_ERR__BAD_EVENT;
        }
        if (values > max_values) {
                snprintf(errstr, errstr_size,
                         "%zu JSON values exceed what two row images of "
                         "event.max.columns (%d) hold (%zu)",
                         values, max_columns, max_values);
                return CDC_ERR__BAD_EVENT;
        }
        return CDC_ERR_NO_ERROR;
}
