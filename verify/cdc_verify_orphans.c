/**
 * @file cdc_verify_orphans.c
 * @brief --full's last pass: users Redis holds keys for but MySQL has no
 * row for at all (every edge of the user deleted while nothing streamed,
 * keys written by hand, a bug). The walk of the follow table never meets
 * them. SCAN every master for "<prefix>:{u:*}", ask MySQL which of the
 * users found have no row on either side, and check those as --users
 * does (no row: Redis must hold nothing), with the same wait before
 * anything is reported: a user whose rows were deleted a moment ago is
 * a change in flight, not a difference.
 *
 * Idempotency records the same way: SCAN "<prefix>:idem:{r:*}", ask
 * MySQL (in one consistent read, whose position the wait uses) which
 * request ids have no row, and compare those with "no record".
 *
 * Memory: one page of keys, one batch of ids, and the ids of the users
 * and records already checked here (only those without any row).
 */
#include "cdc_verify_priv.h"

#include <hiredis/hiredis.h>

#define ORPHAN_SCAN_COUNT "1000"
#define ORPHAN_BATCH      1000

typedef struct orphans_s {
        uint64_t *ids; /* found, not yet asked about */
        size_t n, cap;
        uint64_t *seen; /* checked already (sorted) */
        size_t nseen, capseen;
        uint64_t users; /* users without a row, checked */
        uint64_t keys;  /* keys scanned */
} orphans_t;

static int orphan_cmp(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
        return x < y ? -1 : x > y;
}

static int orphan_grow(uint64_t **arr, size_t *cap, size_t need) {
        size_t c = *cap ? *cap : 256;
        uint64_t *a;
        if (need <= *cap)
                return 0;
        while (c < need)
                c *= 2;
        a = realloc(*arr, c * sizeof(*a));
        if (!a)
                return -1;
        *arr = a;
        *cap = c;
        return 0;
}

/* The user id of "<prefix>:{u:<digits>}..."; 0 if the key is not one. */
static int orphan_uid(const cdc_verify_t *v, const char *k, size_t len,
                      uint64_t *uidp) {
        size_t i     = v->v_prefix_len + 4, start;
        uint64_t uid = 0;

        if (len <= i || memcmp(k, v->v_prefix, v->v_prefix_len) ||
            memcmp(k + v->v_prefix_len, ":{u:", 4))
                return 0;
        start = i;
        for (; i < len && k[i] >= '0' && k[i] <= '9'; i++) {
                if (uid > (UINT64_MAX - (uint64_t)(k[i] - '0')) / 10)
                        return 0;
                uid = uid * 10 + (uint64_t)(k[i] - '0');
        }
        if (i == start || i - start > 20 || i >= len || k[i] != '}')
                return 0;
        *uidp = uid;
        return 1;
}

/* Ask MySQL about the batch; check the users it has no row for. */
static int orphan_flush(cdc_verify_t *v, orphans_t *o) {
        unsigned char *present = NULL;
        size_t i, j, k = 0;
        cdc_err_t err;
        int rc = 0;

        if (!o->n)
                return 0;
        qsort(o->ids, o->n, sizeof(*o->ids), orphan_cmp);
        for (i = 0; i < o->n; i++) /* distinct, and not checked already */
                if ((!k || o->ids[i] != o->ids[k - 1]) &&
                    (!o->nseen || !bsearch(&o->ids[i], o->seen, o->nseen,
                                           sizeof(*o->seen), orphan_cmp)))
                        o->ids[k++] = o->ids[i];
        o->n = k;
        if (!o->n)
                return 0;
        present = malloc(o->n);
        if (!present) {
                snprintf(v->v_errstr, sizeof(v->v_errstr), "out of memory");
                return -1;
        }
        err = cdc_vsource_present_users(v->v_src, o->ids, o->n, present);
        if (err) {
                free(present);
                snprintf(v->v_errstr, sizeof(v->v_errstr), "mysql: %s",
                         cdc_vsource_errstr(v->v_src));
                return err == CDC_ERR__CONFIG ? -2 : -1;
        }
        for (i = j = 0; i < o->n; i++)
                if (!present[i])
                        o->ids[j++] = o->ids[i];
        free(present);
        o->n = j;
        if (!j)
                return 0;
        if (orphan_grow(&o->seen, &o->capseen, o->nseen + j)) {
                snprintf(v->v_errstr, sizeof(v->v_errstr), "out of memory");
                return -1;
        }
        memcpy(o->seen + o->nseen, o->ids, j * sizeof(*o->ids));
        o->nseen += j;
        qsort(o->seen, o->nseen, sizeof(*o->seen), orphan_cmp);
        o->users += j;
        cdc_log(LOG_INFO, "VERIFY",
                "%zu user(s) with keys in Redis and no row in MySQL: "
                "checking them",
                j);
        rc   = verify_list(v, o->ids, j);
        o->n = 0;
        return rc;
}

/* "<prefix><tail>" with the prefix's glob characters escaped. */
static char *orphan_pattern(const cdc_verify_t *v, const char *tail) {
        char *p = malloc(v->v_prefix_len * 2 + strlen(tail) + 1), *q;
        size_t i;

        if (!p)
                return NULL;
        q = p;
        for (i = 0; i < v->v_prefix_len; i++) {
                if (strchr("*?[]\\", v->v_prefix[i]))
                        *q++ = '\\';
                *q++ = v->v_prefix[i];
        }
        memcpy(q, tail, strlen(tail) + 1);
        return p;
}

/* A key of a SCAN page: 0 to go on, -1 to stop (v_errstr set). */
typedef int(orphan_key_cb_t)(cdc_verify_t *v, void *opaque, const char *k,
                             size_t len);
/* After each page: 0 to go on, else the run's result. */
typedef int(orphan_page_cb_t)(cdc_verify_t *v, void *opaque);

/* SCAN every master for \p tail's keys. @returns 0, -1 or -2. */
static int orphan_scan(cdc_verify_t *v, const char *tail, orphan_key_cb_t *kcb,
                       orphan_page_cb_t *pcb, void *opaque, uint64_t *keysp,
                       int *mastersp) {
        char *pat = orphan_pattern(v, tail);
        int masters, m, rc = 0;
        size_t i;

        if (!pat) {
                snprintf(v->v_errstr, sizeof(v->v_errstr), "out of memory");
                return -1;
        }
        if (!cdc_rcluster_connected(v->v_rc) && cdc_rcluster_connect(v->v_rc)) {
                snprintf(v->v_errstr, sizeof(v->v_errstr), "redis: %s",
                         cdc_rcluster_errstr(v->v_rc));
                free(pat);
                return -1;
        }
        masters = cdc_rcluster_masters(v->v_rc);
        for (m = 0; m < masters && !rc; m++) {
                char cursor[32] = "0";
                do {
                        const char *argv[6] = { "SCAN",  cursor,
                                                "MATCH", pat,
                                                "COUNT", ORPHAN_SCAN_COUNT };
                        size_t lens[6]      = { 4, strlen(cursor),
                                                5, strlen(pat),
                                                5, strlen(ORPHAN_SCAN_COUNT) };
                        redisReply *r       = NULL;

                        if (!*v->v_run) {
                                rc = -1;
                                break;
                        }
                        /* a dropped link gets one reconnect (same cursor) */
                        if (cdc_rcluster_master_command(v->v_rc, m, &r, 6, argv,
                                                        lens) &&
                            (cdc_rcluster_connect(v->v_rc) ||
                             cdc_rcluster_master_command(v->v_rc, m, &r, 6,
                                                         argv, lens))) {
                                snprintf(v->v_errstr, sizeof(v->v_errstr),
                                         "redis: SCAN: %s",
                                         cdc_rcluster_errstr(v->v_rc));
                                rc = -1;
                                break;
                        }
                        if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
                            r->element[0]->type != REDIS_REPLY_STRING ||
                            r->element[0]->len >= sizeof(cursor) ||
                            r->element[1]->type != REDIS_REPLY_ARRAY) {
                                snprintf(v->v_errstr, sizeof(v->v_errstr),
                                         "redis: SCAN: %.*s",
                                         r->type == REDIS_REPLY_ERROR
                                                 ? (int)(r->len > 200 ? 200
                                                                      : r->len)
                                                 : 16,
                                         r->type == REDIS_REPLY_ERROR
                                                 ? r->str
                                                 : "unexpected reply");
                                freeReplyObject(r);
                                rc = -1;
                                break;
                        }
                        memcpy(cursor, r->element[0]->str, r->element[0]->len);
                        cursor[r->element[0]->len] = '\0';
                        for (i = 0; i < r->element[1]->elements && !rc; i++) {
                                const redisReply *k = r->element[1]->element[i];
                                (*keysp)++;
                                if (k->type == REDIS_REPLY_STRING)
                                        rc = kcb(v, opaque, k->str, k->len);
                        }
                        freeReplyObject(r);
                        if (!rc)
                                rc = pcb(v, opaque);
                } while (!rc && strcmp(cursor, "0") != 0);
        }
        *mastersp = masters;
        free(pat);
        return rc;
}

/* ---- users ---- */

static int orphan_user_key(cdc_verify_t *v, void *opaque, const char *k,
                           size_t len) {
        orphans_t *o = opaque;
        uint64_t uid;

        if (!orphan_uid(v, k, len, &uid))
                return 0;
        if (orphan_grow(&o->ids, &o->cap, o->n + 1)) {
                snprintf(v->v_errstr, sizeof(v->v_errstr), "out of memory");
                return -1;
        }
        o->ids[o->n++] = uid;
        return 0;
}

static int orphan_user_page(cdc_verify_t *v, void *opaque) {
        orphans_t *o = opaque;
        return o->n >= ORPHAN_BATCH ? orphan_flush(v, o) : 0;
}

static int verify_user_orphans(cdc_verify_t *v) {
        orphans_t o;
        int masters = 0, rc;

        memset(&o, 0, sizeof(o));
        rc = orphan_scan(v, ":{u:*}*", orphan_user_key, orphan_user_page, &o,
                         &o.keys, &masters);
        if (!rc)
                rc = orphan_flush(v, &o);
        if (!rc)
                cdc_log(LOG_INFO, "VERIFY",
                        "Redis-only users: %" PRIu64 " key(s) scanned on %d "
                        "master(s), %" PRIu64 " user(s) without a MySQL row",
                        o.keys, masters, o.users);
        v->v_sum->redis_only_users += o.users;
        free(o.ids);
        free(o.seen);
        return rc;
}

/* ---- idempotency records ---- */

/* Records found in Redis, not yet asked about: their record keys. */
typedef struct iorphans_s {
        char **keys;
        size_t n, cap;
        char **seen; /* rids checked already (sorted) */
        size_t nseen, capseen;
        uint64_t records, scanned;
} iorphans_t;

static int iorphan_cmp(const void *a, const void *b) {
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static int iorphan_push(char ***arr, size_t *n, size_t *cap, char *s) {
        if (*n == *cap) {
                size_t c = *cap ? *cap * 2 : 256;
                char **a = realloc(*arr, c * sizeof(*a));
                if (!a)
                        return -1;
                *arr = a;
                *cap = c;
        }
        (*arr)[(*n)++] = s;
        return 0;
}

/* Only "<prefix>:idem:{r:<rid>}" (not the ":del" tombstones); ids with a
 * NUL byte can't be asked about as SQL text: skipped. */
static int iorphan_key(cdc_verify_t *v, void *opaque, const char *k,
                       size_t len) {
        iorphans_t *o = opaque;
        size_t pre    = v->v_prefix_len + 9; /* ":idem:{r:" */
        char *d;

        if (len <= pre + 1 || k[len - 1] != '}' ||
            memcmp(k + v->v_prefix_len, ":idem:{r:", 9) || memchr(k, '\0', len))
                return 0;
        d = verify_memdup(k, len);
        if (!d || iorphan_push(&o->keys, &o->n, &o->cap, d)) {
                free(d);
                snprintf(v->v_errstr, sizeof(v->v_errstr), "out of memory");
                return -1;
        }
        return 0;
}

static void iorphan_free_keys(iorphans_t *o) {
        size_t i;
        for (i = 0; i < o->n; i++)
                free(o->keys[i]);
        o->n = 0;
}

/* Ask MySQL, in one consistent read, which of the batch's records have a
 * row; compare the others with "no record" (Redis must hold none), the
 * differing ones kept as suspects until the wait. */
static int iorphan_flush(cdc_verify_t *v, iorphans_t *o) {
        size_t pre = v->v_prefix_len + 9, i, k = 0;
        const char **rids      = NULL;
        size_t *lens           = NULL;
        unsigned char *present = NULL;
        videm_t **recs         = NULL;
        size_t nrec = 0, cap = 0;
        cdc_pos_t pos;
        cdc_err_t err;
        int rc = -1;

        if (!o->n)
                return 0;
        qsort(o->keys, o->n, sizeof(*o->keys), iorphan_cmp);
        for (i = 0; i < o->n; i++) { /* distinct, not checked already */
                const char *rid = o->keys[i] + pre;
                if ((k && !strcmp(o->keys[i], o->keys[k - 1])) ||
                    (o->nseen && bsearch(&rid, o->seen, o->nseen,
                                         sizeof(*o->seen), iorphan_cmp))) {
                        free(o->keys[i]);
                        continue;
                }
                o->keys[k++] = o->keys[i];
        }
        o->n = k;
        if (!o->n)
                return 0;
        rids    = calloc(o->n, sizeof(*rids));
        lens    = calloc(o->n, sizeof(*lens));
        present = calloc(o->n, 1);
        if (!rids || !lens || !present)
                goto nomem;
        for (i = 0; i < o->n; i++) {
                rids[i] = o->keys[i] + pre;
                lens[i] = strlen(o->keys[i]) - pre - 1;
        }
        if ((err = cdc_vsource_begin(v->v_src, &v->v_snap, &pos)) ||
            (err = cdc_vsource_present_rids(v->v_src, rids, lens, o->n,
                                            present)) ||
            (err = cdc_vsource_end(v->v_src))) {
                snprintf(v->v_errstr, sizeof(v->v_errstr), "mysql: %s",
                         cdc_vsource_errstr(v->v_src));
                rc = err == CDC_ERR__CONFIG ? -2 : -1;
                goto out;
        }
        for (i = 0; i < o->n; i++) {
                videm_t *r;
                char *rid;
                if (present[i])
                        continue;
                r   = calloc(1, sizeof(*r));
                rid = verify_memdup(rids[i], lens[i]);
                if (!r || !rid ||
                    iorphan_push(&o->seen, &o->nseen, &o->capseen, rid)) {
                        free(r);
                        free(rid);
                        goto nomem;
                }
                r->snap      = v->v_snap;
                r->rec_len   = strlen(o->keys[i]);
                r->rec       = verify_memdup(o->keys[i], r->rec_len);
                r->tomb_len  = r->rec_len + 4;
                r->tomb      = malloc(r->tomb_len + 1);
                r->expire_ms = -1; /* no row: no record expected */
                if (!r->rec || !r->tomb ||
                    verify_push((void ***)&recs, &nrec, &cap, r)) {
                        free(r->rec);
                        free(r->tomb);
                        free(r);
                        goto nomem;
                }
                snprintf(r->tomb, r->tomb_len + 1, "%s:del", r->rec);
                r->rid     = r->rec + pre;
                r->rid_len = lens[i];
        }
        if (o->nseen)
                qsort(o->seen, o->nseen, sizeof(*o->seen), iorphan_cmp);
        o->records += nrec;
        rc = verify_idem_list(v, recs, nrec);
        goto out;
nomem:
        snprintf(v->v_errstr, sizeof(v->v_errstr), "out of memory");
        rc = -1;
out:
        for (i = 0; i < nrec; i++)
                videm_destroy(recs[i]); /* NULL once kept as a suspect */
        free(recs);
        free(rids);
        free(lens);
        free(present);
        iorphan_free_keys(o);
        return rc;
}

static int iorphan_page(cdc_verify_t *v, void *opaque) {
        iorphans_t *o = opaque;
        return o->n >= ORPHAN_BATCH ? iorphan_flush(v, o) : 0;
}

static int verify_idem_orphans(cdc_verify_t *v) {
        iorphans_t o;
        int masters = 0, rc;
        size_t i;

        memset(&o, 0, sizeof(o));
        rc = orphan_scan(v, ":idem:{r:*}", iorphan_key, iorphan_page, &o,
                         &o.scanned, &masters);
        if (!rc)
                rc = iorphan_flush(v, &o);
        if (!rc)
                cdc_log(LOG_INFO, "VERIFY",
                        "Redis-only idempotency records: %" PRIu64
                        " key(s) scanned, %" PRIu64 " without a MySQL row",
                        o.scanned, o.records);
        v->v_sum->redis_only_records += o.records;
        iorphan_free_keys(&o);
        free(o.keys);
        for (i = 0; i < o.nseen; i++)
                free(o.seen[i]);
        free(o.seen);
        return rc;
}

int verify_orphans(cdc_verify_t *v) {
        int rc = verify_user_orphans(v);
        return rc ? rc : verify_idem_orphans(v);
}
