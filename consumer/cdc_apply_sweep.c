/**
 * @file cdc_apply_sweep.c
 * @brief The TRUNCATE sweep of cdc_apply_flush(): SCAN every master for
 *        the table's keys and run a version-checked purge script per user
 *        (ipurge per idempotency record) that removes what is older.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "cdc_apply_priv.h"
#include "cdc_backoff.h"
#include "cdc_log.h"

/* The user id in a key "<prefix>:{u:<uid>}..." into \p uid (digits, at
 * most 20). @returns 0, or -1 if the key is not a user key. */
static int apply_key_uid(const cdc_apply_t *ap, const char *k, size_t len,
                         char *uid) {
        size_t o = ap->ap_prefix_len + 4, n = 0;

        if (len <= o || memcmp(k, ap->ap_prefix, ap->ap_prefix_len) ||
            memcmp(k + ap->ap_prefix_len, ":{u:", 4))
                return -1;
        while (o < len && k[o] >= '0' && k[o] <= '9' && n < 20)
                uid[n++] = k[o++];
        if (!n || o >= len || k[o] != '}')
                return -1;
        uid[n] = '\0';
        return 0;
}

static int apply_cmp_str(const void *a, const void *b) {
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The scripts of one SCAN page of a sweep: a purge per user (each once),
 * or an ipurge per idempotency record. @returns the number built, or -1
 * (out of memory). */
static int apply_sweep_page(cdc_apply_t *ap, const redisReply *keys, int idem,
                            const char *ver, const char *tag,
                            apply_cmd_t **cmds) {
        static const char *const suffix[4] = { "following", "followers",
                                               "friends", "ver" };
        char(*uids)[21]                    = NULL;
        char **sorted                      = NULL;
        size_t i, nu = 0;
        int n = 0, k;

        if (idem) {
                for (i = 0; i < keys->elements; i++) {
                        const redisReply *e = keys->element[i];
                        apply_key_t tomb    = { NULL, 0 };
                        const char *v[4];
                        size_t len[4];
                        const char *parts[2] = { NULL, ":del" };
                        size_t lens[2]       = { 0, 4 };

                        /* records end with "}", tombstones with ":del" */
                        if (e->type != REDIS_REPLY_STRING || e->len < 2 ||
                            e->str[e->len - 1] != '}')
                                continue;
                        parts[0] = e->str, lens[0] = e->len;
                        if (!apply_key_cat(&tomb, 2, parts, lens))
                                goto nomem;
                        v[0] = e->str, len[0] = e->len;
                        v[1] = tomb.k, len[1] = tomb.len;
                        v[2] = ver, len[2] = strlen(ver);
                        v[3] = tag, len[3] = strlen(tag);
                        cmds[n] = apply_cmd_new(CDC_SCRIPT_IPURGE, 4, v, len);
                        apply_key_free(&tomb);
                        if (!cmds[n])
                                goto nomem;
                        n++;
                }
                return n;
        }
        uids   = calloc(keys->elements + 1, sizeof(*uids));
        sorted = calloc(keys->elements + 1, sizeof(*sorted));
        if (!uids || !sorted)
                goto nomem;
        for (i = 0; i < keys->elements; i++) {
                const redisReply *e = keys->element[i];
                if (e->type == REDIS_REPLY_STRING &&
                    apply_key_uid(ap, e->str, e->len, uids[nu]) == 0) {
                        sorted[nu] = uids[nu];
                        nu++;
                }
        }
        qsort(sorted, nu, sizeof(*sorted), apply_cmp_str);
        for (i = 0; i < nu; i++) {
                apply_key_t kk[4];
                const char *v[6];
                size_t len[6];

                if (i && !strcmp(sorted[i], sorted[i - 1]))
                        continue; /* the same user's next key */
                memset(kk, 0, sizeof(kk));
                for (k = 0; k < 4; k++)
                        if (apply_user_key(ap, &kk[k], sorted[i], suffix[k]))
                                break;
                if (k == 4) {
                        for (k = 0; k < 4; k++)
                                v[k] = kk[k].k, len[k] = kk[k].len;
                        v[4] = ver, len[4] = strlen(ver);
                        v[5] = tag, len[5] = strlen(tag);
                        cmds[n] = apply_cmd_new(CDC_SCRIPT_PURGE, 6, v, len);
                }
                for (k = 0; k < 4; k++)
                        apply_key_free(&kk[k]);
                if (!cmds[n])
                        goto nomem;
                n++;
        }
        free(uids);
        free(sorted);
        return n;
nomem:
        while (n > 0)
                free(cmds[--n]);
        free(uids);
        free(sorted);
        return -1;
}

/*
 * A TRUNCATE of the follow (\p mk argv[0] "f") or idempotent_log ("i")
 * table at version argv[1]: SCAN every master for the table's keys and
 * run the purge script of each user (ipurge of each record), which
 * removes what is older than the TRUNCATE. Idempotent: a failure part
 * way is retried from the start by the next flush.
 */
cdc_err_t apply_sweep(cdc_apply_t *ap, const apply_cmd_t *mk) {
        int idem        = mk->ac_argv[0][0] == 'i';
        const char *ver = mk->ac_argv[1];
        const char *tag = mk->ac_argv[2];
        apply_key_t pat = { NULL, 0 };
        const char *parts[2];
        size_t lens[2], scanned = 0;
        uint64_t swept0 = ap->ap_swept;
        int64_t start   = cdc_now_us();
        cdc_err_t err   = CDC_ERR_NO_ERROR;
        int m, masters;

        parts[0] = ap->ap_prefix, lens[0] = ap->ap_prefix_len;
        parts[1] = idem ? ":idem:{r:*" : ":{u:*";
        lens[1]  = strlen(parts[1]);
        if (!apply_key_cat(&pat, 2, parts, lens)) {
                snprintf(ap->ap_errstr, sizeof(ap->ap_errstr), "out of memory");
                return CDC_ERR__TRANSPORT;
        }
        cdc_log(LOG_NOTICE, "APPLY",
                "TRUNCATE of the %s table at version %s: removing every %s "
                "older than it",
                idem ? "idempotency" : "follow", ver,
                idem ? "idempotency record" : "edge");
        masters = cdc_rcluster_masters(ap->ap_rc);
        for (m = 0; m < masters && !err; m++) {
                char cursor[32] = "0";
                do {
                        const char *argv[6] = { "SCAN",  cursor,
                                                "MATCH", pat.k,
                                                "COUNT", APPLY_SWEEP_COUNT };
                        size_t alen[6]      = { 4, strlen(cursor),
                                                5, pat.len,
                                                5, strlen(APPLY_SWEEP_COUNT) };
                        redisReply *r       = NULL;
                        apply_cmd_t **cmds;
                        unsigned char *done;
                        int n, i;

                        err = cdc_rcluster_master_command(ap->ap_rc, m, &r, 6,
                                                          argv, alen);
                        if (err) {
                                snprintf(ap->ap_errstr, sizeof(ap->ap_errstr),
                                         "TRUNCATE sweep: %s",
                                         cdc_rcluster_errstr(ap->ap_rc));
                                break;
                        }
                        if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
                            r->element[0]->type != REDIS_REPLY_STRING ||
                            r->element[0]->len >= sizeof(cursor) ||
                            r->element[1]->type != REDIS_REPLY_ARRAY) {
                                snprintf(ap->ap_errstr, sizeof(ap->ap_errstr),
                                         "TRUNCATE sweep: SCAN: %.*s",
                                         r->type == REDIS_REPLY_ERROR
                                                 ? (int)r->len
                                                 : 16,
                                         r->type == REDIS_REPLY_ERROR
                                                 ? r->str
                                                 : "unexpected reply");
                                freeReplyObject(r);
                                err = CDC_ERR__TRANSPORT;
                                break;
                        }
                        memcpy(cursor, r->element[0]->str, r->element[0]->len);
                        cursor[r->element[0]->len] = '\0';
                        scanned += r->element[1]->elements;
                        cmds = calloc(r->element[1]->elements + 1,
                                      sizeof(*cmds));
                        done = calloc(r->element[1]->elements + 1, 1);
                        n    = cmds && done
                                       ? apply_sweep_page(ap, r->element[1], idem,
                                                          ver, tag, cmds)
                                       : -1;
                        freeReplyObject(r);
                        if (n < 0) {
                                snprintf(ap->ap_errstr, sizeof(ap->ap_errstr),
                                         "out of memory");
                                err = CDC_ERR__TRANSPORT;
                        } else if (n > 0) {
                                err = apply_run(ap, cmds, (size_t)n, done);
                        }
                        for (i = 0; i < n; i++)
                                free(cmds[i]);
                        free(cmds);
                        free(done);
                } while (!err && strcmp(cursor, "0") != 0);
        }
        apply_key_free(&pat);
        if (err)
                return err;
        cdc_metric_add(ap->ap_m_sweeps, 1);
        cdc_metric_add(ap->ap_m_swept, (int64_t)(ap->ap_swept - swept0));
        cdc_log(LOG_NOTICE, "APPLY",
                "TRUNCATE of the %s table applied: %zu keys scanned on %d "
                "master(s), %" PRIu64 " %s removed in %.1fs",
                idem ? "idempotency" : "follow", scanned, masters,
                ap->ap_swept - swept0, idem ? "records" : "edge sides",
                (double)(cdc_now_us() - start) / 1e6);
        return CDC_ERR_NO_ERROR;
}
