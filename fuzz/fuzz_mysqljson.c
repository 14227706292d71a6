/*
 * libFuzzer harness: MySQL 8 binary JSON to text (cdc_mysqljson).
 *
 * Input: byte 0 flags (bit 0: the text must be JSON, checked with
 * jansson), then the binary JSON value (as a JSON column's bytes, type
 * byte first), copied to a buffer of exactly its size (ASan).
 *
 * Checks beyond the sanitizers: a decoded text that is valid UTF-8 parses
 * as JSON (big integers read as reals: jansson has int64 only; "\\u0000"
 * allowed), and its
 * length stays within the decoder's budget.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "cdc_mysqljson.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        uint8_t *doc;
        char *txt = NULL;
        size_t tl = 0, len;

        if (size < 1)
                return 0;
        len = size - 1;
        doc = malloc(len ? len : 1);
        if (!doc)
                abort();
        memcpy(doc, data + 1, len);
        if (cdc_mysqljson_text(doc, len, &txt, &tl) == 0) {
                if (!txt || strlen(txt) != tl || tl > 16 * len + 1024)
                        abort();
                if (data[0] & 1) {
                        json_error_t jerr;
                        json_t *utf8 = json_stringn(txt, tl);
                        json_t *j    = json_loadb(txt, tl,
                                                  JSON_DECODE_ANY |
                                                          JSON_DECODE_INT_AS_REAL |
                                                          JSON_ALLOW_NUL,
                                                  &jerr);
                        /* UTF-8, yet not JSON (jansson refuses a NUL in
                         * an object key, which JSON allows) */
                        if (utf8 && !j && !strstr(jerr.text, "NUL byte")) {
                                fprintf(stderr, "not JSON: %s: %.200s\n",
                                        jerr.text, txt);
                                abort();
                        }
                        json_decref(j);
                        json_decref(utf8);
                }
                free(txt);
        }
        free(doc);
        return 0;
}
