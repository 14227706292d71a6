/* Unit tests of consumer/cdc_rloss without a server: the slot -> tag
 * table, the marker key, the choice of each master's marker slot through
 * reshardings, and the check against a simulated Redis (one node, or a
 * three-master cluster) behind cdc_rcluster's link ops: a new Redis, a
 * FLUSHALL of one master, a partition assigned later, another group's
 * fields, a resharding that moves a marker. The same against real
 * redis-server: tests/integration/0067 (one node), 0068 (cluster). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cdc_rcluster.h"
#include "cdc_rloss.h"
#include "cdc_rloss_int.h"

/* ---- tags and keys ---- */

static void test_tags_cover_every_slot(void **state) {
        char es[128], key[128], tag[32];
        cdc_rloss_t *rl = cdc_rloss_new("fc", "g", es, sizeof(es));
        int s, len;
        uint32_t n;
        (void)state;

        assert_non_null(rl);
        for (s = 0; s < CDC_RCLUSTER_SLOTS; s++) {
                size_t kl = cdc_rloss_key(rl, s, key, sizeof(key));
                assert_true(kl > 0);
                /* the whole key, braces and all, hashes to the slot */
                assert_int_equal(cdc_rcluster_slot(key, kl), s);
                len = snprintf(tag, sizeof(tag), "marker:%u",
                               cdc_rloss_tag(rl, s));
                assert_int_equal(cdc_rcluster_slot(tag, (size_t)len), s);
        }
        /* smallest: no smaller number lands in slot 0's or 16383's slot */
        for (n = 0; n < cdc_rloss_tag(rl, 0); n++) {
                len = snprintf(tag, sizeof(tag), "marker:%u", n);
                assert_int_not_equal(cdc_rcluster_slot(tag, (size_t)len), 0);
        }
        for (n = 0; n < cdc_rloss_tag(rl, 16383); n++) {
                len = snprintf(tag, sizeof(tag), "marker:%u", n);
                assert_int_not_equal(cdc_rcluster_slot(tag, (size_t)len),
                                     16383);
        }
        assert_int_equal(cdc_rloss_key(rl, 0, key, 8), 0); /* too small */
        cdc_rloss_destroy(rl);
}

static void test_key_format(void **state) {
        char es[128], key[128], want[128];
        cdc_rloss_t *rl = cdc_rloss_new("app1", "g", es, sizeof(es));
        (void)state;

        assert_non_null(rl);
        snprintf(want, sizeof(want), "app1:{marker:%u}", cdc_rloss_tag(rl, 42));
        assert_int_equal(cdc_rloss_key(rl, 42, key, sizeof(key)), strlen(want));
        assert_string_equal(key, want);
        cdc_rloss_destroy(rl);
}

/* ---- marker slots through reshardings (no server) ---- */

typedef struct topo_s {
        int owner[CDC_RCLUSTER_SLOTS];
} topo_t;

static int topo_owner(void *opaque, int slot) {
        return ((topo_t *)opaque)->owner[slot];
}

static void topo_name(void *opaque, int id, char *buf, size_t size) {
        (void)opaque;
        snprintf(buf, size, "10.0.0.%d:7000", id + 1);
}

static void topo_three(topo_t *t) {
        int s;
        for (s = 0; s < CDC_RCLUSTER_SLOTS; s++)
                t->owner[s] = s <= 5460 ? 0 : s <= 10922 ? 1 : 2;
}

static void test_topology_sticky_highest(void **state) {
        cdc_rloss_topo_t tp = { topo_owner, topo_name, NULL };
        topo_t *t           = malloc(sizeof(*t));
        char es[128];
        cdc_rloss_t *rl = cdc_rloss_new("fc", "g", es, sizeof(es));
        int known, s;
        (void)state;

        tp.rt_opaque = t;
        topo_three(t);
        assert_int_equal(cdc_rloss_topology(rl, &tp), 3);
        /* first sight: the highest slot, not confirmed */
        assert_int_equal(cdc_rloss_master_slot(rl, "10.0.0.1:7000", &known),
                         5460);
        assert_int_equal(known, 0);
        assert_int_equal(cdc_rloss_master_slot(rl, "10.0.0.2:7000", &known),
                         10922);
        assert_int_equal(cdc_rloss_master_slot(rl, "10.0.0.3:7000", &known),
                         16383);
        assert_int_equal(cdc_rloss_master_slot(rl, "10.0.0.9:7000", &known),
                         -1);
        assert_int_equal(cdc_rloss_master_found(rl, "10.0.0.1:7000", 5460), 0);
        assert_int_equal(cdc_rloss_master_found(rl, "10.0.0.2:7000", 10922), 0);

        /* redis-cli reshard: node 2's lowest 100 slots go to node 1, whose
         * highest slot is now 5560: its marker stays where it was found */
        for (s = 5461; s <= 5560; s++)
                t->owner[s] = 0;
        assert_int_equal(cdc_rloss_topology(rl, &tp), 3);
        assert_int_equal(cdc_rloss_master_slot(rl, "10.0.0.1:7000", &known),
                         5460);
        assert_int_equal(known, 1);
        assert_int_equal(cdc_rloss_master_slot(rl, "10.0.0.2:7000", &known),
                         10922);
        assert_int_equal(known, 1);

        /* node 1's marker slot itself moves to node 3: node 1 falls back
         * to its highest slot, unconfirmed (searched before a loss) */
        t->owner[5460] = 2;
        assert_int_equal(cdc_rloss_topology(rl, &tp), 3);
        assert_int_equal(cdc_rloss_master_slot(rl, "10.0.0.1:7000", &known),
                         5560);
        assert_int_equal(known, 0);
        /* a master without slots is no master */
        for (s = 0; s < CDC_RCLUSTER_SLOTS; s++)
                if (t->owner[s] == 1)
                        t->owner[s] = 2;
        assert_int_equal(cdc_rloss_topology(rl, &tp), 2);
        assert_int_equal(cdc_rloss_master_slot(rl, "10.0.0.2:7000", &known),
                         -1);
        cdc_rloss_destroy(rl);
        free(t);
}

/* ---- a simulated Redis behind the link ops ---- */

#define SIM_NODES 3
#define SIM_QMAX  20000
#define SIM_KV    4096

typedef struct sim_kv_s {
        char *key, *field, *val;
} sim_kv_t;

typedef struct sim_node_s {
        int port;
        sim_kv_t kv[SIM_KV]; /* hash fields (key, field, value) */
        int nkv;
} sim_node_t;

typedef struct sim_s {
        sim_node_t n[SIM_NODES];
        int nn;
        int cluster;
        int owner[CDC_RCLUSTER_SLOTS];
        int exists_served;
        const char *refuse; /* every marker command gets this error */
} sim_t;

typedef struct sim_link_s {
        sim_t *s;
        int ni;
        int connected;
        redisReply **q;
        int qh, qt;
} sim_link_t;

static redisReply *mk(int type) {
        redisReply *r = calloc(1, sizeof(*r));
        r->type       = type;
        return r;
}

static redisReply *mk_str(int type, const char *fmt, ...) {
        redisReply *r = mk(type);
        char buf[512];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        r->str = strdup(buf);
        r->len = strlen(buf);
        return r;
}

static redisReply *mk_int(long long v) {
        redisReply *r = mk(REDIS_REPLY_INTEGER);
        r->integer    = v;
        return r;
}

static redisReply *mk_arr(size_t n) {
        redisReply *r = mk(REDIS_REPLY_ARRAY);
        r->element    = calloc(n ? n : 1, sizeof(*r->element));
        r->elements   = n;
        return r;
}

static sim_kv_t *sim_get(sim_node_t *n, const char *key, const char *field) {
        int i;
        for (i = 0; i < n->nkv; i++)
                if (!strcmp(n->kv[i].key, key) &&
                    (!field || !strcmp(n->kv[i].field, field)))
                        return &n->kv[i];
        return NULL;
}

static void sim_set(sim_node_t *n, const char *key, const char *field,
                    const char *val) {
        sim_kv_t *kv = sim_get(n, key, field);
        if (!kv) {
                assert_true(n->nkv < SIM_KV);
                kv        = &n->kv[n->nkv++];
                kv->key   = strdup(key);
                kv->field = strdup(field);
                kv->val   = NULL;
        }
        free(kv->val);
        kv->val = strdup(val);
}

static void sim_flushall(sim_node_t *n) {
        int i;
        for (i = 0; i < n->nkv; i++) {
                free(n->kv[i].key);
                free(n->kv[i].field);
                free(n->kv[i].val);
        }
        n->nkv = 0;
}

/* Move every field of slot's keys from node a to node b (MIGRATE). */
static void sim_migrate(sim_t *s, int slot, int b) {
        sim_node_t *from = &s->n[s->owner[slot]];
        int i;

        for (i = 0; i < from->nkv;) {
                if (cdc_rcluster_slot(from->kv[i].key,
                                      strlen(from->kv[i].key)) != slot) {
                        i++;
                        continue;
                }
                sim_set(&s->n[b], from->kv[i].key, from->kv[i].field,
                        from->kv[i].val);
                free(from->kv[i].key);
                free(from->kv[i].field);
                free(from->kv[i].val);
                from->kv[i] = from->kv[--from->nkv];
        }
        s->owner[slot] = b;
}

static redisReply *sim_slots(sim_t *s) {
        redisReply *r = mk_arr(CDC_RCLUSTER_SLOTS);
        size_t n      = 0;
        int a         = 0, b;

        while (a < CDC_RCLUSTER_SLOTS) {
                redisReply *e = mk_arr(3), *m = mk_arr(3);
                for (b = a; b + 1 < CDC_RCLUSTER_SLOTS &&
                            s->owner[b + 1] == s->owner[a];
                     b++)
                        ;
                e->element[0]   = mk_int(a);
                e->element[1]   = mk_int(b);
                m->element[0]   = mk_str(REDIS_REPLY_STRING, "127.0.0.1");
                m->element[1]   = mk_int(s->n[s->owner[a]].port);
                m->element[2]   = mk_str(REDIS_REPLY_STRING, "id");
                e->element[2]   = m;
                r->element[n++] = e;
                a               = b + 1;
        }
        r->elements = n;
        return r;
}

static redisReply *sim_exec(sim_link_t *lk, int argc, const char **argv) {
        sim_t *s      = lk->s;
        sim_node_t *n = &s->n[lk->ni];
        sim_kv_t *kv;
        redisReply *r;
        int i, slot;

        if (!strcmp(argv[0], "CLUSTER"))
                return s->cluster ? sim_slots(s)
                                  : mk_str(REDIS_REPLY_ERROR,
                                           "ERR This instance has cluster "
                                           "support disabled");
        if (!strcmp(argv[0], "INFO"))
                return mk_str(REDIS_REPLY_STRING, "cluster_enabled:%d\r\n",
                              s->cluster);
        assert_true(argc >= 2);
        if (s->refuse)
                return mk_str(REDIS_REPLY_ERROR, "%s", s->refuse);
        slot = cdc_rcluster_slot(argv[1], strlen(argv[1]));
        if (s->cluster && s->owner[slot] != lk->ni)
                return mk_str(REDIS_REPLY_ERROR, "MOVED %d 127.0.0.1:%d", slot,
                              s->n[s->owner[slot]].port);
        if (!strcmp(argv[0], "HMGET")) {
                r = mk_arr((size_t)argc - 2);
                for (i = 2; i < argc; i++) {
                        kv = sim_get(n, argv[1], argv[i]);
                        r->element[i - 2] =
                                kv ? mk_str(REDIS_REPLY_STRING, "%s", kv->val)
                                   : mk(REDIS_REPLY_NIL);
                }
                return r;
        }
        if (!strcmp(argv[0], "EXISTS")) {
                s->exists_served++;
                return mk_int(sim_get(n, argv[1], NULL) != NULL);
        }
        if (!strcmp(argv[0], "HSETNX")) {
                assert_int_equal(argc, 4);
                if (sim_get(n, argv[1], argv[2]))
                        return mk_int(0);
                sim_set(n, argv[1], argv[2], argv[3]);
                return mk_int(1);
        }
        if (!strcmp(argv[0], "HSET")) {
                assert_int_equal(argc % 2, 0);
                for (i = 2; i < argc; i += 2)
                        sim_set(n, argv[1], argv[i], argv[i + 1]);
                return mk_int((argc - 2) / 2);
        }
        fail_msg("unexpected command %s", argv[0]);
        return NULL;
}

static void *sim_lnew(void *opaque, const char *host, int port, char *es,
                      size_t esz) {
        sim_t *s       = opaque;
        sim_link_t *lk = calloc(1, sizeof(*lk));
        int i;
        (void)host;
        (void)es;
        (void)esz;

        lk->s  = s;
        lk->ni = -1;
        lk->q  = calloc(SIM_QMAX, sizeof(*lk->q));
        for (i = 0; i < s->nn; i++)
                if (s->n[i].port == port)
                        lk->ni = i;
        assert_true(lk->ni >= 0);
        return lk;
}

static void sim_lclose(void *link) {
        sim_link_t *lk = link;
        while (lk->qh != lk->qt)
                freeReplyObject(lk->q[lk->qh++ % SIM_QMAX]);
        lk->qh = lk->qt = 0;
        lk->connected   = 0;
}

static void sim_ldestroy(void *link) {
        sim_lclose(link);
        free(((sim_link_t *)link)->q);
        free(link);
}

static cdc_err_t sim_lconnect(void *link) {
        sim_lclose(link);
        ((sim_link_t *)link)->connected = 1;
        return CDC_ERR_NO_ERROR;
}

static int sim_lconnected(const void *link) {
        return ((const sim_link_t *)link)->connected;
}

static cdc_err_t sim_lappend(void *link, int argc, const char **argv,
                             const size_t *lens) {
        sim_link_t *lk = link;
        (void)lens;
        assert_true(lk->qt - lk->qh < SIM_QMAX);
        lk->q[lk->qt++ % SIM_QMAX] = sim_exec(lk, argc, argv);
        return CDC_ERR_NO_ERROR;
}

static cdc_err_t sim_lsend(void *link) {
        (void)link;
        return CDC_ERR_NO_ERROR;
}

static cdc_err_t sim_lget(void *link, redisReply **rp) {
        sim_link_t *lk = link;
        assert_true(lk->qh != lk->qt);
        *rp = lk->q[lk->qh++ % SIM_QMAX];
        return CDC_ERR_NO_ERROR;
}

static const char *sim_lerr(const void *link) {
        (void)link;
        return "";
}

static const cdc_rcluster_link_ops_t sim_ops = {
        sim_lnew,    sim_ldestroy, sim_lconnect, sim_lclose, sim_lconnected,
        sim_lappend, sim_lsend,    sim_lget,     sim_lerr,
};

static sim_t *sim_new(int cluster) {
        sim_t *s = calloc(1, sizeof(*s));
        int i;

        s->cluster = cluster;
        s->nn      = cluster ? 3 : 1;
        for (i = 0; i < s->nn; i++)
                s->n[i].port = 7000 + i;
        for (i = 0; i < CDC_RCLUSTER_SLOTS; i++)
                s->owner[i] = !cluster ? 0 : i <= 5460 ? 0 : i <= 10922 ? 1 : 2;
        return s;
}

static void sim_free(sim_t *s) {
        int i;
        for (i = 0; i < s->nn; i++)
                sim_flushall(&s->n[i]);
        free(s);
}

static cdc_rcluster_t *sim_router(sim_t *s) {
        cdc_rcluster_conf_t c;
        char es[256];
        cdc_rcluster_t *rc;

        memset(&c, 0, sizeof(c));
        c.rcc_nodes      = s->cluster ? "127.0.0.1:7000" : NULL;
        c.rcc_host       = "127.0.0.1";
        c.rcc_port       = 7000;
        c.rcc_ops        = &sim_ops;
        c.rcc_ops_opaque = s;
        rc               = cdc_rcluster_new(&c, es, sizeof(es));
        assert_non_null(rc);
        assert_int_equal(cdc_rcluster_connect(rc), CDC_ERR_NO_ERROR);
        return rc;
}

static int replays(const cdc_rloss_part_t *p, int n) {
        int i, r = 0;
        for (i = 0; i < n; i++)
                r += p[i].replay;
        return r;
}

/* check + (when asked) mark, as the consumer does after its commit */
static int check(cdc_rloss_t *rl, cdc_rcluster_t *rc, cdc_rloss_part_t *p,
                 int n, cdc_rloss_result_t *res) {
        assert_int_equal(cdc_rloss_check(rl, rc, p, n, res), CDC_ERR_NO_ERROR);
        assert_int_equal(res->replay, replays(p, n));
        if (res->replay)
                assert_int_equal(cdc_rloss_mark(rl, rc, p, n),
                                 CDC_ERR_NO_ERROR);
        return res->replay;
}

static void test_check_single_node(void **state) {
        sim_t *s           = sim_new(0);
        cdc_rcluster_t *rc = sim_router(s);
        char es[128];
        cdc_rloss_t *rl       = cdc_rloss_new("fc", "grp", es, sizeof(es));
        cdc_rloss_t *rl2      = cdc_rloss_new("fc", "grp", es, sizeof(es));
        cdc_rloss_t *other    = cdc_rloss_new("fc", "other", es, sizeof(es));
        cdc_rloss_part_t p[3] = { { "t.db.follow", 0, 0 },
                                  { "t.db.follow", 1, 0 },
                                  { "t.db.idempotent_log", 0, 0 } };
        cdc_rloss_result_t res;
        (void)state;

        /* a new, empty Redis: the marker is missing, every partition
         * replays (for a new group a no-op: it starts there anyway) */
        assert_int_equal(check(rl, rc, p, 3, &res), 3);
        assert_int_equal(res.lost, 1);
        assert_string_equal(res.nodes, "127.0.0.1:7000");
        /* searched every other slot before calling it a loss */
        assert_int_equal(s->exists_served, CDC_RCLUSTER_SLOTS - 1);
        /* steady state: nothing to do, no search */
        assert_int_equal(check(rl, rc, p, 3, &res), 0);
        assert_int_equal(res.lost, 0);
        assert_int_equal(s->exists_served, CDC_RCLUSTER_SLOTS - 1);
        /* a second instance of the group finds the same marker */
        assert_int_equal(check(rl2, rc, p, 3, &res), 0);

        /* another group on the same Redis has replayed nothing yet */
        assert_int_equal(check(other, rc, p, 2, &res), 2);
        assert_int_equal(res.lost, 0);

        /* restart without persistence */
        sim_flushall(&s->n[0]);
        assert_int_equal(check(rl, rc, p, 2, &res), 2);
        assert_int_equal(res.lost, 1);
        /* the other instance owns partition 2 now: the marker exists
         * again (created by the first), but without its field */
        assert_int_equal(check(rl2, rc, &p[2], 1, &res), 1);
        assert_int_equal(res.lost, 0);
        assert_int_equal(check(rl2, rc, p, 3, &res), 0);
        assert_int_equal(check(rl, rc, p, 3, &res), 0);

        /* no mark after the check (the commit failed, or the instance
         * died before it): the next check asks again */
        sim_flushall(&s->n[0]);
        assert_int_equal(cdc_rloss_check(rl, rc, p, 3, &res), CDC_ERR_NO_ERROR);
        assert_int_equal(res.replay, 3);
        assert_int_equal(cdc_rloss_check(rl2, rc, p, 3, &res),
                         CDC_ERR_NO_ERROR);
        assert_int_equal(res.lost, 0);
        assert_int_equal(res.replay, 3);

        cdc_rloss_destroy(rl);
        cdc_rloss_destroy(rl2);
        cdc_rloss_destroy(other);
        cdc_rcluster_destroy(rc);
        sim_free(s);
}

/* Redis answers every marker command with an error (out of memory, a
 * key of the wrong type): "refused", not "unreachable", and nothing is
 * decided; once it answers again the check works. */
static void test_check_refused(void **state) {
        sim_t *s           = sim_new(0);
        cdc_rcluster_t *rc = sim_router(s);
        char es[128];
        cdc_rloss_t *rl       = cdc_rloss_new("fc", "grp", es, sizeof(es));
        cdc_rloss_part_t p[2] = { { "t.db.follow", 0, 0 },
                                  { "t.db.follow", 1, 0 } };
        cdc_rloss_result_t res;
        (void)state;

        assert_int_equal(check(rl, rc, p, 2, &res), 2);
        s->refuse   = "OOM command not allowed when used memory > 'maxmemory'.";
        p[0].replay = p[1].replay = 0;
        assert_int_equal(cdc_rloss_check(rl, rc, p, 2, &res), CDC_ERR__SERVER);
        assert_non_null(
                strstr(cdc_rloss_errstr(rl), "OOM command not allowed"));
        assert_int_equal(replays(p, 2), 0);
        s->refuse = "WRONGTYPE Operation against a key holding the wrong kind "
                    "of value";
        assert_int_equal(cdc_rloss_check(rl, rc, p, 2, &res), CDC_ERR__SERVER);
        assert_non_null(strstr(cdc_rloss_errstr(rl), "WRONGTYPE"));
        s->refuse = NULL;
        assert_int_equal(check(rl, rc, p, 2, &res), 0);
        assert_int_equal(res.lost, 0);

        cdc_rloss_destroy(rl);
        cdc_rcluster_destroy(rc);
        sim_free(s);
}

static void test_check_cluster(void **state) {
        sim_t *s           = sim_new(1);
        cdc_rcluster_t *rc = sim_router(s);
        char es[128];
        cdc_rloss_t *rl = cdc_rloss_new("fc", "grp", es, sizeof(es)), *fresh;
        cdc_rloss_part_t p[2] = { { "t.db.follow", 0, 0 },
                                  { "t.db.follow", 1, 0 } };
        cdc_rloss_result_t res;
        int s0, known;
        (void)state;

        assert_int_equal(check(rl, rc, p, 2, &res), 2);
        assert_int_equal(res.lost, 3);
        assert_int_equal(check(rl, rc, p, 2, &res), 0);

        /* FLUSHALL on the second master only */
        sim_flushall(&s->n[1]);
        assert_int_equal(check(rl, rc, p, 2, &res), 2);
        assert_int_equal(res.lost, 1);
        assert_string_equal(res.nodes, "127.0.0.1:7001");
        assert_int_equal(check(rl, rc, p, 2, &res), 0);

        /* reshard: the second master's lowest slots go to the first,
         * whose highest slot changes: no loss, no replay */
        for (s0 = 5461; s0 <= 5560; s0++)
                sim_migrate(s, s0, 0);
        assert_int_equal(cdc_rcluster_connect(rc), CDC_ERR_NO_ERROR);
        assert_int_equal(check(rl, rc, p, 2, &res), 0);
        assert_int_equal(res.lost, 0);
        /* a fresh instance looks at 5560 first, searches, adopts 5460 */
        fresh = cdc_rloss_new("fc", "grp", es, sizeof(es));
        assert_int_equal(check(fresh, rc, p, 2, &res), 0);
        assert_int_equal(res.lost, 0);
        assert_int_equal(cdc_rloss_master_slot(fresh, "127.0.0.1:7000", &known),
                         5460);
        assert_int_equal(known, 1);

        /* the slot of the third master's marker moves to the first: it
         * travels with its slot (the first now holds two markers) and the
         * third master has none left: one unnecessary replay, no more */
        sim_migrate(s, 16383, 0);
        assert_int_equal(cdc_rcluster_connect(rc), CDC_ERR_NO_ERROR);
        assert_int_equal(check(rl, rc, p, 2, &res), 2);
        assert_int_equal(res.lost, 1);
        assert_string_equal(res.nodes, "127.0.0.1:7002");
        assert_int_equal(check(rl, rc, p, 2, &res), 0);
        assert_int_equal(check(fresh, rc, p, 2, &res), 0);

        cdc_rloss_destroy(fresh);
        cdc_rloss_destroy(rl);
        cdc_rcluster_destroy(rc);
        sim_free(s);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_tags_cover_every_slot),
                cmocka_unit_test(test_key_format),
                cmocka_unit_test(test_topology_sticky_highest),
                cmocka_unit_test(test_check_single_node),
                cmocka_unit_test(test_check_refused),
                cmocka_unit_test(test_check_cluster),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
