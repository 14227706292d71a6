/**
 * @file cdc_vdiff.h
 * @brief followcdc-verify's comparison: the state one user (or one
 *        idempotency record) must have in Redis, derived from MySQL rows,
 *        against what Redis holds. Pure functions, no server: unit tested
 *        in tests/unit/test_vdiff.c.
 *
 * Members are compared as text (a member Redis holds need not be an id
 * at all); scores as numbers (follow times in ms, exact in a double).
 * A difference whose Redis side carries a version newer than the MySQL
 * read (cdc_vdiff_newer()) is a change made after that read, not a
 * divergence: it is skipped and counted as such.
 */
#ifndef CDC_VDIFF_H
#define CDC_VDIFF_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

/** The MySQL read a comparison is made against. */
typedef struct cdc_vsnap_s {
        uint32_t epoch; /**< source.epoch (the producer's) */
        uint64_t seq;   /**< cdc_snapshot_pos_seq() of the read's position */
        /** 1: seq is a GTID sequence number and the transaction with that
         *  number is part of the read (newer means seq > snapshot seq).
         *  0: seq is (file number << 40) | position of the end of the
         *  read, a transaction starting there is newer (seq >= ...). */
        int gtid;
} cdc_vsnap_t;

/** The sets of one user. */
typedef enum {
        CDC_VSET_FOLLOWING = 0,
        CDC_VSET_FOLLOWERS,
        CDC_VSET_FRIENDS,
        CDC_VSET__CNT,
} cdc_vset_t;

/** One member of a set: expected (from MySQL) or held (by Redis). */
typedef struct cdc_vmember_s {
        const char *id; /**< member text (not NUL-terminated necessarily) */
        size_t len;
        double score;
        /** Expected side: the edge exists (status 1). Entries with 0 are
         *  rows MySQL has for the pair without a follow (unfollowed):
         *  they only serve as the MySQL row of an extra member. */
        int present;
        const json_t *row; /**< expected side: MySQL's row (borrowed) */
} cdc_vmember_t;

/** One field of the user's `ver` hash (`o:<id>` or `i:<id>`). */
typedef struct cdc_vver_s {
        const char *field;
        size_t flen;
        const char *ver;
        size_t vlen;
} cdc_vver_t;

/** One user's state. Arrays sorted with cdc_vdiff_sort_*(). */
typedef struct cdc_vuser_s {
        const char *uid; /**< canonical decimal id */
        cdc_vmember_t *m[CDC_VSET__CNT];
        size_t n[CDC_VSET__CNT];
        cdc_vver_t *ver; /**< Redis side only */
        size_t nver;
} cdc_vuser_t;

/** Kinds of difference (the report's `kind`). */
typedef enum {
        CDC_VK_MISSING = 0, /**< MySQL has the member, Redis not */
        CDC_VK_EXTRA,       /**< Redis has a member MySQL does not */
        CDC_VK_WRONG_SCORE, /**< both have it, scores differ */
        CDC_VK_WRONG_COUNT, /**< the set's size differs (with the above) */
        CDC_VK_IDEM_MISSING,
        CDC_VK_IDEM_EXTRA,
        CDC_VK_IDEM_WRONG, /**< status, biz_key or expiry differ */
        CDC_VK__CNT,
} cdc_vkind_t;

/** @returns the report name of \p k ("missing_member", ...). */
const char *cdc_vkind_name(cdc_vkind_t k);

/** @returns the name of \p s ("following", ...). */
const char *cdc_vset_name(cdc_vset_t s);

/** One difference, handed to the caller's callback (all borrowed). */
typedef struct cdc_vdiff_s {
        cdc_vkind_t kind;
        const char *uid; /**< user; NULL for idempotency records */
        cdc_vset_t set;  /**< user differences */
        const char *member;
        size_t member_len; /**< member, or request id (idem) */
        int has_mysql;
        double mysql_score;
        const json_t *mysql_row; /**< NULL if MySQL has no row */
        int has_redis;
        double redis_score;
        const char *redis_ver;           /**< version Redis holds for the member
                                          *   ("" if none) */
        size_t mysql_count, redis_count; /**< CDC_VK_WRONG_COUNT */
        /* idempotency records */
        const char *mysql_status, *redis_status;
        const char *mysql_biz, *redis_biz;
        size_t mysql_biz_len, redis_biz_len;
        int64_t mysql_expire_ms, redis_expire_ms; /**< -1: none */
} cdc_vdiff_t;

/** Called for each difference; return non-zero to stop. */
typedef int(cdc_vdiff_cb_t)(void *opaque, const cdc_vdiff_t *d);

/** What one comparison found. */
typedef struct cdc_vdiff_stats_s {
        uint64_t edges; /**< expected members compared (all sets) */
        uint64_t newer; /**< differences skipped: Redis is newer */
        uint64_t diffs[CDC_VK__CNT];
} cdc_vdiff_stats_t;

/**
 * @brief Whether a version Redis stores (decimal digits without leading
 *        zeros, schemas/redis.md) is newer than the read \p snap: its
 *        (epoch, seq) is after the read's. In a register list of several
 *        sources ("<ver>[@<tag>][=<score>];...") the home source's
 *        register (no tag) counts. A malformed version, or none of the
 *        home source, is not newer (the difference is reported).
 */
int cdc_vdiff_newer(const char *ver, size_t len, const cdc_vsnap_t *snap);

/** @brief Sort members by id (numeric order for canonical ids). */
void cdc_vdiff_sort_members(cdc_vmember_t *m, size_t n);

/** @brief Sort `ver` fields by name. */
void cdc_vdiff_sort_ver(cdc_vver_t *v, size_t n);

/**
 * @brief Derive the expected friends of \p exp from its following and
 *        followers (both sorted): members present in both, scored by the
 *        later of the two times (schemas/redis.md).
 * @param out at least min(n following, n followers) entries.
 * @returns the number written (sorted).
 */
size_t cdc_vdiff_friends(const cdc_vuser_t *exp, cdc_vmember_t *out);

/**
 * @brief Compare one user: \p exp (MySQL, friends filled) against \p red
 *        (Redis), both sorted. Differences whose Redis version is newer
 *        than \p snap are skipped (counted in st->newer); the others go to
 *        \p cb. A set whose size differs also yields CDC_VK_WRONG_COUNT
 *        unless every member difference of it was skipped.
 * @returns the number of differences reported.
 */
size_t cdc_vdiff_user(const cdc_vuser_t *exp, const cdc_vuser_t *red,
                      const cdc_vsnap_t *snap, cdc_vdiff_cb_t *cb, void *opaque,
                      cdc_vdiff_stats_t *st);

/** An idempotency record: expected (MySQL row) or held (Redis). */
typedef struct cdc_videm_s {
        const char *rid; /**< request id (bytes) */
        size_t rid_len;
        int present; /**< Redis: the record exists. MySQL: the row is live
                      *   (expiry in the future) */
        const char *status;
        const char *biz;
        size_t biz_len;
        int64_t expire_ms; /**< absolute expiry, -1 none (Redis) */
        const char *ver;   /**< Redis: `ver` field, or the tombstone's */
        size_t vlen;
        const json_t *row; /**< MySQL side (borrowed), NULL: no row */
} cdc_videm_t;

/**
 * @brief Compare one idempotency record. \p now_ms and \p slack_ms: an
 *        expected expiry within \p slack_ms of now is not judged (the
 *        record may just have expired on either side), and expiries
 *        differing by at most \p slack_ms are equal (Redis keeps a
 *        migrated key's remaining TTL, and PTTL is read at another time
 *        than now).
 * @returns 1 if a difference was reported, else 0.
 */
int cdc_vdiff_idem(const cdc_videm_t *exp, const cdc_videm_t *red,
                   const cdc_vsnap_t *snap, int64_t now_ms, int64_t slack_ms,
                   cdc_vdiff_cb_t *cb, void *opaque, cdc_vdiff_stats_t *st);

#endif
