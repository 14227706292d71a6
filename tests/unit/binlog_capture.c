/* Captured binlog events for the decoder's unit tests (binlog_capture.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "binlog_capture.h"

const char *const capture_cases[] = { "ints",    "ints_minimal", "numeric",
                                      "strings", "temporal",     "follow" };
const size_t capture_case_cnt =
        sizeof(capture_cases) / sizeof(capture_cases[0]);

uint8_t *capture_slurp(const char *path, size_t *lenp) {
        FILE *f = fopen(path, "rb");
        uint8_t *b;
        long n;
        if (!f)
                return NULL;
        fseek(f, 0, SEEK_END);
        n = ftell(f);
        fseek(f, 0, SEEK_SET);
        b = malloc((size_t)n + 1);
        assert_non_null(b);
        assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
        fclose(f);
        b[n]  = 0;
        *lenp = (size_t)n;
        return b;
}

void capture_load(const char *name, capcase_t *c) {
        char path[512];
        size_t len;
        uint8_t *b;
        int i;

        memset(c, 0, sizeof(*c));
        snprintf(path, sizeof(path), "%s/%s/crc", CAPTURE_DIR, name);
        b = capture_slurp(path, &len);
        assert_non_null(b);
        c->crc = b[0] == '1';
        free(b);
        snprintf(path, sizeof(path), "%s/%s/tz", CAPTURE_DIR, name);
        b = capture_slurp(path, &len);
        snprintf(c->tz, sizeof(c->tz), "%s", "UTC");
        if (b) {
                snprintf(c->tz, sizeof(c->tz), "%.*s",
                         (int)strcspn((char *)b, "\n"), (char *)b);
                free(b);
        }
        for (i = 0; i < 32; i++) {
                snprintf(path, sizeof(path), "%s/%s/%02d-table_map.bin",
                         CAPTURE_DIR, name, i);
                b = capture_slurp(path, &len);
                if (b) {
                        c->ev[c->n].b        = b;
                        c->ev[c->n].len      = len;
                        c->ev[c->n++].is_map = 1;
                        continue;
                }
                snprintf(path, sizeof(path), "%s/%s/%02d-rows.bin", CAPTURE_DIR,
                         name, i);
                b = capture_slurp(path, &len);
                if (b) {
                        c->ev[c->n].b     = b;
                        c->ev[c->n++].len = len;
                }
        }
        assert_true(c->n >= 2);
}

void capture_free(capcase_t *c) {
        int i;
        for (i = 0; i < c->n; i++)
                free(c->ev[i].b);
}

const uint8_t *capture_body(const capcase_t *c, int i, size_t *lenp) {
        *lenp = c->ev[i].len - 19 - (c->crc ? 4 : 0);
        return c->ev[i].b + 19;
}

static int hexval(char ch) {
        if (ch >= '0' && ch <= '9')
                return ch - '0';
        if (ch >= 'a' && ch <= 'f')
                return ch - 'a' + 10;
        if (ch >= 'A' && ch <= 'F')
                return ch - 'A' + 10;
        return -1;
}

uint8_t *capture_hex(const char *hex, size_t *lenp) {
        size_t n = 0, i;
        uint8_t *b;
        int hi = -1;

        for (i = 0; hex[i]; i++)
                if (hexval(hex[i]) >= 0)
                        n++;
        assert_true(n % 2 == 0);
        b = malloc(n / 2 ? n / 2 : 1);
        assert_non_null(b);
        for (i = 0, n = 0; hex[i]; i++) {
                int v = hexval(hex[i]);
                if (v < 0) {
                        assert_true(hex[i] == ' ' || hex[i] == '\n');
                        continue;
                }
                if (hi < 0) {
                        hi = v;
                } else {
                        b[n++] = (uint8_t)(hi << 4 | v);
                        hi     = -1;
                }
        }
        *lenp = n;
        return b;
}
