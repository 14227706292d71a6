/**
 * @file cdc_pos.h
 * @brief A binlog position the producer can resume from, and the GTID
 *        sets it holds.
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

/* ---- GTID sets (MariaDB) ---- */

/** Most replication domains a GTID set may hold. */
#define CDC_GTIDSET_MAX 64

/** One MariaDB GTID: domain-server-seq. */
typedef struct cdc_gtid_s {
        uint32_t domain;
        uint32_t server;
        uint64_t seq;
} cdc_gtid_t;

/** A GTID set: the last GTID of each domain, at most one per domain. */
typedef struct cdc_gtidset_s {
        cdc_gtid_t g[CDC_GTIDSET_MAX];
        size_t n;
} cdc_gtidset_t;

/**
 * @brief Parse "domain-server-seq[,domain-server-seq...]" (the text of
 *        cdc_pos_t.gtid; "" is the empty set). Every number is decimal
 *        digits that fit (32, 32, 64 bits); a domain may appear once.
 * @returns 0, or -1 (malformed, duplicate domain, more than
 *          CDC_GTIDSET_MAX domains): \p gs is then empty.
 */
int cdc_pos_gtidset_parse(cdc_gtidset_t *gs, const char *s);

/** @returns the entry of \p domain in \p gs, or NULL. Borrowed. */
cdc_gtid_t *cdc_pos_gtidset_find(cdc_gtidset_t *gs, uint32_t domain);

/**
 * @brief Record \p g as its domain's last GTID (with \p only_new, only
 *        when the domain is not in the set yet).
 * @returns 0, or -1 if a new domain does not fit.
 */
int cdc_pos_gtidset_update(cdc_gtidset_t *gs, const cdc_gtid_t *g,
                           int only_new);

/**
 * @brief Text of \p gs in domain order ("" for the empty set).
 * @returns 0, or -1 if it does not fit \p size.
 */
int cdc_pos_gtidset_format(const cdc_gtidset_t *gs, char *buf, size_t size);

#endif
