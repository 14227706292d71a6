/**
 * @file cdc_ckpt.h
 * @brief Where the producer saves the position it resumes from: a Kafka
 *        topic (default) or a local file.
 *
 * Record (both stores), one JSON object:
 *     {"source":"<source.name>","position":"gtid=..;file=..;pos=..",
 *      "ts_ms":<when written>}
 * where position is cdc_pos_format()'s text. A record written when a
 * snapshot starts also has "snapshot":"pending" (CDC_CKPT_SNAPSHOT_PENDING):
 * the position is the snapshot's, and its rows may be only partly
 * published. A producer that loads such a record takes the snapshot again
 * and then streams from that position (so changes made between the two
 * snapshots, deletes included, are published); the next ordinary record
 * clears the mark. Older readers ignore the field.
 *
 * Kafka store: records go to partition 0 of checkpoint.topic with key
 * source.name, written through the producer's own idempotent rd_kafka_t
 * (so a record is stored once Kafka acknowledged it; on shutdown the flush
 * covers it). Loading reads the end of partition 0 backwards in growing
 * windows and takes the newest record with our key: the topic needs no
 * compaction (a compacted one with one partition is the cheapest).
 *
 * File store: write a new temp file next to it (a unique name, created
 * with O_EXCL | O_NOFOLLOW: nothing planted at a predictable name is
 * followed or truncated), fsync, rename over, fsync the directory.
 *
 * The handle remembers what the store holds (the position loaded or last
 * saved): cdc_ckpt_update() writes only a position that differs from it,
 * at most once per interval, and a save that failed is not counted as
 * done, so the next call tries again.
 */
#ifndef CDC_CKPT_H
#define CDC_CKPT_H

#include <stddef.h>
#include <stdint.h>
#include "cdc_err.h"
#include "cdc_conf.h"
#include "cdc_pos.h"
#include "cdc_kprod.h"

typedef struct cdc_ckpt_s cdc_ckpt_t;

/** Record flag: a snapshot started at this position and may not have
 *  been published completely. */
#define CDC_CKPT_SNAPSHOT_PENDING 0x1u

/**
 * @brief File store at \p path (copied).
 * @returns the handle or NULL (out of memory).
 */
cdc_ckpt_t *cdc_ckpt_new_file(const char *path, const char *source,
                              char *errstr, size_t errstr_size);

/**
 * @brief Kafka store on \p topic, record key \p source.
 * @param conf its `kafka.*` properties configure the reading consumer
 * @param kp writes go through this producer (borrowed, must outlive)
 * @returns the handle or NULL with the reason in \p errstr.
 * @locality main thread
 */
cdc_ckpt_t *cdc_ckpt_new_kafka(const cdc_conf_t *conf, cdc_kprod_t *kp,
                               const char *topic, const char *source,
                               char *errstr, size_t errstr_size);

/** @brief Free. NULL: no-op. */
void cdc_ckpt_destroy(cdc_ckpt_t *ck);

/**
 * @brief Read the newest saved position.
 * @returns CDC_ERR_NO_ERROR; CDC_ERR__NOENT when there is positively
 *          none; CDC_ERR__TRANSPORT / CDC_ERR__TIMED_OUT when the store
 *          can't be read now (retry: never treat as "none"); CDC_ERR__IO
 *          or CDC_ERR__BAD_EVENT for a damaged record (reason in errstr).
 * @locality main thread
 */
cdc_err_t cdc_ckpt_load(cdc_ckpt_t *ck, cdc_pos_t *pos, int timeout_ms,
                        char *errstr, size_t errstr_size);

/** @returns the flags (CDC_CKPT_*) of the record the last successful
 *           cdc_ckpt_load() returned (0 when none). */
unsigned cdc_ckpt_loaded_flags(const cdc_ckpt_t *ck);

/**
 * @brief Save \p pos as the start of a snapshot
 *        (CDC_CKPT_SNAPSHOT_PENDING) and wait up to \p timeout_ms until
 *        the store holds it (Kafka: flushed and acknowledged): the mark
 *        must be stored before any of the snapshot's rows can be. The
 *        store is then not considered to hold \p pos (the next
 *        cdc_ckpt_update() of it writes an ordinary record).
 * @returns CDC_ERR_NO_ERROR or an error with the reason in errstr.
 * @locality main thread
 */
cdc_err_t cdc_ckpt_save_pending(cdc_ckpt_t *ck, const cdc_pos_t *pos,
                                int timeout_ms, char *errstr,
                                size_t errstr_size);

/**
 * @brief Save \p pos. File: synchronous and durable on return. Kafka:
 *        queued on the producer (durable once acknowledged).
 * @returns CDC_ERR_NO_ERROR or an error with the reason in errstr.
 * @locality main thread
 */
cdc_err_t cdc_ckpt_save(cdc_ckpt_t *ck, const cdc_pos_t *pos, char *errstr,
                        size_t errstr_size);

/**
 * @brief Save \p pos unless the store holds it already; at most once per
 *        \p interval_us between attempts unless \p force. The position
 *        counts as stored only once the save succeeded: after a failure
 *        the next call after the interval tries again, whether or not the
 *        position moved meanwhile.
 * @param wrotep set to 1 when a record was written now, else 0
 * @returns CDC_ERR_NO_ERROR when the store holds \p pos (saved now or
 *          before); CDC_ERR__QUEUE_FULL when the interval since the last
 *          attempt has not passed (nothing done); else the save's error,
 *          reason in \p errstr.
 * @locality main thread
 */
cdc_err_t cdc_ckpt_update(cdc_ckpt_t *ck, const cdc_pos_t *pos, int64_t now_us,
                          int64_t interval_us, int force, int *wrotep,
                          char *errstr, size_t errstr_size);

/** @returns the text of the position the store holds ("" when unknown).
 *           Borrowed. */
const char *cdc_ckpt_saved(const cdc_ckpt_t *ck);

/**
 * @brief Encode a record (exposed for tests).
 * @returns malloc()ed JSON text or NULL.
 */
char *cdc_ckpt_encode(const char *source, const cdc_pos_t *pos, int64_t ts_ms,
                      unsigned flags, size_t *lenp);

/**
 * @brief Decode a record (untrusted input).
 * @returns CDC_ERR_NO_ERROR or CDC_ERR__BAD_EVENT with the reason.
 */
cdc_err_t cdc_ckpt_decode(const char *buf, size_t len, char *source,
                          size_t source_size, cdc_pos_t *pos, unsigned *flagsp,
                          char *errstr, size_t errstr_size);

#endif
