/* Helpers shared by the cdc_apply integration programs: building change
 * events, a direct Redis connection for checks, and a canonical,
 * binary-safe listing of every key under a prefix (used to compare Redis
 * with the state computed in C, and Redis with itself). */
#ifndef APPLY_TESTLIB_H
#define APPLY_TESTLIB_H

#include <stddef.h>
#include <stdint.h>
#include <hiredis/hiredis.h>

#include "cdc_apply.h"
#include "cdc_event.h"

/** A growable byte buffer. */
typedef struct tl_buf_s {
        char *p;
        size_t len, cap;
} tl_buf_t;

void tl_buf_add(tl_buf_t *b, const void *data, size_t len);
/** Append one length-prefixed piece "<len>:<bytes>". */
void tl_buf_piece(tl_buf_t *b, const void *data, size_t len);
void tl_buf_free(tl_buf_t *b);

/** Port of the test Redis (H_REDIS_PORT), or exits 77 (skip) if unset. */
int tl_redis_port(void);

/** New direct connection for checks; aborts on failure. */
redisContext *tl_redis_connect(void);

/** Argv command with explicit lengths; returns the reply (never NULL:
 *  aborts if the connection fails). */
redisReply *tl_cmd(redisContext *rc, int argc, const char **argv,
                   const size_t *lens);
/** Same with NUL-terminated text arguments (argv ends at NULL). */
redisReply *tl_cmdv(redisContext *rc, const char *first, ...);

/** A follow event: op, seq (the version), row follower/followee/status,
 *  updated_at in ms. For op d the row goes to before. */
cdc_event_t *tl_ev_follow(cdc_op_t op, uint64_t seq, uint64_t follower,
                          uint64_t followee, int status, int64_t time_ms);

/** An idempotent_log event (request id is binary: explicit length). */
cdc_event_t *tl_ev_idem(cdc_op_t op, uint64_t seq, const char *rid,
                        size_t ridlen, const char *biz, int status,
                        int64_t created_ms);

/** A pair-table event (table "friendship": user_a, user_b, relation,
 *  updated_at in ms). For op d the row goes to before. */
cdc_event_t *tl_ev_pair(cdc_op_t op, uint64_t seq, uint64_t a, uint64_t b,
                        int relation, int64_t time_ms);

/** Set the event's source name (default "followcdc", the home source of
 *  tl_apply_new) and returns \p ev. */
cdc_event_t *tl_ev_source(cdc_event_t *ev, const char *name);

/** An applier on the test Redis with \p prefix (ttl_ms 0: default). */
cdc_apply_t *tl_apply_new(const char *prefix, int max_batch, int64_t ttl_ms);

/** The same for follow.model=pair on table "friendship" (default column
 *  names), home source "followcdc". */
cdc_apply_t *tl_apply_new_pair(const char *prefix, int max_batch);

/** Add, flushing first when the queue is full; aborts on other errors. */
void tl_apply_add(cdc_apply_t *ap, cdc_event_t *ev);

/** Canonical listing of every key matching "<prefix>:*": sorted by key;
 *  per key its type, PEXPIRETIME and content (zset members with integer
 *  scores and hash fields sorted by member/field). */
void tl_listing(redisContext *rc, const char *prefix, tl_buf_t *out);

/** Entry of an expected listing (built by a model in C). */
typedef struct tl_entry_s {
        char *key;
        size_t keylen;
        tl_buf_t body; /* type, pexpiretime and sorted content, as pieces */
} tl_entry_t;

/** One (name, value) pair of a zset (value = score text) or a hash. */
typedef struct tl_pair_s {
        const char *a;
        size_t alen;
        const char *b;
        size_t blen;
} tl_pair_t;

/** Body of a key: type, pexpiretime (-1: none) and the pairs sorted by
 *  name (the pairs array is reordered). */
void tl_body(tl_buf_t *body, const char *type, long long pexpiretime,
             tl_pair_t *pairs, size_t n);

/** Sort entries by key and concatenate into \p out (same form as
 *  tl_listing). Frees the entries' bodies. */
void tl_entries_join(tl_entry_t *ents, size_t n, tl_buf_t *out);

/** Print the first difference of two listings to stderr. */
void tl_listing_diff(const tl_buf_t *want, const tl_buf_t *got);

/** xorshift64* */
uint64_t tl_rand(uint64_t *s);

#endif
