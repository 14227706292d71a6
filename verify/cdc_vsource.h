/**
 * @file cdc_vsource.h
 * @brief followcdc-verify's MySQL side: consistent reads of the follow
 *        and idempotency tables with the binlog position each read sees,
 *        rows turned into JSON exactly as the producer's snapshot does
 *        (cdc_snapshot_value(): same types, same time zone handling).
 *
 * Every read is `START TRANSACTION WITH CONSISTENT SNAPSHOT` and
 * `SHOW STATUS LIKE 'binlog_snapshot_%'` (MariaDB: the position of the
 * read view, taken atomically with it), so a difference can be judged
 * against the exact position the rows were read at.
 */
#ifndef CDC_VSOURCE_H
#define CDC_VSOURCE_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "cdc_err.h"
#include "cdc_pos.h"
#include "cdc_vconf.h"
#include "cdc_vdiff.h"

typedef struct cdc_vsource_s cdc_vsource_t;

/** Sides of the follow table a read selects by. */
#define CDC_VSOURCE_BY_FOLLOWER 0
#define CDC_VSOURCE_BY_FOLLOWEE 1

/** A row (borrowed: take a reference to keep it). */
typedef cdc_err_t(cdc_vsource_row_cb_t)(void *opaque, int side, json_t *row);

cdc_vsource_t *cdc_vsource_new(const cdc_vconf_t *vc, char *errstr,
                               size_t errstr_size);
void cdc_vsource_destroy(cdc_vsource_t *vs);

/** @brief Open a consistent read; \p snap and \p pos say where it is. */
cdc_err_t cdc_vsource_begin(cdc_vsource_t *vs, cdc_vsnap_t *snap,
                            cdc_pos_t *pos);

/** @brief End the read (COMMIT). */
cdc_err_t cdc_vsource_end(cdc_vsource_t *vs);

/**
 * @brief The next chunk of user ids from \p lo: [lo, *hip) holds at most
 *        about chunk rows on each side. *boundedp 0: no upper bound (the
 *        rest). *emptyp 1: no user >= lo at all.
 */
cdc_err_t cdc_vsource_next_range(cdc_vsource_t *vs, uint64_t lo, uint64_t *hip,
                                 int *boundedp, int *emptyp);

/** @brief Rows whose \p side column is in [lo, hi) (hi unused when
 *         !bounded). */
cdc_err_t cdc_vsource_follow_range(cdc_vsource_t *vs, int side, uint64_t lo,
                                   uint64_t hi, int bounded,
                                   cdc_vsource_row_cb_t *cb, void *opaque);

/** @brief Rows whose \p side column is one of \p ids. */
cdc_err_t cdc_vsource_follow_users(cdc_vsource_t *vs, int side,
                                   const uint64_t *ids, size_t n,
                                   cdc_vsource_row_cb_t *cb, void *opaque);

/**
 * @brief Up to \p n rows of the idempotency table after request id
 *        \p after (NULL: from the first), in request id order.
 * @param rowsp set to the number of rows read (fewer than \p n: the end).
 */
cdc_err_t cdc_vsource_idem_chunk(cdc_vsource_t *vs, const char *after,
                                 size_t after_len, size_t n,
                                 cdc_vsource_row_cb_t *cb, void *opaque,
                                 size_t *rowsp);

/** @brief \p n random user ids having a row (follower or followee). */
cdc_err_t cdc_vsource_sample(cdc_vsource_t *vs, size_t n, uint64_t seed,
                             uint64_t *out, size_t *np);

/** @returns the last error text. */
/**
 * @brief Which of \p ids (sorted ascending, distinct) appear in the
 *        follow table, on either side, whatever the row's status:
 *        present[i] = 1 for those, 0 for the others. Outside any read
 *        snapshot (autocommit).
 */
cdc_err_t cdc_vsource_present_users(cdc_vsource_t *vs, const uint64_t *ids,
                                    size_t n, unsigned char *present);

/**
 * @brief Which of the request ids \p rids (lengths \p lens) have a row
 *        in the idempotency table: present[i] = 1 for those. In the
 *        current read snapshot if one is open (cdc_vsource_begin()).
 */
cdc_err_t cdc_vsource_present_rids(cdc_vsource_t *vs, const char *const *rids,
                                   const size_t *lens, size_t n,
                                   unsigned char *present);

/**
 * @brief File a repair request: INSERT INTO \p table (kind, payload), in
 *        its own autocommitted statement (outside any read snapshot).
 *        \p table is [A-Za-z0-9_]+, \p kind and \p payload plain
 *        identifiers, digits and commas (checked here: nothing is quoted
 *        into the SQL that could break out).
 */
cdc_err_t cdc_vsource_signal(cdc_vsource_t *vs, const char *table,
                             const char *kind, const char *payload);

const char *cdc_vsource_errstr(const cdc_vsource_t *vs);

#endif
