/**
 * @file cdc_pbench.h
 * @brief The producer's benchmark hooks, behind one seam: the engine calls
 *        them at fixed points (a row emitted, a commit, a heartbeat, the
 *        end); with benchmarking off the handle is NULL and every call is
 *        a no-op.
 *
 * bench.decode.only (read, decode and encode; no Kafka, no checkpoint, no
 * lock) changes what the engine connects to, so the engine asks
 * cdc_pbench_decode_only(). bench.stop.at.end stops at the binlog end
 * seen at start, or right after a snapshot (its rows are the figures
 * then), and prints, on stdout, the figures bench/producer.sh and
 * bench/snapshot.sh read:
 *
 *     BENCH rows=<n> seconds=<s> rows_per_s=<n> peak_rss_kb=<n>
 *           cpu_s=<s> main_cpu_s=<s>
 *
 * where seconds run from the first row to the end, once every message
 * is acknowledged (an idle tail before the end is reached on a heartbeat
 * is not counted); cpu_s is the CPU time (user + system) of the whole
 * process since it started, main_cpu_s that of the thread that decodes,
 * encodes and produces (the rest is librdkafka's and the logger's).
 */
#ifndef CDC_PBENCH_H
#define CDC_PBENCH_H

#include <stdint.h>
#include <stdio.h>
#include "cdc_pconf.h"
#include "cdc_pos.h"

typedef struct cdc_pbench_s cdc_pbench_t;

/**
 * @brief The hooks \p pc asks for.
 * @param pbp set to the handle, or NULL when no benchmark is asked for
 * @returns 0, or -1 out of memory.
 */
int cdc_pbench_new(const cdc_pconf_t *pc, cdc_pbench_t **pbp);

/** @brief Free. NULL: no-op. */
void cdc_pbench_destroy(cdc_pbench_t *pb);

/** @returns 1 for bench.decode.only. */
int cdc_pbench_decode_only(const cdc_pbench_t *pb);

/** @returns 1 while bench.stop.at.end still needs the end position. */
int cdc_pbench_wants_end(const cdc_pbench_t *pb);

/** @brief The binlog end to stop at (the server's position at start). */
void cdc_pbench_set_end(cdc_pbench_t *pb, const cdc_pos_t *end);

/** @brief One row emitted by the stream or the snapshot. */
void cdc_pbench_row(cdc_pbench_t *pb);

/** @returns 1 when a snapshot just completed and bench.stop.at.end asks
 *           to stop there (a snapshot bench). */
int cdc_pbench_snapshot_done(cdc_pbench_t *pb);

/** @returns 1 when the commit \p next reached the end: stop. */
int cdc_pbench_commit(cdc_pbench_t *pb, const cdc_pos_t *next);

/** @returns 1 when the heartbeat \p next (between transactions) is at
 *           the end: stop (the idle time since the last commit is not
 *           counted). */
int cdc_pbench_heartbeat(cdc_pbench_t *pb, const cdc_pos_t *next);

/** @brief The producer's back-pressure (cdc_kprod_waits()) for the BENCH
 *         line. NULL \p pb: no-op. */
void cdc_pbench_waits(cdc_pbench_t *pb, int64_t ring_us, int64_t queue_us);

/** @brief Print the BENCH line (bench.stop.at.end only). */
void cdc_pbench_report(const cdc_pbench_t *pb, FILE *out);

/**
 * @brief Whether binlog position \p p is at or past \p end (file:pos;
 *        files of one server sort by their number). Exposed for tests.
 */
int cdc_pbench_pos_reached(const cdc_pos_t *p, const cdc_pos_t *end);

#endif
