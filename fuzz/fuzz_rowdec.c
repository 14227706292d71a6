/*
 * libFuzzer harness: a TABLE_MAP and a rows event decoded into row images
 * (cdc_tablemap, cdc_rowdec, cdc_value, cdc_mysqljson).
 *
 * Input layout (also the layout of the hex reproducers of issue 8):
 *   byte 0   time zone: index into harness_zones (mod its size)
 *   byte 1   rows event type: index into harness_types (mod 6)
 *   byte 2   bit 7: rows post-header length = low nibble (else 8 for v1,
 *            10 for v2); bit 6: TABLE_MAP post-header length 6 (else 8)
 *   byte 3   length N of the TABLE_MAP body
 *   byte 4   bit 0: fill what the map lacks with cdc_tablemap_set_col(),
 *            as information_schema would
 *   5..5+N   TABLE_MAP body; the rest is the rows event body
 * Both bodies are copied to buffers of exactly their size (ASan).
 *
 * Checks beyond the sanitizers: the decoding of one rows event ends (each
 * row change consumes bytes), every temporal value is null or an instant
 * cdc_time_parse_ms() reads back, every row serializes; and the flat
 * decoder (cdc_rowdec_row_next_flat(), what the stream uses) agrees with
 * the JSON one on every row: the same outcome, cursor, JSON and envelope.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "cdc_event.h"
#include "cdc_frame.h"
#include "cdc_rowdec.h"
#include "cdc_tablemap.h"
#include "cdc_time.h"

static const char *const harness_zones[] = { "America/New_York",
                                             "UTC",
                                             "+14:00",
                                             "-12:00",
                                             "Europe/Paris",
                                             "Asia/Kolkata",
                                             "Etc/GMT+12",
                                             "Australia/Lord_Howe",
                                             "+08:00" };
#define NZONES (sizeof(harness_zones) / sizeof(harness_zones[0]))

static const uint8_t harness_types[] = {
        CDC_EV_WRITE_ROWS_V1, CDC_EV_UPDATE_ROWS_V1, CDC_EV_DELETE_ROWS_V1,
        CDC_EV_WRITE_ROWS_V2, CDC_EV_UPDATE_ROWS_V2, CDC_EV_DELETE_ROWS_V2
};

static cdc_tz_t *zones[NZONES];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        char errstr[256];
        size_t i;
        (void)argc;
        (void)argv;
        for (i = 0; i < NZONES; i++) {
                zones[i] = cdc_tz_new(harness_zones[i], errstr, sizeof(errstr));
                if (!zones[i]) {
                        fprintf(stderr, "fuzz_rowdec: %s\n", errstr);
                        abort();
                }
        }
        return 0;
}

static int is_instant_type(uint8_t type) {
        return type == CDC_T_DATETIME || type == CDC_T_DATETIME2 ||
               type == CDC_T_TIMESTAMP || type == CDC_T_TIMESTAMP2;
}

/* Every value of an instant column is null or a time that reads back. */
static void check_row(const cdc_tablemap_t *t, const json_t *row) {
        uint32_t i;
        char *s;
        for (i = 0; row && i < t->ncols; i++) {
                const json_t *v;
                int64_t ms;
                char name[16];
                if (!is_instant_type(t->cols[i].type))
                        continue;
                snprintf(name, sizeof(name), "@%u", i + 1);
                v = json_object_get(row,
                                    t->cols[i].name ? t->cols[i].name : name);
                if (!v || json_is_null(v))
                        continue;
                if (!json_is_string(v) ||
                    cdc_time_parse_ms(json_string_value(v), &ms)) {
                        fprintf(stderr, "column %u: not an instant: %s\n",
                                i + 1,
                                json_is_string(v) ? json_string_value(v)
                                                  : "(not a string)");
                        abort();
                }
        }
        s = row ? json_dumps(row, JSON_COMPACT) : NULL;
        if (row && !s)
                abort();
        free(s);
}

/* What information_schema would add to a map without names/labels. */
static void complete(cdc_tablemap_t *t) {
        static const char *const labels[] = { "a", "b", "c d" };
        uint32_t i;
        for (i = 0; i < t->ncols; i++) {
                char name[16];
                snprintf(name, sizeof(name), "c%u", i);
                cdc_tablemap_set_col(t, i, t->has_names ? NULL : name,
                                     (int)(i & 1), (int)(i & 2),
                                     t->has_labels ? NULL : labels, 3);
        }
}

/* The flat image \p f against the JSON object \p j of the same row. */
static void check_flat(const json_t *j, const cdc_row_t *f) {
        cdc_event_t e1, e2;
        char *s1, *s2;
        json_t *jf;

        if (!f || !j) {
                if (f || j)
                        abort();
                return;
        }
        jf = cdc_row_json(f);
        if (!jf || !json_equal(j, jf))
                abort();
        json_decref(jf);
        memset(&e1, 0, sizeof(e1));
        memset(&e2, 0, sizeof(e2));
        e1.op        = CDC_OP_CREATE;
        e2.op        = CDC_OP_CREATE;
        e1.after     = (json_t *)j;
        e2.after_row = f;
        s1           = cdc_event_encode(&e1, NULL);
        s2           = cdc_event_encode(&e2, NULL);
        if (!s1 || !s2 || strcmp(s1, s2))
                abort();
        free(s1);
        free(s2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        cdc_tablemap_t *t = NULL;
        cdc_rowdec_rows_t r;
        char errstr[512];
        uint8_t *tm = NULL, *rows = NULL, type;
        size_t tml, rl;
        unsigned rphl, tphl;
        const cdc_tz_t *tz;
        cdc_row_t fb = { 0 }, fa = { 0 };
        int n = 0;

        if (size < 5 || (size_t)data[3] > size - 5)
                return 0;
        tz   = zones[data[0] % NZONES];
        type = harness_types[data[1] % 6];
        rphl = data[2] & 0x80 ? (unsigned)(data[2] & 0x0f)
                              : (type >= CDC_EV_WRITE_ROWS_V2 ? 10 : 8);
        tphl = data[2] & 0x40 ? 6 : 8;
        tml  = data[3];
        rl   = size - 5 - tml;
        tm   = malloc(tml ? tml : 1);
        rows = malloc(rl ? rl : 1);
        if (!tm || !rows)
                abort();
        memcpy(tm, data + 5, tml);
        memcpy(rows, data + 5 + tml, rl);
        if (cdc_tablemap_parse(tm, tml, tphl, &t, errstr, sizeof(errstr)))
                goto out;
        if (data[4] & 1)
                complete(t);
        if (cdc_rowdec_rows(type, rows, rl, rphl, &r, errstr, sizeof(errstr)))
                goto out;
        while (cdc_rowdec_rows_more(&r)) {
                json_t *b = NULL, *a = NULL;
                const uint8_t *before = r.p;
                cdc_rowdec_rows_t r2  = r;
                char e2[512];
                int has = 0;
                cdc_err_t err, err2;
                err  = cdc_rowdec_row_next(t, &r, tz, &b, &a, errstr,
                                           sizeof(errstr));
                err2 = cdc_rowdec_row_next_flat(t, &r2, tz, &fb, &fa, &has, e2,
                                                sizeof(e2));
                if (err2 != CDC_ERR__STATE) {
                        if (err != err2 || r.p != r2.p ||
                            (err && strcmp(errstr, e2)))
                                abort();
                        if (!err) {
                                check_flat(b, has & 1 ? &fb : NULL);
                                check_flat(a, has & 2 ? &fa : NULL);
                        }
                } else if (cdc_tablemap_flat(t)) {
                        abort();
                }
                if (err)
                        break;
                if (r.p <= before) /* a row that consumed nothing */
                        abort();
                check_row(t, b);
                check_row(t, a);
                json_decref(b);
                json_decref(a);
                n++;
        }
        (void)n;
out:
        cdc_row_free(&fb);
        cdc_row_free(&fa);
        cdc_tablemap_destroy(t);
        free(tm);
        free(rows);
        return 0;
}
