/**
 * @file cdc_pos.h
 * @brief A binlog position the producer can resume from.
 *
 * Both forms are kept: the GTID set (MariaDB `gtid_slave_pos` syntax,
 * "domain-server-seq[,domain-server-seq...]", one entry per domain) is
 * used when the server supports it, file:pos is the fallback. A position
 * always points at a transaction boundary: resuming there replays no
 * partial transaction.
 */
#ifndef CDC_POS_H
#define CDC_POS_H

#include <stddef.h>
#include <stdint.h>

#define CDC_POS_GTID_MAX 1024

typedef struct cdc_pos_s {
        char gtid[CDC_POS_GTID_MAX]; /**< GTID set, "" if unknown */
        char file[256];              /**< binlog file, "" if unknown */
        uint64_t pos;                /**< offset in file */
} cdc_pos_t;

/**
 * @brief Text form "gtid=<set>;file=<name>;pos=<n>" (either part may be
 *        empty). Stable: it is what checkpoints store.
 * @returns the length written, or -1 if it does not fit.
 */
int cdc_pos_format(const cdc_pos_t *p, char *buf, size_t size);

/** @brief Parse the text form. Untrusted input. @returns 0 or -1. */
int cdc_pos_parse(const char *s, size_t len, cdc_pos_t *p);

/** @returns 1 if \p p holds neither a GTID set nor a file. */
int cdc_pos_is_empty(const cdc_pos_t *p);

#endif
