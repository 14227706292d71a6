/*
 * Captured binlog events of tests/data/binlog/<case>/ (see capture.sh
 * there): NN-table_map.bin / NN-rows.bin whole events, "crc" (1 if they
 * end with a CRC32) and an optional "tz" (the source.tz to decode in),
 * shared by the decoder's unit tests.
 */
#ifndef BINLOG_CAPTURE_H
#define BINLOG_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#define CAPTURE_DIR CDC_SOURCE_DIR "/tests/data/binlog"

typedef struct cap_ev_s {
        uint8_t *b;
        size_t len;
        int is_map;
} cap_ev_t;

typedef struct capcase_s {
        cap_ev_t ev[32];
        int n;
        int crc;
        char tz[64];
} capcase_t;

/** Every captured case, in a fixed order. */
extern const char *const capture_cases[];
extern const size_t capture_case_cnt;

/** @returns the file's bytes (NUL-terminated, malloc()ed) or NULL. */
uint8_t *capture_slurp(const char *path, size_t *lenp);

/** Loads case \p name (fails the test if it is missing). */
void capture_load(const char *name, capcase_t *c);

void capture_free(capcase_t *c);

/** Body and body length of event \p i (header and CRC stripped). */
const uint8_t *capture_body(const capcase_t *c, int i, size_t *lenp);

/**
 * Bytes from a hex string (whitespace ignored), malloc()ed to exactly
 * their length so ASan sees any over-read. Fails the test on bad hex.
 */
uint8_t *capture_hex(const char *hex, size_t *lenp);

#endif
