/**
 * @file cdc_redlq.h
 * @brief `followcdc-consumer --reprocess-dlq`: read the dead-letter topic
 *        from its beginning to its end (the high watermarks at start),
 *        re-apply every letter that now parses and maps (after the cause
 *        was fixed: a configuration change, a consumer upgrade), and
 *        report each one that still fails, then exit. Applying a letter
 *        again is harmless (every script is version-checked), so the
 *        command can run any number of times; it commits no offsets and
 *        writes no letters.
 *
 * Output (stdout): one line per letter that still fails,
 *   `FAIL <topic>/<partition>@<offset> (letter <dlq partition>@<offset>):
 *   <why now> (dead-lettered for: <reason>)`
 * then `REPROCESS letters=N applied=A failed=F skipped=S` (skipped:
 * tombstones). Exit status: 0 every letter applied, 1 some still fail,
 * 2 configuration, 3 could not finish (Kafka or Redis unreachable).
 */
#ifndef CDC_REDLQ_H
#define CDC_REDLQ_H

#include <signal.h>
#include <stdio.h>
#include "cdc_cconf.h"

/** @returns the exit status (above). @locality main thread */
int cdc_redlq_run(const cdc_cconf_t *cc, volatile sig_atomic_t *run, FILE *out);

#endif
