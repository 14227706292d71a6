/**
 * @file cdc_verify_expect.c
 * @brief MySQL rows -> the expected Redis state, with the consumer's mapping
 * (scores, friends, idempotency expiry).
 */
#include "cdc_verify_priv.h"

/* ---- MySQL rows -> expected state (the consumer's mapping) ---- */

/* Map one row as the consumer would a snapshot read of it. *np scripts
 * are queued in v_ap (discard after reading them). */
int verify_map_row(cdc_verify_t *v, const char *table, json_t *row, int *np) {
        cdc_event_t ev;
        char es[256];
        cdc_err_t err;

        memset(&ev, 0, sizeof(ev));
        ev.op    = CDC_OP_READ;
        ev.after = row;
        snprintf(ev.source.table, sizeof(ev.source.table), "%s", table);
        /* the home source: versions stored without a tag */
        snprintf(ev.source.name, sizeof(ev.source.name), "%s",
                 v->v_vc->vc_cc.source_name);
        ev.source.ts_ms    = VERIFY_NO_TIME;
        ev.source.epoch    = v->v_snap.epoch;
        ev.source.seq      = v->v_snap.seq;
        ev.source.snapshot = 1;
        cdc_apply_discard(v->v_ap);
        err = cdc_apply_add(v->v_ap, &ev, es, sizeof(es));
        if (err == CDC_ERR__BAD_EVENT) {
                v->v_sum->unmappable++;
                cdc_log(LOG_WARNING, "VERIFY",
                        "%s row the consumer would dead-letter: %s", table, es);
                *np = 0;
                return 0;
        }
        if (err) {
                snprintf(v->v_errstr, sizeof(v->v_errstr), "%s", es);
                return -1;
        }
        *np = (int)cdc_apply_pending(v->v_ap);
        return 0;
}

/* uid of "<prefix>:{u:<uid>}:<suffix>" */
static int verify_key_uid(const cdc_verify_t *v, const char *k, size_t len,
                          char *uid) {
        const char *p = k + v->v_prefix_len + 4, *e;
        if (len < v->v_prefix_len + 6 || memcmp(k + v->v_prefix_len, ":{u:", 4))
                return -1;
        e = memchr(p, '}', len - (size_t)(p - k));
        if (!e || e == p || (size_t)(e - p) >= VERIFY_IDLEN)
                return -1;
        memcpy(uid, p, (size_t)(e - p));
        uid[e - p] = '\0';
        return 0;
}

cdc_err_t verify_follow_row_cb(void *opaque, int side, json_t *row) {
        cdc_verify_t *v = opaque;
        const char *const *argv;
        const size_t *lens;
        cdc_script_id_t id;
        char uid[VERIFY_IDLEN];
        int n, argc, k;
        /* every row queues the script on the first user's keys (follower,
         * or user a of a pair), then on the second's: a row read by the
         * follower (a) column gives that user's sides, one read by the
         * followee (b) column the other's */
        size_t script = side == CDC_VSOURCE_BY_FOLLOWER ? 0 : 1;

        if (verify_map_row(v, v->v_vc->vc_cc.follow_table, row, &n))
                return VERIFY_ECB;
        if (n < 2)
                return CDC_ERR_NO_ERROR;
        argc = cdc_apply_queued(v->v_ap, script, &id, &argv, &lens);
        /* KEYS[4], other, version, tag, then (side, exists, score)... */
        if (id != CDC_SCRIPT_EDGE || argc < CDC_SCRIPT_EDGE_NKEYS + 6 ||
            (argc - CDC_SCRIPT_EDGE_NKEYS - 3) % 3 ||
            verify_key_uid(v, argv[0], lens[0], uid) ||
            lens[4] >= VERIFY_IDLEN) {
                snprintf(v->v_errstr, sizeof(v->v_errstr),
                         "unexpected mapping of a follow row");
                return VERIFY_ECB;
        }
        for (k = CDC_SCRIPT_EDGE_NKEYS + 3; k + 2 < argc; k += 3) {
                ventry_t *e;

                if (v->v_nents == v->v_cap) {
                        size_t cap   = v->v_cap ? v->v_cap * 2 : 1024;
                        ventry_t *ne = realloc(v->v_ents, cap * sizeof(*ne));
                        if (!ne)
                                return CDC_ERR__NOMEM;
                        v->v_ents = ne;
                        v->v_cap  = cap;
                }
                e = &v->v_ents[v->v_nents];
                memset(e, 0, sizeof(*e));
                memcpy(e->uid, uid, sizeof(uid));
                memcpy(e->other, argv[4], lens[4]);
                e->other[lens[4]] = '\0';
                e->set            = argv[k][0] == 'o' ? CDC_VSET_FOLLOWING
                                                      : CDC_VSET_FOLLOWERS;
                e->present        = argv[k + 1][0] == '1';
                e->score          = strtod(argv[k + 2], NULL);
                if (e->present &&
                    strtoll(argv[k + 2], NULL, 10) == VERIFY_NO_TIME)
                        e->score = NAN;
                e->row = json_incref(row);
                v->v_nents++;
        }
        cdc_apply_discard(v->v_ap);
        return CDC_ERR_NO_ERROR;
}

int verify_ent_cmp(const void *x, const void *y) {
        const ventry_t *a = x, *b = y;
        size_t al = strlen(a->uid), bl = strlen(b->uid);
        int c;
        if (al != bl)
                return al < bl ? -1 : 1;
        if ((c = strcmp(a->uid, b->uid)))
                return c;
        if (a->set != b->set)
                return a->set - b->set;
        al = strlen(a->other);
        bl = strlen(b->other);
        if (al != bl)
                return al < bl ? -1 : 1;
        return strcmp(a->other, b->other);
}

vuser_t *verify_user_new(cdc_verify_t *v, const char *uid, const ventry_t *ents,
                         size_t n) {
        static const char *const suffix[VK__CNT] = { "following", "followers",
                                                     "friends", "ver" };
        vuser_t *u                               = calloc(1, sizeof(*u));
        size_t i, nf = 0, mx;
        int k;

        if (!u)
                return NULL;
        snprintf(u->uid, sizeof(u->uid), "%s", uid);
        u->snap = v->v_snap;
        for (k = 0; k < VK__CNT; k++) {
                u->key[k] = verify_user_key(v, uid, suffix[k], &u->klen[k]);
                if (!u->key[k])
                        goto fail;
        }
        if (n) {
                u->ents = malloc(n * sizeof(*u->ents));
                if (!u->ents)
                        goto fail;
                memcpy(u->ents, ents, n * sizeof(*ents));
                for (i = 0; i < n; i++)
                        json_incref(u->ents[i].row);
                u->nents = n;
        }
        for (k = 0; k < 2; k++) {
                u->e[k] = calloc(n ? n : 1, sizeof(cdc_vmember_t));
                if (!u->e[k])
                        goto fail;
        }
        for (i = 0; i < n; i++) {
                ventry_t *e      = &u->ents[i];
                cdc_vmember_t *m = &u->e[e->set][u->en[e->set]++];
                m->id            = e->other;
                m->len           = strlen(e->other);
                m->score         = e->score;
                m->present       = e->present;
                m->row           = e->row;
                if (e->set == CDC_VSET_FOLLOWING)
                        nf++;
        }
        mx      = u->en[0] < u->en[1] ? u->en[0] : u->en[1];
        u->e[2] = calloc(mx ? mx : 1, sizeof(cdc_vmember_t));
        if (!u->e[2])
                goto fail;
        {
                cdc_vuser_t exp;
                memset(&exp, 0, sizeof(exp));
                for (k = 0; k < 2; k++) {
                        exp.m[k] = u->e[k];
                        exp.n[k] = u->en[k];
                }
                u->en[2] = cdc_vdiff_friends(&exp, u->e[2]);
        }
        (void)nf;
        return u;
fail:
        vuser_destroy(u);
        return NULL;
}

void verify_user_view(vuser_t *u, cdc_vuser_t *exp, cdc_vuser_t *red) {
        int k;
        memset(exp, 0, sizeof(*exp));
        memset(red, 0, sizeof(*red));
        exp->uid = red->uid = u->uid;
        for (k = 0; k < CDC_VSET__CNT; k++) {
                exp->m[k] = u->e[k];
                exp->n[k] = u->en[k];
                red->m[k] = u->r[k];
                red->n[k] = u->rn[k];
        }
        red->ver  = u->ver;
        red->nver = u->nver;
}

int verify_push(void ***arr, size_t *n, size_t *cap, void *p) {
        if (*n == *cap) {
                size_t nc = *cap ? *cap * 2 : 256;
                void **na = realloc(*arr, nc * sizeof(*na));
                if (!na)
                        return -1;
                *arr = na;
                *cap = nc;
        }
        (*arr)[(*n)++] = p;
        return 0;
}
