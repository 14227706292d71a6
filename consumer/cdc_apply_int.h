/**
 * @file cdc_apply_int.h
 * @brief Internal view of the applier's queue. Exposed for regress tests
 *        only (tests/unit/test_apply.c checks the event -> script mapping
 *        without a Redis server).
 */
#ifndef CDC_APPLY_INT_H
#define CDC_APPLY_INT_H

#include "cdc_apply.h"
#include "cdc_scripts.h"

/**
 * @brief The \p i-th queued script: its id, and its KEYS followed by its
 *        ARGV (without EVALSHA, sha and numkeys).
 * @returns the number of entries in \p argvp / \p lenp (borrowed, valid
 *          until the queue changes), or 0 if \p i is out of range.
 */
int cdc_apply_queued(const cdc_apply_t *ap, size_t i, cdc_script_id_t *idp,
                     const char *const **argvp, const size_t **lenp);

#endif
