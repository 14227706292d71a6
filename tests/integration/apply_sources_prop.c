/* Property test of cdc_apply with several sources and both table models,
 * against a real Redis (H_REDIS_PORT; run by
 * tests/integration/0035-apply-sources-property.sh).
 *
 * Random histories of follow rows (model "edge": one row per direction)
 * or pair rows (model "pair": relation bits 1 = a -> b, 2 = b -> a) on up
 * to three sources: rows are created, updated, hard deleted, re-inserted,
 * moved between sources (copied then deleted, or deleted then copied) and
 * sometimes left on two sources at once. Each source numbers its changes
 * with its own, wildly different versions (never comparable across
 * sources). Each (row, source) stream is delivered in order with
 * duplicates and replays from earlier points, streams interleaved at
 * random, while the applier's connection is killed and the script cache
 * flushed between pipelines. Redis must end exactly equal (every key,
 * member, score and version field) to the state computed here: per edge
 * side and source the newest change of that source; followed iff some
 * source says so, since the latest such time; friends iff followed both
 * ways. A second delivery in another interleaving must leave Redis byte
 * for byte unchanged.
 *
 * usage: apply_sources_prop edge|pair [seed [sources [users [rows]]]]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply_testlib.h"
#include "cdc_backoff.h"

#define T0     1795000000000LL
#define PREFIX "sp"
#define MAXSRC 3

/* source 0 is the home source (untagged); the tags sort as "", "s-2.x",
 * "s1" */
static const char *const src_name[MAXSRC] = { "followcdc", "s1", "s-2.x" };
static const char *const src_tag[MAXSRC]  = { "", "s1", "s-2.x" };
static const uint64_t src_base[MAXSRC] = { 1000000ULL, 10ULL, 50000000000ULL };

typedef struct sev_s {
        cdc_op_t op;
        uint64_t seq;
        int state; /* edge: status; pair: relation bits */
        int64_t t;
} sev_t;

typedef struct stream_s {
        int row, src;
        sev_t *evs;
        int n, cap;
} stream_t;

typedef struct row_s {
        int x, y; /* edge: follower, followee; pair: a < b */
} row_t;

static uint64_t rng;
static int pair_model;

static int rnd(int n) {
        return (int)(tl_rand(&rng) % (uint64_t)n);
}

static void stream_push(stream_t *st, const sev_t *ev) {
        if (st->n == st->cap) {
                st->cap = st->cap ? st->cap * 2 : 4;
                st->evs = realloc(st->evs, (size_t)st->cap * sizeof(*st->evs));
                if (!st->evs)
                        abort();
        }
        st->evs[st->n++] = *ev;
}

static cdc_event_t *make_event(const row_t *rows, const stream_t *st,
                               const sev_t *e) {
        const row_t *r = &rows[st->row];
        cdc_event_t *ev;

        if (pair_model)
                ev = tl_ev_pair(e->op, e->seq, (uint64_t)r->x, (uint64_t)r->y,
                                e->state, e->t);
        else
                ev = tl_ev_follow(e->op, e->seq, (uint64_t)r->x, (uint64_t)r->y,
                                  e->state, e->t);
        if (e->op == CDC_OP_READ)
                ev->source.snapshot = 1;
        return tl_ev_source(ev, src_name[st->src]);
}

/* ---- chaos and delivery (as apply_prop.c) ---- */

static redisContext *chaos_rc;
static int chaos_kills, chaos_flushes;

static void chaos(void) {
        redisReply *r = NULL;

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

static void flush_retry(cdc_apply_t *ap, int with_chaos) {
        int tries;

        for (tries = 0; tries < 5; tries++) {
                if (with_chaos)
                        chaos();
                if (cdc_apply_flush(ap) == CDC_ERR_NO_ERROR)
                        return;
        }
        fprintf(stderr, "flush: %s\n", cdc_apply_errstr(ap));
        abort();
}

static void add_retry(cdc_apply_t *ap, cdc_event_t *ev, int with_chaos) {
        char errstr[256];
        cdc_err_t err = cdc_apply_add(ap, ev, errstr, sizeof(errstr));

        if (err == CDC_ERR__QUEUE_FULL) {
                flush_retry(ap, with_chaos);
                err = cdc_apply_add(ap, ev, errstr, sizeof(errstr));
        }
        if (err != CDC_ERR_NO_ERROR) {
                fprintf(stderr, "add: %s: %s\n", cdc_err2str(err), errstr);
                abort();
        }
}

static void deliver(cdc_apply_t *ap, const row_t *rows, stream_t *sts, int ns,
                    int with_chaos) {
        int live     = ns, i;
        int *pos     = calloc((size_t)ns, sizeof(int));
        int *replays = calloc((size_t)ns, sizeof(int));
        int *order   = malloc((size_t)ns * sizeof(int));

        for (i = 0; i < ns; i++)
                order[i] = i;
        while (live > 0) {
                int j = rnd(live), s = order[j];
                stream_t *st    = &sts[s];
                cdc_event_t *ev = make_event(rows, st, &st->evs[pos[s]]);

                add_retry(ap, ev, with_chaos);
                if (rnd(10) == 0) /* duplicate */
                        add_retry(ap, ev, with_chaos);
                cdc_event_destroy(ev);
                if (pos[s] > 0 && replays[s] < 2 && rnd(20) == 0) {
                        replays[s]++;
                        pos[s] = rnd(pos[s] + 1);
                } else if (++pos[s] == st->n) {
                        order[j] = order[--live];
                }
                if (rnd(100) == 0)
                        flush_retry(ap, with_chaos);
        }
        flush_retry(ap, with_chaos);
        free(pos);
        free(replays);
        free(order);
}

/* ---- histories ---- */

static int new_state(void) {
        if (pair_model) /* sometimes a bit that is not ours */
                return rnd(4) | (rnd(8) == 0 ? 4 : 0);
        return rnd(10) < 7;
}

/* Append one change of row \p r on source \p s. */
static void emit(stream_t *sts, int nsrc, int r, int s, cdc_op_t op, int state,
                 uint64_t *seq) {
        stream_t *st = &sts[r * nsrc + s];
        sev_t e;

        e.op    = op;
        e.seq   = ++seq[s];
        e.state = state;
        e.t     = T0 + (int64_t)rnd(1000000) * 1000 + rnd(1000);
        if (op != CDC_OP_DELETE && rnd(15) == 0)
                e.op = CDC_OP_READ; /* a snapshot read of that row image */
        stream_push(st, &e);
}

static void histories(stream_t *sts, int nrows, int nsrc, uint64_t *seq,
                      int *moves, int *doubles) {
        int r;

        for (r = 0; r < nrows; r++) {
                int live[MAXSRC] = { 0 }, state[MAXSRC] = { 0 };
                int k, n                                = 1 + rnd(8);

                for (k = 0; k < n; k++) {
                        int holders[MAXSRC], nh = 0, s, h, to, x;

                        for (s = 0; s < nsrc; s++)
                                if (live[s])
                                        holders[nh++] = s;
                        if (nh == 0) {
                                s        = rnd(nsrc);
                                state[s] = new_state();
                                emit(sts, nsrc, r, s, CDC_OP_CREATE, state[s],
                                     seq);
                                live[s] = 1;
                                continue;
                        }
                        h  = holders[rnd(nh)];
                        to = rnd(nsrc);
                        x  = rnd(10);
                        if (x < 5 || (x >= 6 && (to == h || live[to]))) {
                                state[h] = new_state();
                                emit(sts, nsrc, r, h, CDC_OP_UPDATE, state[h],
                                     seq);
                        } else if (x == 5) {
                                emit(sts, nsrc, r, h, CDC_OP_DELETE, state[h],
                                     seq);
                                live[h] = 0;
                        } else if (x < 9) {
                                /* a move: copy then delete, or the reverse */
                                int copy_first = rnd(3) > 0;

                                state[to] = state[h];
                                if (!copy_first)
                                        emit(sts, nsrc, r, h, CDC_OP_DELETE,
                                             state[h], seq);
                                emit(sts, nsrc, r, to, CDC_OP_CREATE, state[to],
                                     seq);
                                if (copy_first)
                                        emit(sts, nsrc, r, h, CDC_OP_DELETE,
                                             state[h], seq);
                                live[h]  = 0;
                                live[to] = 1;
                                (*moves)++;
                        } else {
                                /* a copy left behind: two live rows */
                                state[to] = new_state();
                                emit(sts, nsrc, r, to, CDC_OP_CREATE, state[to],
                                     seq);
                                live[to] = 1;
                                (*doubles)++;
                        }
                }
        }
}

/* ---- the model ---- */

/* One source's register of one edge side. */
typedef struct reg_s {
        int user, other, dir; /* dir 0: o (user -> other), 1: i */
        int src;
        uint64_t seq;
        int exists;
        int64_t score;
} reg_t;

static int reg_cmp(const void *x, const void *y) {
        const reg_t *a = x, *b = y;

        if (a->user != b->user)
                return a->user < b->user ? -1 : 1;
        if (a->dir != b->dir)
                return a->dir - b->dir;
        if (a->other != b->other)
                return a->other < b->other ? -1 : 1;
        return strcmp(src_tag[a->src], src_tag[b->src]);
}

static void add_reg(reg_t *regs, size_t *n, int user, int dir, int other,
                    int src, const sev_t *e, int exists) {
        reg_t *g  = &regs[(*n)++];
        g->user   = user;
        g->dir    = dir;
        g->other  = other;
        g->src    = src;
        g->seq    = e->seq;
        g->exists = exists;
        g->score  = e->t;
}

/* The text of a stored version: seq, row 0, epoch 0, no leading zeros. */
static void reg_text(const reg_t *g, int multi, char *buf, size_t size) {
        int o = snprintf(buf, size, "%llu0000000000",
                         (unsigned long long)g->seq);

        if (*src_tag[g->src])
                o += snprintf(buf + o, size - (size_t)o, "@%s",
                              src_tag[g->src]);
        if (multi && g->exists)
                snprintf(buf + o, size - (size_t)o, "=%lld",
                         (long long)g->score);
}

typedef struct text_s {
        char s[256];
} text_t;

static void expected(const row_t *rows, const stream_t *sts, int ns, int nu,
                     tl_buf_t *out) {
        reg_t *regs    = calloc((size_t)ns * 4 + 1, sizeof(*regs));
        tl_entry_t *en = calloc((size_t)(nu + 1) * 4, sizeof(*en));
        /* per user: following/followers/friends members, ver fields */
        tl_pair_t *pairs = calloc((size_t)ns * 4 + 8, sizeof(*pairs));
        text_t *tx       = calloc((size_t)ns * 12 + 16, sizeof(*tx));
        int64_t *fol     = calloc((size_t)(nu + 1) * (size_t)(nu + 1),
                                  sizeof(*fol)); /* -1 none */
        size_t nr = 0, ne = 0, i, j;
        int u, w;

        for (i = 0; i < (size_t)ns; i++) {
                const stream_t *st = &sts[i];
                const row_t *r     = &rows[st->row];
                const sev_t *e;
                int ab, ba;

                if (st->n == 0)
                        continue;
                e = &st->evs[st->n - 1];
                if (pair_model) {
                        ab = e->op != CDC_OP_DELETE && (e->state & 1);
                        ba = e->op != CDC_OP_DELETE && (e->state & 2);
                        add_reg(regs, &nr, r->x, 0, r->y, st->src, e, ab);
                        add_reg(regs, &nr, r->x, 1, r->y, st->src, e, ba);
                        add_reg(regs, &nr, r->y, 0, r->x, st->src, e, ba);
                        add_reg(regs, &nr, r->y, 1, r->x, st->src, e, ab);
                } else {
                        ab = e->op != CDC_OP_DELETE && e->state == 1;
                        add_reg(regs, &nr, r->x, 0, r->y, st->src, e, ab);
                        add_reg(regs, &nr, r->y, 1, r->x, st->src, e, ab);
                }
        }
        qsort(regs, nr, sizeof(*regs), reg_cmp);
        for (i = 0; i < (size_t)(nu + 1) * (size_t)(nu + 1); i++)
                fol[i] = -1;
        /* the union: x -> y followed iff some source says so, since the
         * latest time among them (from the o: side, which always exists
         * with the i: side) */
        for (i = 0; i < nr; i++)
                if (regs[i].dir == 0 && regs[i].exists &&
                    regs[i].score >
                            fol[regs[i].user * (nu + 1) + regs[i].other])
                        fol[regs[i].user * (nu + 1) + regs[i].other] =
                                regs[i].score;
        for (u = 1; u <= nu; u++) {
                static const char *const names[4] = { "following", "followers",
                                                      "friends", "ver" };

                for (w = 0; w < 4; w++) {
                        size_t np = 0, nt = 0;
                        int v;

                        if (w < 3) {
                                for (v = 1; v <= nu; v++) {
                                        int64_t a = fol[u * (nu + 1) + v];
                                        int64_t b = fol[v * (nu + 1) + u];
                                        int64_t sc;

                                        if (w == 0)
                                                sc = a;
                                        else if (w == 1)
                                                sc = b;
                                        else
                                                sc = a >= 0 && b >= 0
                                                             ? (a > b ? a : b)
                                                             : -1;
                                        if (sc < 0)
                                                continue;
                                        snprintf(tx[nt].s, sizeof(tx[nt].s),
                                                 "%d", v);
                                        snprintf(tx[nt + 1].s,
                                                 sizeof(tx[nt + 1].s), "%lld",
                                                 (long long)sc);
                                        pairs[np].a    = tx[nt].s;
                                        pairs[np].alen = strlen(tx[nt].s);
                                        pairs[np].b    = tx[nt + 1].s;
                                        pairs[np].blen = strlen(tx[nt + 1].s);
                                        np++, nt += 2;
                                }
                        } else {
                                for (i = 0; i < nr; i = j) {
                                        size_t k, o = 0;

                                        for (j = i;
                                             j < nr &&
                                             regs[j].user == regs[i].user &&
                                             regs[j].dir == regs[i].dir &&
                                             regs[j].other == regs[i].other;
                                             j++)
                                                ;
                                        if (regs[i].user != u)
                                                continue;
                                        snprintf(tx[nt].s, sizeof(tx[nt].s),
                                                 "%s:%d",
                                                 regs[i].dir ? "i" : "o",
                                                 regs[i].other);
                                        for (k = i; k < j; k++) {
                                                char one[96];

                                                reg_text(&regs[k], j - i > 1,
                                                         one, sizeof(one));
                                                o += (size_t)snprintf(
                                                        tx[nt + 1].s + o,
                                                        sizeof(tx[nt + 1].s) -
                                                                o,
                                                        "%s%s",
                                                        k > i ? ";" : "", one);
                                        }
                                        pairs[np].a    = tx[nt].s;
                                        pairs[np].alen = strlen(tx[nt].s);
                                        pairs[np].b    = tx[nt + 1].s;
                                        pairs[np].blen = strlen(tx[nt + 1].s);
                                        np++, nt += 2;
                                }
                        }
                        if (np == 0)
                                continue;
                        {
                                char key[64];

                                snprintf(key, sizeof(key), PREFIX ":{u:%d}:%s",
                                         u, names[w]);
                                en[ne].key    = strdup(key);
                                en[ne].keylen = strlen(key);
                                tl_body(&en[ne].body, w == 3 ? "hash" : "zset",
                                        -1, pairs, np);
                                ne++;
                        }
                }
        }
        tl_entries_join(en, ne, out);
        for (i = 0; i < ne; i++)
                free(en[i].key);
        free(en);
        free(regs);
        free(pairs);
        free(tx);
        free(fol);
}

int main(int argc, char **argv) {
        const char *mode = argc > 1 ? argv[1] : "edge";
        uint64_t seed    = argc > 2 ? strtoull(argv[2], NULL, 10) : 42;
        int nsrc         = argc > 3 ? (int)strtol(argv[3], NULL, 10) : 3;
        int nu           = argc > 4 ? (int)strtol(argv[4], NULL, 10) : 60;
        int nrows        = argc > 5 ? (int)strtol(argv[5], NULL, 10) : 600;
        uint64_t seq[MAXSRC];
        redisContext *rc = tl_redis_connect();
        redisReply *r;
        row_t *rows;
        stream_t *sts;
        char *used;
        cdc_apply_t *ap;
        tl_buf_t want = { 0 }, got1 = { 0 }, got2 = { 0 };
        int i, ns, nev = 0, moves = 0, doubles = 0, fails = 0;

        pair_model = !strcmp(mode, "pair");
        if ((!pair_model && strcmp(mode, "edge")) || nsrc < 1 ||
            nsrc > MAXSRC || nu < 2 || nrows < 1 ||
            (long)nrows > (long)nu * (nu - 1) / (pair_model ? 2 : 1)) {
                fprintf(stderr, "usage: apply_sources_prop edge|pair [seed "
                                "[sources(1-3) [users [rows]]]]\n");
                return 2;
        }
        rng = seed * 2654435761ULL + 7;
        for (i = 0; i < MAXSRC; i++)
                seq[i] = src_base[i];
        rows = calloc((size_t)nrows, sizeof(*rows));
        used = calloc((size_t)(nu + 1) * (size_t)(nu + 1), 1);
        for (i = 0; i < nrows; i++) {
                int x, y;

                do {
                        x = 1 + rnd(nu);
                        y = 1 + rnd(nu);
                        if (pair_model && x > y) {
                                int t = x;
                                x     = y;
                                y     = t;
                        }
                } while (x == y || used[x * (nu + 1) + y]);
                used[x * (nu + 1) + y] = 1;
                rows[i].x              = x;
                rows[i].y              = y;
        }
        ns  = nrows * nsrc;
        sts = calloc((size_t)ns, sizeof(*sts));
        for (i = 0; i < ns; i++) {
                sts[i].row = i / nsrc;
                sts[i].src = i % nsrc;
        }
        histories(sts, nrows, nsrc, seq, &moves, &doubles);
        /* keep only streams with events */
        {
                int k = 0;

                for (i = 0; i < ns; i++) {
                        nev += sts[i].n;
                        if (sts[i].n)
                                sts[k++] = sts[i];
                        else
                                free(sts[i].evs);
                }
                ns = k;
        }

        r = tl_cmdv(rc, "FLUSHALL", NULL);
        freeReplyObject(r);
        chaos_rc = rc;
        ap       = pair_model ? tl_apply_new_pair(PREFIX, 64)
                              : tl_apply_new(PREFIX, 64, 0);
        deliver(ap, rows, sts, ns, 1);
        expected(rows, sts, ns, nu, &want);
        tl_listing(rc, PREFIX, &got1);
        if (want.len != got1.len || memcmp(want.p, got1.p, want.len) != 0) {
                tl_listing_diff(&want, &got1);
                fails++;
        }
        /* everything again, another interleaving, no chaos: byte-identical */
        deliver(ap, rows, sts, ns, 0);
        tl_listing(rc, PREFIX, &got2);
        if (got1.len != got2.len || memcmp(got1.p, got2.p, got1.len) != 0) {
                fprintf(stderr, "second delivery changed Redis\n");
                tl_listing_diff(&got1, &got2);
                fails++;
        }
        printf("apply_sources_prop %s: seed=%llu sources=%d users=%d rows=%d "
               "events=%d moves=%d doubles=%d kills=%d script_flushes=%d "
               "listing=%zu bytes: %s\n",
               mode, (unsigned long long)seed, nsrc, nu, nrows, nev, moves,
               doubles, chaos_kills, chaos_flushes, want.len,
               fails ? "FAIL" : "ok");
        cdc_apply_destroy(ap);
        for (i = 0; i < ns; i++)
                free(sts[i].evs);
        free(sts);
        free(rows);
        free(used);
        tl_buf_free(&want);
        tl_buf_free(&got1);
        tl_buf_free(&got2);
        redisFree(rc);
        return fails ? 1 : 0;
}
