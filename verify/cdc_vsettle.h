/**
 * @file cdc_vsettle.h
 * @brief Wait until the pipeline has applied every change up to a MySQL
 *        read's position, so that a difference left afterwards is a
 *        divergence, not a change in flight (docs/verify.md).
 *
 * Three facts, each read after the previous one holds:
 *  1. the producer's checkpoint (the position it resumes from, which only
 *     moves past events Kafka acknowledged) is at or past the read's
 *     position: every change up to the read is in Kafka;
 *  2. the high watermark H of every partition of the consumer's topics,
 *     read now, is past all of them;
 *  3. the consumer group's committed offset of every partition is >= H
 *     (the consumer commits only what Redis acknowledged).
 * Nothing is joined or committed: the group's offsets are only read.
 */
#ifndef CDC_VSETTLE_H
#define CDC_VSETTLE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include "cdc_err.h"
#include "cdc_vconf.h"
#include "cdc_vdiff.h"

typedef struct cdc_vsettle_s cdc_vsettle_t;

cdc_vsettle_t *cdc_vsettle_new(const cdc_vconf_t *vc, char *errstr,
                               size_t errstr_size);
void cdc_vsettle_destroy(cdc_vsettle_t *st);

/**
 * @brief Wait until the pipeline applied up to \p snap.
 * @returns CDC_ERR_NO_ERROR; CDC_ERR__TIMED_OUT (the reason, e.g. which
 *          partition lags, in errstr); CDC_ERR__STATE when \p run
 *          dropped to 0.
 */
cdc_err_t cdc_vsettle_wait(cdc_vsettle_t *st, const cdc_vsnap_t *snap,
                           int64_t timeout_ms, volatile sig_atomic_t *run,
                           char *errstr, size_t errstr_size);

#endif
