/**
 * @file cdc_verify.h
 * @brief followcdc-verify's engine: reads MySQL in consistent chunks,
 *        derives the Redis state the consumer must hold with the
 *        consumer's own mapping (cdc_apply), reads Redis through the
 *        consumer's routing (cdc_rcluster: one Redis or a Redis Cluster),
 *        compares (cdc_vdiff), waits for the pipeline before a difference
 *        counts (cdc_vsettle), and reports (docs/verify.md).
 */
#ifndef CDC_VERIFY_H
#define CDC_VERIFY_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include "cdc_err.h"
#include "cdc_metrics.h"
#include "cdc_vconf.h"
#include "cdc_vdiff.h"

typedef struct cdc_verify_s cdc_verify_t;

/** Totals of one run (the summary line). */
typedef struct cdc_verify_sum_s {
        uint64_t users;         /**< users compared */
        uint64_t checked_edges; /**< expected members + live idem records */
        uint64_t idem_records;  /**< idempotency rows read */
        uint64_t divergent_users;
        uint64_t missing, extra, wrong_score, wrong_count;
        uint64_t idem_divergent;
        uint64_t skipped_newer;    /**< differences that were newer changes */
        uint64_t rechecked;        /**< users/records re-checked after a wait */
        uint64_t unmappable;       /**< rows the consumer would dead-letter */
        uint64_t redis_only_users; /**< --full: users with keys in Redis
                                    *   and no row in MySQL, checked */
        uint64_t redis_only_records; /**< --full: idempotency records in
                                      *   Redis without a MySQL row */
} cdc_verify_sum_t;

/** Exit statuses of followcdc-verify. */
#define CDC_VERIFY_EQUAL    0
#define CDC_VERIFY_DIFFERS  1
#define CDC_VERIFY_CONFIG   2
#define CDC_VERIFY_UNFINISH 3

/**
 * @param out where differences and the summary go (borrowed)
 * @param m metrics registry (NULL: none)
 */
cdc_verify_t *cdc_verify_new(const cdc_vconf_t *vc, FILE *out, cdc_metrics_t *m,
                             char *errstr, size_t errstr_size);
void cdc_verify_destroy(cdc_verify_t *v);

/**
 * @brief One run of the configured mode.
 * @returns CDC_VERIFY_EQUAL, _DIFFERS, _CONFIG or _UNFINISH (reason
 *          logged).
 */
int cdc_verify_run(cdc_verify_t *v, volatile sig_atomic_t *run,
                   cdc_verify_sum_t *sum);

/** @brief Print the summary line `VERIFY users=...`. */
void cdc_verify_print_summary(FILE *fp, const cdc_verify_sum_t *s);

#endif
