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
 * Memory: one page of keys, one batch of ids, and the ids of the users
 * already checked here (8 bytes each; only users without any row).
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
                    !bsearch(&o->ids[i], o->seen, o->nseen, sizeof(*o->seen),
                             orphan_cmp))
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

/* "<prefix>:{u:*}" with the prefix's glob characters escaped. */
static char *orphan_pattern(const cdc_verify_t *v) {
        char *p = malloc(v->v_prefix_len * 2 + 8), *q;
        size_t i;

        if (!p)
                return NULL;
        q = p;
        for (i = 0; i < v->v_prefix_len; i++) {
                if (strchr("*?[]\\", v->v_prefix[i]))
                        *q++ = '\\';
                *q++ = v->v_prefix[i];
        }
        memcpy(q, ":{u:*}*", 8);
        return p;
}

int verify_orphans(cdc_verify_t *v) {
        orphans_t o;
        char *pat = orphan_pattern(v);
        int masters, m, rc = 0;
        size_t i;

        memset(&o, 0, sizeof(o));
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
                                uint64_t uid;
                                o.keys++;
                                if (k->type != REDIS_REPLY_STRING ||
                                    !orphan_uid(v, k->str, k->len, &uid))
                                        continue;
                                if (orphan_grow(&o.ids, &o.cap, o.n + 1)) {
                                        snprintf(v->v_errstr,
                                                 sizeof(v->v_errstr),
                                                 "out of memory");
                                        rc = -1;
                                        break;
                                }
                                o.ids[o.n++] = uid;
                        }
                        freeReplyObject(r);
                        if (!rc && o.n >= ORPHAN_BATCH)
                                rc = orphan_flush(v, &o);
                } while (!rc && strcmp(cursor, "0") != 0);
        }
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
        free(pat);
        return rc;
}
