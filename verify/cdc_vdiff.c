/**
 * @file cdc_vdiff.c
 * @brief Expected vs held state of one user or idempotency record.
 */
#include "cdc_vdiff.h"

#include <stdlib.h>
#include <string.h>

static const char *const vkind_names[CDC_VK__CNT] = {
        "missing_member", "extra_member", "wrong_score", "wrong_count",
        "missing_idem",   "extra_idem",   "wrong_idem",
};

static const char *const vset_names[CDC_VSET__CNT] = { "following", "followers",
                                                       "friends" };

const char *cdc_vkind_name(cdc_vkind_t k) {
        return (unsigned)k < CDC_VK__CNT ? vkind_names[k] : "?";
}

const char *cdc_vset_name(cdc_vset_t s) {
        return (unsigned)s < CDC_VSET__CNT ? vset_names[s] : "?";
}

/* The home source's version in a stored register list: "<ver>", or
 * "<reg>;<reg>..." with each "<ver>[@<tag>][=<score>]" (schemas/redis.md,
 * "Several sources"); the home register has no tag. */
static const char *vdiff_home_ver(const char *v, size_t len, size_t *outlen) {
        size_t i = 0;

        while (i < len) {
                size_t j   = i, d;
                int tagged = 0;

                while (j < len && v[j] != ';') {
                        if (v[j] == '@')
                                tagged = 1;
                        j++;
                }
                if (!tagged) {
                        for (d = i; d < j && v[d] >= '0' && v[d] <= '9'; d++)
                                ;
                        *outlen = d - i;
                        return v + i;
                }
                i = j + 1;
        }
        *outlen = 0;
        return NULL;
}

int cdc_vdiff_newer(const char *ver, size_t len, const cdc_vsnap_t *snap) {
        uint64_t epoch = 0, seq = 0;
        size_t i, pad;

        if (!ver)
                return 0;
        ver = vdiff_home_ver(ver, len, &len);
        if (!ver || len == 0 || len > 40)
                return 0;
        for (i = 0; i < len; i++)
                if (ver[i] < '0' || ver[i] > '9')
                        return 0;
        /* the fixed-width text is epoch(10) seq(20) row(10); Redis drops
         * the leading zeros */
        pad = 40 - len;
        for (i = 0; i < 30; i++) {
                int d = i < pad ? 0 : ver[i - pad] - '0';
                if (i < 10)
                        epoch = epoch * 10 + (uint64_t)d;
                else
                        seq = seq * 10 + (uint64_t)d;
        }
        if (epoch != snap->epoch)
                return epoch > snap->epoch;
        return snap->gtid ? seq > snap->seq : seq >= snap->seq;
}

/* Numeric order for canonical decimal ids (shorter first, then bytes);
 * any other text sorts consistently too. */
static int vdiff_idcmp(const char *a, size_t al, const char *b, size_t bl) {
        int c;
        if (al != bl)
                return al < bl ? -1 : 1;
        c = memcmp(a, b, al);
        return c;
}

static int vdiff_member_cmp(const void *x, const void *y) {
        const cdc_vmember_t *a = x, *b = y;
        return vdiff_idcmp(a->id, a->len, b->id, b->len);
}

static int vdiff_ver_cmp(const void *x, const void *y) {
        const cdc_vver_t *a = x, *b = y;
        return vdiff_idcmp(a->field, a->flen, b->field, b->flen);
}

void cdc_vdiff_sort_members(cdc_vmember_t *m, size_t n) {
        if (n > 1)
                qsort(m, n, sizeof(*m), vdiff_member_cmp);
}

void cdc_vdiff_sort_ver(cdc_vver_t *v, size_t n) {
        if (n > 1)
                qsort(v, n, sizeof(*v), vdiff_ver_cmp);
}

size_t cdc_vdiff_friends(const cdc_vuser_t *exp, cdc_vmember_t *out) {
        const cdc_vmember_t *a = exp->m[CDC_VSET_FOLLOWING];
        const cdc_vmember_t *b = exp->m[CDC_VSET_FOLLOWERS];
        size_t na = exp->n[CDC_VSET_FOLLOWING], nb = exp->n[CDC_VSET_FOLLOWERS];
        size_t i = 0, j = 0, k = 0;

        while (i < na && j < nb) {
                int c;
                if (!a[i].present) {
                        i++;
                        continue;
                }
                if (!b[j].present) {
                        j++;
                        continue;
                }
                c = vdiff_idcmp(a[i].id, a[i].len, b[j].id, b[j].len);
                if (c < 0) {
                        i++;
                } else if (c > 0) {
                        j++;
                } else {
                        out[k]       = a[i];
                        out[k].score = a[i].score > b[j].score ? a[i].score
                                                               : b[j].score;
                        out[k].row   = NULL;
                        k++;
                        i++;
                        j++;
                }
        }
        return k;
}

/* The version Redis holds for field "<p><id>" (p = "o:" or "i:"). */
static const cdc_vver_t *vdiff_ver(const cdc_vuser_t *red, const char *p,
                                   const char *id, size_t len) {
        size_t lo = 0, hi = red->nver;

        while (lo < hi) {
                size_t mid          = lo + (hi - lo) / 2;
                const cdc_vver_t *v = &red->ver[mid];
                size_t fl           = 2 + len;
                int c;
                if (v->flen != fl) {
                        c = v->flen < fl ? -1 : 1;
                } else {
                        c = memcmp(v->field, p, 2);
                        if (!c)
                                c = memcmp(v->field + 2, id, len);
                }
                if (!c)
                        return v;
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return NULL;
}

/* Is a difference on member id of set s a change newer than the read?
 * Sets out the version shown in the report (the newest that applies). */
static int vdiff_member_newer(const cdc_vuser_t *red, cdc_vset_t s,
                              const char *id, size_t len,
                              const cdc_vsnap_t *snap, const char **verp) {
        const cdc_vver_t *o = NULL, *i = NULL;

        if (s != CDC_VSET_FOLLOWERS)
                o = vdiff_ver(red, "o:", id, len);
        if (s != CDC_VSET_FOLLOWING)
                i = vdiff_ver(red, "i:", id, len);
        *verp = o ? o->ver : i ? i->ver : "";
        if (o && cdc_vdiff_newer(o->ver, o->vlen, snap))
                return 1;
        if (i && cdc_vdiff_newer(i->ver, i->vlen, snap))
                return 1;
        return 0;
}

size_t cdc_vdiff_user(const cdc_vuser_t *exp, const cdc_vuser_t *red,
                      const cdc_vsnap_t *snap, cdc_vdiff_cb_t *cb, void *opaque,
                      cdc_vdiff_stats_t *st) {
        size_t reported = 0;
        int s;

        for (s = 0; s < CDC_VSET__CNT; s++) {
                const cdc_vmember_t *e = exp->m[s], *r = red->m[s];
                size_t ne = exp->n[s], nr = red->n[s], i = 0, j = 0;
                size_t npresent = 0, nskipped = 0, nset = 0;
                cdc_vdiff_t d;

                while (i < ne || j < nr) {
                        int c;
                        const char *ver;

                        if (i < ne && j < nr)
                                c = vdiff_idcmp(e[i].id, e[i].len, r[j].id,
                                                r[j].len);
                        else
                                c = i < ne ? -1 : 1;
                        memset(&d, 0, sizeof(d));
                        d.uid = exp->uid;
                        d.set = (cdc_vset_t)s;
                        if (c < 0) {
                                /* MySQL only */
                                if (e[i].present) {
                                        npresent++;
                                        st->edges++;
                                        d.kind        = CDC_VK_MISSING;
                                        d.member      = e[i].id;
                                        d.member_len  = e[i].len;
                                        d.has_mysql   = 1;
                                        d.mysql_score = e[i].score;
                                        d.mysql_row   = e[i].row;
                                        goto report;
                                }
                                i++;
                                continue;
                        }
                        if (c > 0 || !e[i].present) {
                                /* Redis only (or MySQL says unfollowed) */
                                d.kind        = CDC_VK_EXTRA;
                                d.member      = r[j].id;
                                d.member_len  = r[j].len;
                                d.has_redis   = 1;
                                d.redis_score = r[j].score;
                                if (c == 0)
                                        d.mysql_row = e[i].row;
                                goto report;
                        }
                        /* both */
                        npresent++;
                        st->edges++;
                        if (e[i].score == r[j].score) {
                                i++;
                                j++;
                                continue;
                        }
                        d.kind        = CDC_VK_WRONG_SCORE;
                        d.member      = e[i].id;
                        d.member_len  = e[i].len;
                        d.has_mysql   = 1;
                        d.mysql_score = e[i].score;
                        d.mysql_row   = e[i].row;
                        d.has_redis   = 1;
                        d.redis_score = r[j].score;
report:
                        if (vdiff_member_newer(red, (cdc_vset_t)s, d.member,
                                               d.member_len, snap, &ver)) {
                                st->newer++;
                                nskipped++;
                        } else {
                                d.redis_ver = ver;
                                st->diffs[d.kind]++;
                                reported++;
                                nset++;
                                if (cb && cb(opaque, &d))
                                        return reported;
                        }
                        if (c <= 0)
                                i++;
                        if (c >= 0)
                                j++;
                }
                if (npresent != nr && nset > 0 && !nskipped) {
                        memset(&d, 0, sizeof(d));
                        d.uid         = exp->uid;
                        d.set         = (cdc_vset_t)s;
                        d.kind        = CDC_VK_WRONG_COUNT;
                        d.mysql_count = npresent;
                        d.redis_count = nr;
                        d.redis_ver   = "";
                        st->diffs[d.kind]++;
                        reported++;
                        if (cb && cb(opaque, &d))
                                return reported;
                }
        }
        return reported;
}

static int vdiff_streq(const char *a, const char *b) {
        return !strcmp(a ? a : "", b ? b : "");
}

int cdc_vdiff_idem(const cdc_videm_t *exp, const cdc_videm_t *red,
                   const cdc_vsnap_t *snap, int64_t now_ms, int64_t slack_ms,
                   cdc_vdiff_cb_t *cb, void *opaque, cdc_vdiff_stats_t *st) {
        cdc_vdiff_t d;
        int exp_live = exp && exp->present;
        int red_live = red && red->present;

        /* an expiry too close to now can't be judged: either side may
         * just have dropped it */
        if (exp && exp->expire_ms >= 0 && exp->expire_ms > now_ms - slack_ms &&
            exp->expire_ms <= now_ms + slack_ms)
                return 0;
        if (red && red->present && red->expire_ms >= 0 &&
            red->expire_ms <= now_ms + slack_ms)
                return 0;
        if (exp_live)
                st->edges++;
        memset(&d, 0, sizeof(d));
        d.mysql_expire_ms = d.redis_expire_ms = -1;
        if (exp) {
                d.member          = exp->rid;
                d.member_len      = exp->rid_len;
                d.mysql_row       = exp->row;
                d.has_mysql       = exp_live;
                d.mysql_status    = exp_live ? exp->status : NULL;
                d.mysql_biz       = exp_live ? exp->biz : NULL;
                d.mysql_biz_len   = exp_live ? exp->biz_len : 0;
                d.mysql_expire_ms = exp_live ? exp->expire_ms : -1;
        }
        if (red) {
                d.member          = red->rid;
                d.member_len      = red->rid_len;
                d.has_redis       = red_live;
                d.redis_status    = red_live ? red->status : NULL;
                d.redis_biz       = red_live ? red->biz : NULL;
                d.redis_biz_len   = red_live ? red->biz_len : 0;
                d.redis_expire_ms = red_live ? red->expire_ms : -1;
                d.redis_ver       = red->ver ? red->ver : "";
        } else {
                d.redis_ver = "";
        }
        if (exp_live && !red_live)
                d.kind = CDC_VK_IDEM_MISSING;
        else if (!exp_live && red_live)
                d.kind = CDC_VK_IDEM_EXTRA;
        else if (!exp_live && !red_live)
                return 0;
        else if (vdiff_streq(exp->status, red->status) &&
                 exp->biz_len == red->biz_len &&
                 (exp->biz_len == 0 ||
                  !memcmp(exp->biz, red->biz, exp->biz_len)) &&
                 red->expire_ms >= exp->expire_ms - slack_ms &&
                 red->expire_ms <= exp->expire_ms + slack_ms)
                return 0;
        else
                d.kind = CDC_VK_IDEM_WRONG;
        if (red && red->ver && cdc_vdiff_newer(red->ver, red->vlen, snap)) {
                st->newer++;
                return 0;
        }
        st->diffs[d.kind]++;
        if (cb)
                cb(opaque, &d);
        return 1;
}
