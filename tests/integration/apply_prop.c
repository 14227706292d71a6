/* Property test of cdc_apply against a real Redis (H_REDIS_PORT; run by
 * tests/integration/0031-apply-property.sh).
 *
 * Random histories of follow edges and idempotency rows (increasing
 * versions) are delivered with duplicates, replays from earlier offsets
 * and random interleavings that keep each row's order. Redis must end
 * exactly equal (every key, type, content, expiry) to the state computed
 * here in C from the newest change of each row; delivering everything a
 * second time, in another interleaving, must leave Redis byte-identical.
 * During the first delivery the applier's connection is killed and the
 * script cache flushed at random points between pipelines.
 *
 * usage: apply_prop [seed [users [edges [requests]]]]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply_testlib.h"
#include "cdc_backoff.h"

#define T0     1795000000000LL
#define HOUR   (3600LL * 1000)
#define DAY    (24 * HOUR)
#define TTL    (7 * DAY)
#define PREFIX "pt"

typedef struct pev_s {
        int kind; /* 0 follow, 1 idem */
        int key;  /* edge or request index */
        cdc_op_t op;
        uint64_t seq;
        int status;
        int64_t t; /* follow: updated_at; idem: created_at */
} pev_t;

typedef struct pkey_s {
        int f, e;     /* follow edge */
        char rid[32]; /* idem request id (binary) */
        size_t ridlen;
        pev_t *evs;
        int n, cap;
} pkey_t;

static uint64_t rng;

static int rnd(int n) {
        return (int)(tl_rand(&rng) % (uint64_t)n);
}

static void key_push(pkey_t *k, const pev_t *ev) {
        if (k->n == k->cap) {
                k->cap = k->cap ? k->cap * 2 : 8;
                k->evs = realloc(k->evs, (size_t)k->cap * sizeof(*k->evs));
                if (!k->evs)
                        abort();
        }
        k->evs[k->n++] = *ev;
}

static cdc_event_t *make_event(const pkey_t *keys, const pkey_t *rids,
                               const pev_t *pe) {
        if (pe->kind == 0)
                return tl_ev_follow(pe->op, pe->seq, (uint64_t)keys[pe->key].f,
                                    (uint64_t)keys[pe->key].e, pe->status,
                                    pe->t);
        return tl_ev_idem(pe->op, pe->seq, rids[pe->key].rid,
                          rids[pe->key].ridlen, "biz", pe->status, pe->t);
}

/* Chaos between pipelines: the applier's connection is killed, or the
 * script cache flushed; the flush must recover (reconnect, NOSCRIPT) and
 * nothing may be lost or applied wrongly. */
static redisContext *chaos_rc;
static int chaos_kills, chaos_flushes;

static void chaos(void) {
        redisReply *r = NULL;

        if (!chaos_rc)
                return;
        if (rnd(25) == 0) {
                r = tl_cmdv(chaos_rc, "CLIENT", "KILL", "TYPE", "normal",
                            "SKIPME", "yes", NULL);
                chaos_kills++;
        } else if (rnd(25) == 0) {
                r = tl_cmdv(chaos_rc, "SCRIPT", "FLUSH", NULL);
                chaos_flushes++;
        }
        if (r)
                freeReplyObject(r);
}

/* Flush, retrying after a lost connection as the consumer does. */
static void flush_retry(cdc_apply_t *ap) {
        int tries;

        for (tries = 0; tries < 5; tries++) {
                chaos();
                if (cdc_apply_flush(ap) == CDC_ERR_NO_ERROR)
                        return;
        }
        fprintf(stderr, "flush: %s\n", cdc_apply_errstr(ap));
        abort();
}

static void add_retry(cdc_apply_t *ap, cdc_event_t *ev) {
        char errstr[256];
        cdc_err_t err = cdc_apply_add(ap, ev, errstr, sizeof(errstr));

        if (err == CDC_ERR__QUEUE_FULL) {
                flush_retry(ap);
                err = cdc_apply_add(ap, ev, errstr, sizeof(errstr));
        }
        if (err != CDC_ERR_NO_ERROR) {
                fprintf(stderr, "add: %s: %s\n", cdc_err2str(err), errstr);
                abort();
        }
}

/* One delivery of every stream: per stream its events in order with
 * duplicates and replays from an earlier point; streams interleaved at
 * random. Random early flushes vary the pipeline boundaries. */
static void deliver(cdc_apply_t *ap, pkey_t *edges, int ne, pkey_t *rids,
                    int nr) {
        int ns = ne + nr, live = ns, i;
        int *pos     = calloc((size_t)ns, sizeof(int));
        int *replays = calloc((size_t)ns, sizeof(int));
        int *order   = malloc((size_t)ns * sizeof(int));

        for (i = 0; i < ns; i++)
                order[i] = i;
        while (live > 0) {
                int j = rnd(live), s = order[j];
                pkey_t *k       = s < ne ? &edges[s] : &rids[s - ne];
                const pev_t *pe = &k->evs[pos[s]];
                cdc_event_t *ev = make_event(edges, rids, pe);

                add_retry(ap, ev);
                if (rnd(10) == 0) /* duplicate */
                        add_retry(ap, ev);
                cdc_event_destroy(ev);
                if (pos[s] > 0 && replays[s] < 2 && rnd(20) == 0) {
                        /* redelivery from an earlier offset */
                        replays[s]++;
                        pos[s] = rnd(pos[s] + 1);
                } else if (++pos[s] == k->n) {
                        order[j] = order[--live];
                }
                if (rnd(100) == 0)
                        flush_retry(ap);
        }
        flush_retry(ap);
        free(pos);
        free(replays);
        free(order);
}

/* The version as stored: seq then the 10-digit row (0), no leading
 * zeros (epoch 0). */
static void version_text(uint64_t seq, char *buf) {
        snprintf(buf, CDC_VERSION_LEN + 1, "%llu0000000000",
                 (unsigned long long)seq);
}

/* Expected listing, from the newest change of each row. */
static void expected(pkey_t *edges, int ne, pkey_t *rids, int nr, int nu,
                     int64_t now, tl_buf_t *out) {
        tl_entry_t *ents =
                calloc((size_t)(nu + 1) * 4 + (size_t)nr, sizeof(*ents));
        tl_pair_t *pairs = calloc((size_t)ne * 2 + 4, sizeof(*pairs));
        char(*txt)[48]   = calloc((size_t)ne * 4 + 8, sizeof(*txt));
        size_t nent      = 0;
        int u, i;

        for (u = 1; u <= nu; u++) {
                static const char *const names[4] = { "following", "followers",
                                                      "friends", "ver" };
                int w;

                for (w = 0; w < 4; w++) {
                        size_t np = 0, nt = 0;

                        for (i = 0; i < ne; i++) {
                                const pev_t *last =
                                        &edges[i].evs[edges[i].n - 1];
                                int live = last->op != CDC_OP_DELETE &&
                                           last->status == 1;
                                int other;
                                int64_t score = last->t;

                                if (w == 3) {
                                        if (edges[i].f != u && edges[i].e != u)
                                                continue;
                                        /* o:<e> in f's hash, i:<f> in e's */
                                        if (edges[i].f == u) {
                                                snprintf(txt[nt], 48, "o:%d",
                                                         edges[i].e);
                                                version_text(last->seq,
                                                             txt[nt + 1]);
                                                pairs[np].a = txt[nt];
                                                pairs[np].alen =
                                                        strlen(txt[nt]);
                                                pairs[np].b = txt[nt + 1];
                                                pairs[np].blen =
                                                        strlen(txt[nt + 1]);
                                                np++, nt += 2;
                                        }
                                        if (edges[i].e == u) {
                                                snprintf(txt[nt], 48, "i:%d",
                                                         edges[i].f);
                                                version_text(last->seq,
                                                             txt[nt + 1]);
                                                pairs[np].a = txt[nt];
                                                pairs[np].alen =
                                                        strlen(txt[nt]);
                                                pairs[np].b = txt[nt + 1];
                                                pairs[np].blen =
                                                        strlen(txt[nt + 1]);
                                                np++, nt += 2;
                                        }
                                        continue;
                                }
                                if (!live)
                                        continue;
                                if (w == 0 && edges[i].f == u)
                                        other = edges[i].e;
                                else if (w == 1 && edges[i].e == u)
                                        other = edges[i].f;
                                else if (w == 2 && edges[i].f == u) {
                                        /* friend iff the reverse edge lives */
                                        int j, found = 0;

                                        other = edges[i].e;
                                        for (j = 0; j < ne; j++) {
                                                const pev_t *l2;

                                                if (edges[j].f != other ||
                                                    edges[j].e != u)
                                                        continue;
                                                l2 = &edges[j].evs[edges[j].n -
                                                                   1];
                                                if (l2->op != CDC_OP_DELETE &&
                                                    l2->status == 1) {
                                                        found = 1;
                                                        if (l2->t > score)
                                                                score = l2->t;
                                                }
                                        }
                                        if (!found)
                                                continue;
                                } else
                                        continue;
                                snprintf(txt[nt], 48, "%d", other);
                                snprintf(txt[nt + 1], 48, "%lld",
                                         (long long)score);
                                pairs[np].a    = txt[nt];
                                pairs[np].alen = strlen(txt[nt]);
                                pairs[np].b    = txt[nt + 1];
                                pairs[np].blen = strlen(txt[nt + 1]);
                                np++, nt += 2;
                        }
                        if (np == 0)
                                continue;
                        {
                                char key[64];
                                tl_entry_t *en = &ents[nent++];

                                snprintf(key, sizeof(key), PREFIX ":{u:%d}:%s",
                                         u, names[w]);
                                en->key    = strdup(key);
                                en->keylen = strlen(key);
                                tl_body(&en->body, w == 3 ? "hash" : "zset", -1,
                                        pairs, np);
                        }
                }
        }
        for (i = 0; i < nr; i++) {
                const pev_t *last = &rids[i].evs[rids[i].n - 1];
                int64_t exp       = last->t + TTL;
                char ver[CDC_VERSION_LEN + 1], st[16];
                tl_entry_t *en;
                size_t kl;

                if (exp <= now)
                        continue;
                version_text(last->seq, ver);
                en = &ents[nent++];
                {
                        const size_t pl = strlen(PREFIX ":idem:{r:");

                        kl = pl + rids[i].ridlen + 1 +
                             (last->op == CDC_OP_DELETE ? 4 : 0);
                        en->key = malloc(kl + 5);
                        memcpy(en->key, PREFIX ":idem:{r:", pl);
                        memcpy(en->key + pl, rids[i].rid, rids[i].ridlen);
                        memcpy(en->key + pl + rids[i].ridlen, "}:del", 5);
                }
                en->keylen = kl;
                if (last->op == CDC_OP_DELETE) {
                        tl_pair_t p = { "", 0, ver, strlen(ver) };

                        tl_body(&en->body, "string", exp, &p, 1);
                } else {
                        tl_pair_t p[3] = { { "status", 6, st, 0 },
                                           { "biz_key", 7, "biz", 3 },
                                           { "ver", 3, ver, strlen(ver) } };

                        snprintf(st, sizeof(st), "%d", last->status);
                        p[0].blen = strlen(st);
                        tl_body(&en->body, "hash", exp, p, 3);
                }
        }
        tl_entries_join(ents, nent, out);
        for (i = 0; i < (int)nent; i++)
                free(ents[i].key);
        free(ents);
        free(pairs);
        free(txt);
}

int main(int argc, char **argv) {
        uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 10) : 42;
        int nu        = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 200;
        int ne        = argc > 3 ? (int)strtol(argv[3], NULL, 10) : 2000;
        int nr        = argc > 4 ? (int)strtol(argv[4], NULL, 10) : 300;
        pkey_t *edges, *rids;
        int *left, nleft = 0, i;
        int *rem;
        uint64_t seq     = 0;
        int64_t now      = cdc_wallclock_ms();
        redisContext *rc = tl_redis_connect();
        redisReply *r;
        cdc_apply_t *ap;
        cdc_apply_stats_t st;
        tl_buf_t want = { 0 }, got1 = { 0 }, got2 = { 0 };
        int fails = 0, nev = 0;
        char *edge_used;

        if (nu < 2 || ne < 1 || nr < 0 || (long)ne > (long)nu * (nu - 1)) {
                fprintf(stderr, "bad arguments\n");
                return 2;
        }
        rng       = seed * 2654435761ULL + 1;
        edges     = calloc((size_t)ne, sizeof(*edges));
        rids      = calloc((size_t)nr + 1, sizeof(*rids));
        edge_used = calloc((size_t)(nu + 1) * (size_t)(nu + 1), 1);
        /* distinct directed edges */
        for (i = 0; i < ne; i++) {
                int f, e;

                do {
                        f = 1 + rnd(nu);
                        e = 1 + rnd(nu);
                } while (f == e || edge_used[f * (nu + 1) + e]);
                edge_used[f * (nu + 1) + e] = 1;
                edges[i].f                  = f;
                edges[i].e                  = e;
        }
        /* request ids, some with bytes that must stay data: } { NUL CR */
        for (i = 0; i < nr; i++) {
                int n = snprintf(rids[i].rid, sizeof(rids[i].rid), "req-%d", i);

                if (i % 7 == 0) {
                        memcpy(rids[i].rid + n, "}{\0\r\n", 5);
                        n += 5;
                }
                rids[i].ridlen = (size_t)n;
        }
        /* histories: 1..6 changes per row, versions from one global
         * counter in a random global order */
        left = malloc(sizeof(int) * (size_t)(ne + nr));
        rem  = malloc(sizeof(int) * (size_t)(ne + nr));
        for (i = 0; i < ne + nr; i++) {
                left[nleft++] = i;
                rem[i]        = 1 + rnd(6);
        }
        {
                int64_t *ctime = calloc((size_t)nr + 1, sizeof(int64_t));

                for (i = 0; i < nr; i++)
                        ctime[i] = rnd(2) ? now - rnd(5 * 24) * HOUR
                                          : now - 8 * DAY - rnd(48) * HOUR;
                while (nleft > 0) {
                        int j = rnd(nleft), s = left[j];
                        pkey_t *k  = s < ne ? &edges[s] : &rids[s - ne];
                        int exists = k->n > 0 &&
                                     k->evs[k->n - 1].op != CDC_OP_DELETE;
                        pev_t pe;

                        memset(&pe, 0, sizeof(pe));
                        pe.kind = s < ne ? 0 : 1;
                        pe.key  = s < ne ? s : s - ne;
                        pe.seq  = ++seq;
                        if (!exists) {
                                pe.op     = CDC_OP_CREATE;
                                pe.status = pe.kind == 0 ? rnd(10) > 0 : 1;
                                if (pe.kind == 1 && k->n > 0)
                                        ctime[pe.key] += rnd(60) * 60000;
                        } else {
                                int x = rnd(10);

                                pe.op     = x < 2   ? CDC_OP_DELETE
                                            : x < 3 ? CDC_OP_READ
                                                    : CDC_OP_UPDATE;
                                pe.status = k->evs[k->n - 1].status;
                                if (pe.op == CDC_OP_UPDATE)
                                        pe.status = pe.kind == 0 ? rnd(2)
                                                                 : 1 + rnd(3);
                        }
                        pe.t = pe.kind == 0 ? T0 + (int64_t)seq : ctime[pe.key];
                        key_push(k, &pe);
                        nev++;
                        if (--rem[s] == 0)
                                left[j] = left[--nleft];
                }
                free(ctime);
        }

        r = tl_cmdv(rc, "FLUSHALL", NULL);
        freeReplyObject(r);
        ap       = tl_apply_new(PREFIX, 256, TTL);
        chaos_rc = rc;
        deliver(ap, edges, ne, rids, nr);
        chaos_rc = NULL;
        tl_listing(rc, PREFIX, &got1);
        expected(edges, ne, rids, nr, nu, now, &want);
        if (want.len != got1.len || memcmp(want.p, got1.p, want.len) != 0) {
                fprintf(stderr, "FAIL: Redis differs from the newest rows\n");
                tl_listing_diff(&want, &got1);
                fails++;
        }
        /* everything again, another interleaving: nothing may change */
        deliver(ap, edges, ne, rids, nr);
        tl_listing(rc, PREFIX, &got2);
        if (got1.len != got2.len || memcmp(got1.p, got2.p, got1.len) != 0) {
                fprintf(stderr, "FAIL: a second delivery changed Redis\n");
                tl_listing_diff(&got1, &got2);
                fails++;
        }
        cdc_apply_stats(ap, &st);
        if (st.applied + st.stale + st.expired != st.scripts) {
                fprintf(stderr, "FAIL: stats do not add up\n");
                fails++;
        }
        r = tl_cmdv(rc, "DBSIZE", NULL);
        printf("apply_prop seed=%llu users=%d edges=%d requests=%d "
               "changes=%d: events=%llu scripts=%llu applied=%llu "
               "stale=%llu expired=%llu round_trips=%llu keys=%lld "
               "listing=%zu bytes; chaos: %d connection kills, %d script "
               "flushes: %s\n",
               (unsigned long long)seed, nu, ne, nr, nev,
               (unsigned long long)st.events, (unsigned long long)st.scripts,
               (unsigned long long)st.applied, (unsigned long long)st.stale,
               (unsigned long long)st.expired,
               (unsigned long long)st.round_trips, r->integer, got1.len,
               chaos_kills, chaos_flushes, fails ? "FAIL" : "ok");
        freeReplyObject(r);
        cdc_apply_destroy(ap);
        for (i = 0; i < ne; i++)
                free(edges[i].evs);
        for (i = 0; i < nr; i++)
                free(rids[i].evs);
        free(edges);
        free(rids);
        free(left);
        free(rem);
        free(edge_used);
        tl_buf_free(&want);
        tl_buf_free(&got1);
        tl_buf_free(&got2);
        redisFree(rc);
        return fails ? 1 : 0;
}
