/**
 * @file cdc_verify_redis.c
 * @brief The verifier's Redis reads: the users' sets and versions and the
 * idempotency records, pipelined through the consumer's router.
 */
#include "cdc_verify_priv.h"

/* ---- Redis ---- */

static int verify_rd_build(void *opaque, size_t i, int *slotp,
                           const char **argv, size_t *lens, int max) {
        cdc_verify_t *v = opaque;

        if (max < 5)
                return 0;
        if (v->v_rd_users) {
                vuser_t *u = v->v_rd_users[i / VK__CNT];
                int k      = (int)(i % VK__CNT);

                *slotp = cdc_rcluster_slot(u->key[k], u->klen[k]);
                if (k == VK_VER) {
                        argv[0] = "HGETALL", lens[0] = 7;
                        argv[1] = u->key[k], lens[1] = u->klen[k];
                        return 2;
                }
                argv[0] = "ZRANGE", lens[0] = 6;
                argv[1] = u->key[k], lens[1] = u->klen[k];
                argv[2] = "0", lens[2] = 1;
                argv[3] = "-1", lens[3] = 2;
                argv[4] = "WITHSCORES", lens[4] = 10;
                return 5;
        } else {
                videm_t *r = v->v_rd_idem[i / 3];
                int k      = (int)(i % 3);

                *slotp = cdc_rcluster_slot(r->rec, r->rec_len);
                if (k == 0) {
                        argv[0] = "HGETALL", lens[0] = 7;
                        argv[1] = r->rec, lens[1] = r->rec_len;
                } else if (k == 1) {
                        argv[0] = "PTTL", lens[0] = 4;
                        argv[1] = r->rec, lens[1] = r->rec_len;
                } else {
                        argv[0] = "GET", lens[0] = 3;
                        argv[1] = r->tomb, lens[1] = r->tomb_len;
                }
                return 2;
        }
}

/* Copy an array reply of pairs into one block: a cdc_vver_t per pair
 * (first, its length, second, its length), then the bytes. */
static cdc_vver_t *verify_copy_pairs(const redisReply *r, size_t *np) {
        size_t n = r->elements / 2, bytes = 0, i;
        cdc_vver_t *pv;
        char *p;

        for (i = 0; i < r->elements; i++)
                bytes += r->element[i]->len + 1;
        pv = malloc(n * sizeof(*pv) + bytes + 1);
        if (!pv)
                return NULL;
        p = (char *)(pv + n);
        for (i = 0; i < n; i++) {
                const redisReply *a = r->element[2 * i],
                                 *b = r->element[2 * i + 1];
                memcpy(p, a->str, a->len);
                p[a->len]   = '\0';
                pv[i].field = p;
                pv[i].flen  = a->len;
                p += a->len + 1;
                memcpy(p, b->str, b->len);
                p[b->len]  = '\0';
                pv[i].ver  = p;
                pv[i].vlen = b->len;
                p += b->len + 1;
        }
        *np = n;
        return pv;
}

static int verify_pairs_ok(const redisReply *r) {
        size_t i;
        if (r->type != REDIS_REPLY_ARRAY || r->elements % 2)
                return 0;
        for (i = 0; i < r->elements; i++)
                if (r->element[i]->type != REDIS_REPLY_STRING)
                        return 0;
        return 1;
}

static int verify_rd_user_reply(cdc_verify_t *v, size_t i, const redisReply *r,
                                char *errstr, size_t errstr_size) {
        vuser_t *u = v->v_rd_users[i / VK__CNT];
        int k      = (int)(i % VK__CNT);
        cdc_vver_t *pv;
        size_t n = 0, j;

        if (!verify_pairs_ok(r)) {
                snprintf(errstr, errstr_size, "unexpected reply reading %s",
                         u->key[k]);
                return 0;
        }
        pv = verify_copy_pairs(r, &n);
        if (!pv)
                goto nomem;
        free(u->rblk[k]);
        u->rblk[k] = (char *)pv;
        if (k == VK_VER) {
                u->ver  = pv;
                u->nver = n;
                cdc_vdiff_sort_ver(u->ver, n);
                return 1;
        }
        free(u->r[k]);
        u->r[k]  = calloc(n ? n : 1, sizeof(*u->r[k]));
        u->rn[k] = 0;
        if (!u->r[k])
                goto nomem;
        for (j = 0; j < n; j++) {
                u->r[k][j].id      = pv[j].field;
                u->r[k][j].len     = pv[j].flen;
                u->r[k][j].score   = strtod(pv[j].ver, NULL);
                u->r[k][j].present = 1;
        }
        u->rn[k] = n;
        cdc_vdiff_sort_members(u->r[k], n);
        return 1;
nomem:
        snprintf(errstr, errstr_size, "out of memory");
        return 0;
}

static int verify_rd_idem_reply(cdc_verify_t *v, size_t i, const redisReply *r,
                                char *errstr, size_t errstr_size) {
        videm_t *rc = v->v_rd_idem[i / 3];
        int k       = (int)(i % 3);
        cdc_vver_t *pv;
        size_t n = 0, j;

        if (k == 0) {
                if (!verify_pairs_ok(r)) {
                        snprintf(errstr, errstr_size,
                                 "unexpected reply to HGETALL %s", rc->rec);
                        return 0;
                }
                pv = verify_copy_pairs(r, &n);
                if (!pv)
                        goto nomem;
                free(rc->rblk);
                rc->rblk = (char *)pv;
                memset(&rc->red, 0, sizeof(rc->red));
                rc->red.expire_ms = -1;
                rc->red.rid       = rc->rid;
                rc->red.rid_len   = rc->rid_len;
                rc->red.present   = n > 0;
                for (j = 0; j < n; j++) {
                        if (pv[j].flen == 6 &&
                            !memcmp(pv[j].field, "status", 6))
                                rc->red.status = pv[j].ver;
                        else if (pv[j].flen == 7 &&
                                 !memcmp(pv[j].field, "biz_key", 7)) {
                                rc->red.biz     = pv[j].ver;
                                rc->red.biz_len = pv[j].vlen;
                        } else if (pv[j].flen == 3 &&
                                   !memcmp(pv[j].field, "ver", 3)) {
                                rc->red.ver  = pv[j].ver;
                                rc->red.vlen = pv[j].vlen;
                        }
                }
                return 1;
        }
        if (k == 1) {
                if (r->type != REDIS_REPLY_INTEGER) {
                        snprintf(errstr, errstr_size,
                                 "unexpected reply to PTTL %s", rc->rec);
                        return 0;
                }
                if (r->integer >= 0)
                        rc->red.expire_ms = verify_wall_ms() + r->integer;
                return 1;
        }
        /* the delete tombstone: its version counts when newer */
        free(rc->tomb_ver);
        rc->tomb_ver = NULL;
        if (r->type == REDIS_REPLY_STRING) {
                rc->tomb_ver = verify_memdup(r->str, r->len);
                if (!rc->tomb_ver)
                        goto nomem;
                if (!rc->red.ver || r->len > rc->red.vlen ||
                    (r->len == rc->red.vlen &&
                     memcmp(r->str, rc->red.ver, r->len) > 0)) {
                        rc->red.ver  = rc->tomb_ver;
                        rc->red.vlen = r->len;
                }
        }
        return 1;
nomem:
        snprintf(errstr, errstr_size, "out of memory");
        return 0;
}

static int verify_rd_reply(void *opaque, size_t i, const redisReply *r,
                           char *errstr, size_t errstr_size) {
        cdc_verify_t *v = opaque;

        if (r->type == REDIS_REPLY_ERROR) {
                snprintf(errstr, errstr_size, "%.*s", (int)r->len, r->str);
                return 0;
        }
        return v->v_rd_users
                       ? verify_rd_user_reply(v, i, r, errstr, errstr_size)
                       : verify_rd_idem_reply(v, i, r, errstr, errstr_size);
}

/* Run the reads of v_rd_users or v_rd_idem (n commands), reconnecting
 * with backoff for up to verify.settle.timeout: reads are harmless to
 * repeat. */
static int verify_redis_run(cdc_verify_t *v, size_t n) {
        unsigned char *done = calloc(n ? n : 1, 1);
        int64_t deadline    = verify_mono_ms() + v->v_vc->settle_timeout_ms;
        cdc_backoff_t *bo   = cdc_backoff_new(100, 5000);
        cdc_err_t err       = CDC_ERR__TRANSPORT;

        if (!done || !bo) {
                snprintf(v->v_errstr, sizeof(v->v_errstr), "out of memory");
                goto out;
        }
        while (*v->v_run) {
                if (!cdc_rcluster_connected(v->v_rc))
                        err = cdc_rcluster_connect(v->v_rc);
                else
                        err = CDC_ERR_NO_ERROR;
                if (err == CDC_ERR_NO_ERROR)
                        err = cdc_rcluster_run(v->v_rc, n, done,
                                               verify_rd_build, verify_rd_reply,
                                               v);
                if (err == CDC_ERR_NO_ERROR || err == CDC_ERR__CONFIG)
                        break;
                snprintf(v->v_errstr, sizeof(v->v_errstr), "redis: %s",
                         cdc_rcluster_errstr(v->v_rc));
                if (verify_mono_ms() >= deadline)
                        break;
                cdc_log(LOG_WARNING, "VERIFY", "%s (retrying)", v->v_errstr);
                {
                        int ms             = cdc_backoff_next_ms(bo,
                                                                 verify_mono_ms() * 1000);
                        struct timespec ts = { ms / 1000,
                                               (long)(ms % 1000) * 1000000L };
                        nanosleep(&ts, NULL);
                }
        }
        if (err == CDC_ERR__CONFIG)
                snprintf(v->v_errstr, sizeof(v->v_errstr), "redis: %s",
                         cdc_rcluster_errstr(v->v_rc));
out:
        free(done);
        cdc_backoff_destroy(bo);
        if (err == CDC_ERR_NO_ERROR)
                return 0;
        return err == CDC_ERR__CONFIG ? -2 : -1;
}

int verify_read_users(cdc_verify_t *v, vuser_t **users, size_t n) {
        size_t i;
        int rc;

        if (!n)
                return 0;
        for (i = 0; i < n; i++)
                vuser_free_redis(users[i]);
        v->v_rd_users = users;
        v->v_rd_idem  = NULL;
        rc            = verify_redis_run(v, n * VK__CNT);
        v->v_rd_users = NULL;
        return rc;
}

int verify_read_idem(cdc_verify_t *v, videm_t **recs, size_t n) {
        int rc;
        if (!n)
                return 0;
        v->v_rd_users = NULL;
        v->v_rd_idem  = recs;
        rc            = verify_redis_run(v, n * 3);
        v->v_rd_idem  = NULL;
        return rc;
}
