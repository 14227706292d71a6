/* Unit tests of consumer/cdc_rcluster without a server: the key slot
 * function (vectors checked against redis-server 7.0 CLUSTER KEYSLOT),
 * the parsers of error replies, addresses and CLUSTER SLOTS, and the
 * routing and redirect logic against a simulated cluster behind the
 * link ops seam (MOVED, ASK, TRYAGAIN, CLUSTERDOWN, NOSCRIPT, WAIT, a
 * dead node and its failover, mode mismatches). The same logic against
 * real redis-server clusters: tests/integration/0060-0064. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cdc_rcluster.h"
#include "cdc_rcluster_int.h"

/* ---- slots ---- */

static int slot_of(const char *k) {
        return cdc_rcluster_slot(k, strlen(k));
}

static void test_crc16_vector(void **state) {
        (void)state;
        assert_int_equal(cdc_rcluster_crc16("123456789", 9), 0x31C3);
        assert_int_equal(cdc_rcluster_crc16("", 0), 0);
}

static void test_slot_vectors(void **state) {
        (void)state;
        /* redis-server 7.0: CLUSTER KEYSLOT <key> */
        assert_int_equal(slot_of("foo"), 12182);
        assert_int_equal(slot_of("bar"), 5061);
        assert_int_equal(slot_of("hello"), 866);
        assert_int_equal(slot_of("somekey"), 11058);
        assert_int_equal(slot_of("123456789"), 12739);
        assert_int_equal(slot_of(""), 0);
        assert_int_equal(slot_of("fc:{u:42}:following"), 8980);
}

static void test_slot_hash_tags(void **state) {
        (void)state;
        assert_int_equal(slot_of("{user1000}.following"), 3443);
        assert_int_equal(slot_of("user1000"), 3443);
        /* the first '{' and the next '}' only */
        assert_int_equal(slot_of("foo{bar}{zap}"), 5061);
        assert_int_equal(slot_of("foo{{bar}}zap"), 4015);
        assert_int_equal(slot_of("{bar"), 4015);
        /* every key of one user / request shares the tag's slot */
        assert_int_equal(slot_of("fc:{u:42}:ver"), slot_of("u:42"));
        assert_int_equal(slot_of("x:idem:{r:abc}:del"), slot_of("r:abc"));
        /* binary keys: explicit length, NUL inside */
        assert_int_equal(cdc_rcluster_slot("a{b\0c}d", 7),
                         cdc_rcluster_slot("b\0c", 3));
}

static void test_slot_empty_tags(void **state) {
        (void)state;
        /* an empty tag or an unclosed brace: the whole key is hashed */
        assert_int_equal(slot_of("foo{}{bar}"), 8363);
        assert_int_equal(slot_of("{}"), 15257);
        assert_int_equal(slot_of("{"), 4092);
        assert_int_equal(slot_of("a{b"), 13340);
        assert_int_not_equal(slot_of("foo{}{bar}"), slot_of("bar"));
}

/* ---- parsers ---- */

static void parse_err(const char *s, cdc_rcluster_redir_t *rd, int want) {
        assert_int_equal(cdc_rcluster_parse_error(s, strlen(s), rd), want);
}

static void test_parse_error(void **state) {
        cdc_rcluster_redir_t rd;
        (void)state;

        parse_err("MOVED 3999 127.0.0.1:6381", &rd, 0);
        assert_int_equal(rd.code, CDC_RCLUSTER_E_MOVED);
        assert_int_equal(rd.slot, 3999);
        assert_string_equal(rd.host, "127.0.0.1");
        assert_int_equal(rd.port, 6381);
        parse_err("ASK 16383 [::1]:7000", &rd, 0);
        assert_int_equal(rd.code, CDC_RCLUSTER_E_ASK);
        assert_int_equal(rd.slot, 16383);
        assert_string_equal(rd.host, "::1");
        assert_int_equal(rd.port, 7000);
        parse_err("MOVED 0 :6380", &rd, 0); /* node without a known IP */
        assert_string_equal(rd.host, "");
        assert_int_equal(rd.port, 6380);
        parse_err("MOVED 12 redis-2.example:6379", &rd, 0);
        assert_string_equal(rd.host, "redis-2.example");

        parse_err("MOVED 16384 127.0.0.1:6381", &rd, -1);
        parse_err("MOVED -1 127.0.0.1:6381", &rd, -1);
        parse_err("MOVED 12 127.0.0.1", &rd, -1);
        parse_err("MOVED 12 127.0.0.1:0", &rd, -1);
        parse_err("MOVED 12 127.0.0.1:65536", &rd, -1);
        parse_err("MOVED", &rd, -1);
        parse_err("ASK 12", &rd, -1);
        assert_int_equal(rd.code, CDC_RCLUSTER_E_OTHER);

        parse_err("TRYAGAIN Multiple keys request during rehashing of slot",
                  &rd, 0);
        assert_int_equal(rd.code, CDC_RCLUSTER_E_TRYAGAIN);
        parse_err("CLUSTERDOWN The cluster is down", &rd, 0);
        assert_int_equal(rd.code, CDC_RCLUSTER_E_CLUSTERDOWN);
        parse_err("LOADING Redis is loading the dataset in memory", &rd, 0);
        assert_int_equal(rd.code, CDC_RCLUSTER_E_LOADING);
        parse_err("MASTERDOWN Link with MASTER is down", &rd, 0);
        assert_int_equal(rd.code, CDC_RCLUSTER_E_MASTERDOWN);
        parse_err("READONLY You can't write against a read only replica.", &rd,
                  0);
        assert_int_equal(rd.code, CDC_RCLUSTER_E_READONLY);
        parse_err("NOSCRIPT No matching script.", &rd, 0);
        assert_int_equal(rd.code, CDC_RCLUSTER_E_NOSCRIPT);
        parse_err("WRONGTYPE Operation against a key", &rd, 0);
        assert_int_equal(rd.code, CDC_RCLUSTER_E_OTHER);
        parse_err("MOVEDX 1 a:1", &rd, 0); /* another word */
        assert_int_equal(rd.code, CDC_RCLUSTER_E_OTHER);
}

static void test_parse_nodes(void **state) {
        char es[128], host[CDC_RCLUSTER_HOST_MAX + 1];
        int port;
        (void)state;

        assert_int_equal(
                cdc_rcluster_parse_nodes("a:1, b:2 ,[::1]:3", es, sizeof(es)),
                3);
        assert_int_equal(cdc_rcluster_parse_nodes("a:1,", es, sizeof(es)), 1);
        assert_int_equal(cdc_rcluster_parse_nodes("", es, sizeof(es)), -1);
        assert_int_equal(cdc_rcluster_parse_nodes(" , ", es, sizeof(es)), -1);
        assert_int_equal(cdc_rcluster_parse_nodes("a", es, sizeof(es)), -1);
        assert_non_null(strstr(es, "\"a\" is not host:port"));
        assert_int_equal(cdc_rcluster_parse_nodes("a:x", es, sizeof(es)), -1);
        assert_int_equal(cdc_rcluster_parse_nodes(":7000", es, sizeof(es)), -1);
        assert_int_equal(cdc_rcluster_parse_nodes("a b:1", es, sizeof(es)), -1);
        assert_int_equal(cdc_rcluster_parse_addr("h:6379", 6, host, &port), 0);
        assert_string_equal(host, "h");
        assert_int_equal(port, 6379);
}

/* ---- building replies ---- */

static redisReply *mk(int type) {
        redisReply *r = calloc(1, sizeof(*r));
        assert_non_null(r);
        r->type = type;
        return r;
}

static redisReply *mk_str(int type, const char *fmt, ...) {
        redisReply *r = mk(type);
        char buf[256];
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

/* [start, end, [host, port, id]] */
static redisReply *mk_range(int a, int b, const char *host, int port) {
        redisReply *e = mk_arr(3), *m = mk_arr(3);

        e->element[0] = mk_int(a);
        e->element[1] = mk_int(b);
        m->element[0] = mk_str(REDIS_REPLY_STRING, "%s", host);
        m->element[1] = mk_int(port);
        m->element[2] = mk_str(REDIS_REPLY_STRING, "id%d", port);
        e->element[2] = m;
        return e;
}

static void test_map_parse(void **state) {
        cdc_rcluster_map_t *map = malloc(sizeof(*map));
        redisReply *r           = mk_arr(4);
        char es[128];
        (void)state;

        r->element[0] = mk_range(0, 5460, "10.0.0.1", 7000);
        r->element[1] = mk_range(5461, 10922, "", 7001); /* = answering */
        r->element[2] = mk_range(10923, 16000, "10.0.0.1", 7000);
        r->element[3] = mk_range(16001, 16383, "?", 7003); /* no endpoint */
        assert_int_equal(
                cdc_rcluster_map_parse(r, "10.0.0.9", map, es, sizeof(es)), 0);
        assert_int_equal(map->rm_nmasters, 2);
        assert_string_equal(map->rm_host[map->rm_owner[0]], "10.0.0.1");
        assert_int_equal(map->rm_port[map->rm_owner[0]], 7000);
        assert_int_equal(map->rm_owner[0], map->rm_owner[12000]);
        assert_string_equal(map->rm_host[map->rm_owner[6000]], "10.0.0.9");
        assert_int_equal(map->rm_owner[16383], CDC_RCLUSTER_NO_NODE);
        freeReplyObject(r);

        /* malformed: end > 16383, start > end, port 0, not an array */
        r             = mk_arr(1);
        r->element[0] = mk_range(0, 16384, "h", 1);
        assert_int_equal(cdc_rcluster_map_parse(r, "x", map, es, sizeof(es)),
                         -1);
        assert_non_null(strstr(es, "malformed entry 0"));
        freeReplyObject(r);
        r             = mk_arr(1);
        r->element[0] = mk_range(9, 8, "h", 1);
        assert_int_equal(cdc_rcluster_map_parse(r, "x", map, es, sizeof(es)),
                         -1);
        freeReplyObject(r);
        r             = mk_arr(1);
        r->element[0] = mk_range(0, 1, "h", 0);
        assert_int_equal(cdc_rcluster_map_parse(r, "x", map, es, sizeof(es)),
                         -1);
        freeReplyObject(r);
        r = mk_int(3);
        assert_int_equal(cdc_rcluster_map_parse(r, "x", map, es, sizeof(es)),
                         -1);
        freeReplyObject(r);
        r             = mk_arr(1);
        r->element[0] = mk_int(1);
        assert_int_equal(cdc_rcluster_map_parse(r, "x", map, es, sizeof(es)),
                         -1);
        freeReplyObject(r);
        free(map);
}

/* ---- a simulated cluster behind the link ops ---- */

#define SIM_NODES 6
#define SIM_QMAX  256

typedef struct sim_node_s {
        int port;
        int up;             /* accepts connections */
        int cluster;        /* cluster_enabled */
        int noscript;       /* answer NOSCRIPT until SCRIPT LOAD */
        int tryagain;       /* answer TRYAGAIN this many times */
        int down;           /* answer CLUSTERDOWN */
        int wait_acks;      /* WAIT reply */
        int crash_at;       /* > 0: connection lost once this many
                             * commands were executed */
        int loads;          /* SCRIPT LOADs served */
        int executed;       /* commands executed */
        int asked;          /* commands executed after ASKING */
        int pipelines;      /* sends */
        int waits;          /* WAITs received */
        int slots_requests; /* CLUSTER SLOTS served */
} sim_node_t;

typedef struct sim_s {
        sim_node_t n[SIM_NODES];
        int nn;
        int owner[CDC_RCLUSTER_SLOTS]; /* true owner: node index */
        int view[CDC_RCLUSTER_SLOTS];  /* what CLUSTER SLOTS says */
        int mig_slot, mig_from, mig_to;
        int on_connect;
} sim_t;

typedef struct sim_link_s {
        sim_t *s;
        int ni;
        int connected;
        int asking;
        redisReply *q[SIM_QMAX];
        int qh, qt;
        char err[128];
} sim_link_t;

static void *sim_new(void *opaque, const char *host, int port, char *es,
                     size_t esz) {
        sim_t *s       = opaque;
        sim_link_t *lk = calloc(1, sizeof(*lk));
        int i;
        (void)es;
        (void)esz;

        assert_string_equal(host, "127.0.0.1");
        lk->s  = s;
        lk->ni = -1;
        for (i = 0; i < s->nn; i++)
                if (s->n[i].port == port)
                        lk->ni = i;
        assert_true(lk->ni >= 0);
        return lk;
}

static void sim_close(void *link) {
        sim_link_t *lk = link;

        while (lk->qh != lk->qt) {
                if (lk->q[lk->qh % SIM_QMAX])
                        freeReplyObject(lk->q[lk->qh % SIM_QMAX]);
                lk->qh++;
        }
        lk->qh = lk->qt = 0;
        lk->connected   = 0;
}

static void sim_destroy(void *link) {
        sim_close(link);
        free(link);
}

static cdc_err_t sim_connect(void *link) {
        sim_link_t *lk = link;
        sim_node_t *n  = &lk->s->n[lk->ni];

        sim_close(link);
        if (!n->up) {
                snprintf(lk->err, sizeof(lk->err),
                         "redis 127.0.0.1:%d: connect: Connection refused",
                         n->port);
                return CDC_ERR__TRANSPORT;
        }
        lk->connected = 1;
        lk->asking    = 0;
        lk->err[0]    = '\0';
        return CDC_ERR_NO_ERROR;
}

static int sim_connected(const void *link) {
        return ((const sim_link_t *)link)->connected;
}

static redisReply *sim_slots(sim_t *s) {
        redisReply *r = mk_arr(CDC_RCLUSTER_SLOTS);
        size_t n      = 0;
        int a         = 0, b;

        while (a < CDC_RCLUSTER_SLOTS) {
                for (b = a;
                     b + 1 < CDC_RCLUSTER_SLOTS && s->view[b + 1] == s->view[a];
                     b++)
                        ;
                r->element[n++] =
                        mk_range(a, b, "127.0.0.1", s->n[s->view[a]].port);
                a = b + 1;
        }
        r->elements = n;
        return r;
}

/* What node ni answers to argv (the simulated server). */
static redisReply *sim_exec(sim_link_t *lk, int argc, const char **argv,
                            const size_t *lens) {
        sim_t *s      = lk->s;
        sim_node_t *n = &s->n[lk->ni];
        int slot, asking = lk->asking;

        lk->asking = 0;
        if (!strcmp(argv[0], "CLUSTER")) {
                if (!n->cluster)
                        return mk_str(REDIS_REPLY_ERROR,
                                      "ERR This instance has cluster support "
                                      "disabled");
                n->slots_requests++;
                return sim_slots(s);
        }
        if (!strcmp(argv[0], "INFO"))
                return mk_str(REDIS_REPLY_STRING,
                              "# Cluster\r\ncluster_enabled:%d\r\n",
                              n->cluster);
        if (!strcmp(argv[0], "ASKING")) {
                lk->asking = 1;
                return mk_str(REDIS_REPLY_STATUS, "OK");
        }
        if (!strcmp(argv[0], "WAIT")) {
                n->waits++;
                return mk_int(n->wait_acks);
        }
        if (!strcmp(argv[0], "SCRIPT")) {
                n->loads++;
                n->noscript = 0;
                return mk_str(REDIS_REPLY_STRING, "%040d", 7);
        }
        assert_string_equal(argv[0], "CMD");
        assert_int_equal(argc, 2);
        slot = cdc_rcluster_slot(argv[1], lens[1]);
        if (n->down)
                return mk_str(REDIS_REPLY_ERROR,
                              "CLUSTERDOWN The cluster is down");
        if (n->noscript)
                return mk_str(REDIS_REPLY_ERROR, "NOSCRIPT No matching script");
        if (n->tryagain > 0) {
                n->tryagain--;
                return mk_str(REDIS_REPLY_ERROR,
                              "TRYAGAIN Multiple keys request during "
                              "rehashing of slot");
        }
        if (slot == s->mig_slot && lk->ni == s->mig_from)
                return mk_str(REDIS_REPLY_ERROR, "ASK %d 127.0.0.1:%d", slot,
                              s->n[s->mig_to].port);
        if (slot == s->mig_slot && lk->ni == s->mig_to && asking) {
                n->executed++;
                n->asked++;
                return mk_int(1);
        }
        if (s->owner[slot] != lk->ni)
                return mk_str(REDIS_REPLY_ERROR, "MOVED %d 127.0.0.1:%d", slot,
                              s->n[s->owner[slot]].port);
        n->executed++;
        return mk_int(1);
}

static cdc_err_t sim_append(void *link, int argc, const char **argv,
                            const size_t *lens) {
        sim_link_t *lk = link;

        if (!lk->connected)
                return CDC_ERR__TRANSPORT;
        assert_true(lk->qt - lk->qh < SIM_QMAX);
        /* NULL in the queue: the connection breaks at this reply */
        lk->q[lk->qt++ % SIM_QMAX] =
                lk->s->n[lk->ni].crash_at > 0 &&
                                lk->s->n[lk->ni].executed >=
                                        lk->s->n[lk->ni].crash_at
                        ? NULL
                        : sim_exec(lk, argc, argv, lens);
        return CDC_ERR_NO_ERROR;
}

static cdc_err_t sim_send(void *link) {
        sim_link_t *lk = link;

        if (!lk->connected)
                return CDC_ERR__TRANSPORT;
        lk->s->n[lk->ni].pipelines++;
        return CDC_ERR_NO_ERROR;
}

static cdc_err_t sim_get_reply(void *link, redisReply **rp) {
        sim_link_t *lk = link;

        *rp = NULL;
        if (!lk->connected || lk->qh == lk->qt || !lk->q[lk->qh % SIM_QMAX]) {
                snprintf(lk->err, sizeof(lk->err),
                         "redis 127.0.0.1:%d: connection lost",
                         lk->s->n[lk->ni].port);
                sim_close(link);
                return CDC_ERR__TRANSPORT;
        }
        *rp = lk->q[lk->qh++ % SIM_QMAX];
        return CDC_ERR_NO_ERROR;
}

static const char *sim_errstr(const void *link) {
        return ((const sim_link_t *)link)->err;
}

static const cdc_rcluster_link_ops_t sim_ops = {
        sim_new,    sim_destroy, sim_connect,   sim_close,  sim_connected,
        sim_append, sim_send,    sim_get_reply, sim_errstr,
};

static cdc_err_t sim_on_connect(void *opaque, cdc_rcluster_t *rc, void *link,
                                char *es, size_t esz) {
        sim_t *s           = opaque;
        const char *argv[] = { "SCRIPT", "LOAD", "return 1" };
        size_t lens[]      = { 6, 4, 8 };
        redisReply *r      = NULL;
        (void)es;
        (void)esz;

        s->on_connect++;
        assert_int_equal(cdc_rcluster_link_command(rc, link, &r, 3, argv, lens),
                         CDC_ERR_NO_ERROR);
        freeReplyObject(r);
        return CDC_ERR_NO_ERROR;
}

/* Three masters on ports 7000-7002 (slots split evenly), two spare nodes
 * 7003-7004 (replicas that may be promoted), all up. */
static sim_t *sim_new_cluster(void) {
        sim_t *s = calloc(1, sizeof(*s));
        int i;

        s->nn = 5;
        for (i = 0; i < s->nn; i++) {
                s->n[i].port      = 7000 + i;
                s->n[i].up        = 1;
                s->n[i].cluster   = 1;
                s->n[i].wait_acks = 1;
        }
        for (i = 0; i < CDC_RCLUSTER_SLOTS; i++)
                s->owner[i] = s->view[i] = i <= 5460 ? 0 : i <= 10922 ? 1 : 2;
        s->mig_slot = -1;
        return s;
}

static cdc_rcluster_t *sim_router(sim_t *s, const char *nodes, int wait) {
        cdc_rcluster_conf_t c;
        cdc_rcluster_t *rc;
        char es[256];

        memset(&c, 0, sizeof(c));
        c.rcc_nodes         = nodes;
        c.rcc_host          = "127.0.0.1";
        c.rcc_port          = 7000;
        c.rcc_wait_replicas = wait;
        c.rcc_on_connect    = sim_on_connect;
        c.rcc_opaque        = s;
        c.rcc_ops           = &sim_ops;
        c.rcc_ops_opaque    = s;
        rc                  = cdc_rcluster_new(&c, es, sizeof(es));
        assert_non_null(rc);
        return rc;
}

/* The commands of a test: "CMD <key>", key i of slot slots[i]. */
typedef struct batch_s {
        size_t n;
        char key[64][32];
        int replies;
} batch_t;

static int b_build(void *opaque, size_t i, int *slotp, const char **argv,
                   size_t *lens, int max) {
        batch_t *b = opaque;

        assert_true(max >= 2);
        *slotp  = cdc_rcluster_slot(b->key[i], strlen(b->key[i]));
        argv[0] = "CMD";
        lens[0] = 3;
        argv[1] = b->key[i];
        lens[1] = strlen(b->key[i]);
        return 2;
}

static int b_reply(void *opaque, size_t i, const redisReply *r, char *es,
                   size_t esz) {
        batch_t *b = opaque;
        (void)i;

        b->replies++;
        if (r->type == REDIS_REPLY_INTEGER)
                return 1;
        snprintf(es, esz, "unexpected: %s", r->str ? r->str : "?");
        return 0;
}

/* A key whose slot is in [lo, hi]; distinct keys for distinct seeds. */
static void key_in(char *out, int lo, int hi, int seed) {
        int i, s;

        for (i = seed * 1000;; i++) {
                snprintf(out, 32, "fc:{u:%d}:ver", i);
                s = slot_of(out);
                if (s >= lo && s <= hi)
                        return;
        }
}

/* n keys spread over the three masters' ranges */
static void batch_fill(batch_t *b, size_t n) {
        size_t i;
        static const int lo[3] = { 0, 5461, 10923 },
                         hi[3] = { 5460, 10922, 16383 };

        memset(b, 0, sizeof(*b));
        b->n = n;
        for (i = 0; i < n; i++)
                key_in(b->key[i], lo[i % 3], hi[i % 3], (int)i);
}

static int all_done(const unsigned char *d, size_t n) {
        size_t i;
        for (i = 0; i < n; i++)
                if (!d[i])
                        return 0;
        return 1;
}

static void test_route_to_owners(void **state) {
        sim_t *s           = sim_new_cluster();
        cdc_rcluster_t *rc = sim_router(s, "127.0.0.1:7003, 127.0.0.1:7000", 0);
        unsigned char done[64] = { 0 };
        cdc_rcluster_stats_t st;
        batch_t b;
        (void)state;

        batch_fill(&b, 30);
        assert_int_equal(cdc_rcluster_connect(rc), CDC_ERR_NO_ERROR);
        assert_int_equal(cdc_rcluster_masters(rc), 3);
        assert_true(cdc_rcluster_connected(rc));
        assert_int_equal(s->on_connect, 3); /* each master, not the seed */
        assert_int_equal(cdc_rcluster_run(rc, b.n, done, b_build, b_reply, &b),
                         CDC_ERR_NO_ERROR);
        assert_true(all_done(done, b.n));
        /* one pipeline per master, each command executed once */
        assert_int_equal(s->n[0].executed, 10);
        assert_int_equal(s->n[1].executed, 10);
        assert_int_equal(s->n[2].executed, 10);
        assert_int_equal(s->n[0].pipelines, 1);
        assert_int_equal(s->n[1].pipelines, 1);
        assert_int_equal(s->n[2].pipelines, 1);
        assert_int_equal(s->n[3].executed, 0);
        cdc_rcluster_stats(rc, &st);
        assert_int_equal(st.moved, 0);
        assert_int_equal(st.round_trips, 3);
        cdc_rcluster_destroy(rc);
        free(s);
}

/* A slot moved after the map was read: MOVED, refresh, resend. */
static void test_moved(void **state) {
        sim_t *s               = sim_new_cluster();
        cdc_rcluster_t *rc     = sim_router(s, "127.0.0.1:7000", 0);
        unsigned char done[64] = { 0 };
        cdc_rcluster_stats_t st;
        batch_t b;
        int slot, i;
        (void)state;

        batch_fill(&b, 9);
        assert_int_equal(cdc_rcluster_connect(rc), CDC_ERR_NO_ERROR);
        /* key 0's slot (node 0's range) now belongs to node 2 */
        slot           = slot_of(b.key[0]);
        s->owner[slot] = s->view[slot] = 2;
        assert_int_equal(cdc_rcluster_run(rc, b.n, done, b_build, b_reply, &b),
                         CDC_ERR_NO_ERROR);
        assert_true(all_done(done, b.n));
        assert_int_equal(s->n[0].executed + s->n[1].executed + s->n[2].executed,
                         9);
        assert_int_equal(s->n[2].executed, 4);
        cdc_rcluster_stats(rc, &st);
        assert_int_equal(st.moved, 1);
        assert_int_equal(st.refreshes, 2); /* connect + after MOVED */
        assert_int_equal(b.replies, 9);    /* MOVED never reaches the caller */

        /* the next run goes straight to the new owner */
        memset(done, 0, sizeof(done));
        for (i = 0; i < 3; i++)
                s->n[i].executed = 0;
        assert_int_equal(cdc_rcluster_run(rc, 1, done, b_build, b_reply, &b),
                         CDC_ERR_NO_ERROR);
        assert_int_equal(s->n[2].executed, 1);
        cdc_rcluster_stats(rc, &st);
        assert_int_equal(st.moved, 1);
        cdc_rcluster_destroy(rc);
        free(s);
}

/* Slot being migrated 0 -> 1 and the key already moved: ASK, then
 * ASKING + the command on node 1; the slot map stays as it is. */
static void test_ask(void **state) {
        sim_t *s               = sim_new_cluster();
        cdc_rcluster_t *rc     = sim_router(s, "127.0.0.1:7000", 0);
        unsigned char done[64] = { 0 };
        cdc_rcluster_stats_t st;
        batch_t b;
        (void)state;

        batch_fill(&b, 3);
        assert_int_equal(cdc_rcluster_connect(rc), CDC_ERR_NO_ERROR);
        s->mig_slot = slot_of(b.key[0]);
        s->mig_from = 0;
        s->mig_to   = 1;
        assert_int_equal(cdc_rcluster_run(rc, b.n, done, b_build, b_reply, &b),
                         CDC_ERR_NO_ERROR);
        assert_true(all_done(done, b.n));
        assert_int_equal(s->n[1].asked, 1);
        assert_int_equal(s->n[0].executed, 0);
        cdc_rcluster_stats(rc, &st);
        assert_int_equal(st.ask, 1);
        assert_int_equal(st.moved, 0);
        assert_int_equal(st.refreshes, 1); /* ASK does not refresh */
        /* migration done: node 0 answers MOVED to 1 */
        s->mig_slot                 = -1;
        s->owner[slot_of(b.key[0])] = 1;
        s->view[slot_of(b.key[0])]  = 1;
        memset(done, 0, sizeof(done));
        assert_int_equal(cdc_rcluster_run(rc, 1, done, b_build, b_reply, &b),
                         CDC_ERR_NO_ERROR);
        cdc_rcluster_stats(rc, &st);
        assert_int_equal(st.moved, 1);
        assert_int_equal(s->n[1].executed, 3);
        cdc_rcluster_destroy(rc);
        free(s);
}

/* MOVED and ASK in one round: the map refresh drops a node that is no
 * longer a master, renumbering the others; the pending ASK must still go
 * to its target (regression: it went to whichever node took the index). */
static void test_ask_survives_refresh(void **state) {
        sim_t *s               = sim_new_cluster();
        cdc_rcluster_t *rc     = sim_router(s, "127.0.0.1:7001", 0);
        unsigned char done[64] = { 0 };
        cdc_rcluster_stats_t st;
        batch_t b;
        int i;
        (void)state;

        batch_fill(&b, 3);
        assert_int_equal(cdc_rcluster_connect(rc), CDC_ERR_NO_ERROR);
        for (i = 0; i <= 5460; i++) /* 7000's slots now on 7003 */
                s->owner[i] = s->view[i] = 3;
        s->mig_slot = slot_of(b.key[1]); /* 7001 -> 7002, key moved */
        s->mig_from = 1;
        s->mig_to   = 2;
        assert_int_equal(cdc_rcluster_run(rc, b.n, done, b_build, b_reply, &b),
                         CDC_ERR_NO_ERROR);
        assert_true(all_done(done, b.n));
        cdc_rcluster_stats(rc, &st);
        assert_int_equal(st.moved, 1);
        assert_int_equal(st.ask, 1);
        assert_int_equal(s->n[2].asked, 1);
        assert_int_equal(s->n[3].executed, 1);
        assert_int_equal(cdc_rcluster_masters(rc), 3);
        cdc_rcluster_destroy(rc);
        free(s);
}

static void test_tryagain(void **state) {
        sim_t *s               = sim_new_cluster();
        cdc_rcluster_t *rc     = sim_router(s, "127.0.0.1:7000", 0);
        unsigned char done[64] = { 0 };
        cdc_rcluster_stats_t st;
        batch_t b;
        (void)state;

        batch_fill(&b, 6);
        assert_int_equal(cdc_rcluster_connect(rc), CDC_ERR_NO_ERROR);
        s->n[1].tryagain = 3; /* three rounds, then it passes */
        assert_int_equal(cdc_rcluster_run(rc, b.n, done, b_build, b_reply, &b),
                         CDC_ERR_NO_ERROR);
        assert_true(all_done(done, b.n));
        cdc_rcluster_stats(rc, &st);
        assert_int_equal(st.tryagain, 3);
        assert_int_equal(s->n[1].executed, 2);
        assert_int_equal(s->n[0].executed, 2); /* not sent twice */

        /* endless TRYAGAIN: the run gives up with TRANSPORT, the rest done */
        memset(done, 0, sizeof(done));
        s->n[1].tryagain = 1000;
        assert_int_equal(cdc_rcluster_run(rc, b.n, done, b_build, b_reply, &b),
                         CDC_ERR__TRANSPORT);
        assert_non_null(strstr(cdc_rcluster_errstr(rc), "after 6 rounds"));
        assert_true(done[0] && !done[1] && done[2] && !done[4]);
        cdc_rcluster_destroy(rc);
        free(s);
}

/* CLUSTERDOWN: TRANSPORT (caller backs off), nothing lost, retried. */
static void test_clusterdown(void **state) {
        sim_t *s               = sim_new_cluster();
        cdc_rcluster_t *rc     = sim_router(s, "127.0.0.1:7000", 0);
        unsigned char done[64] = { 0 };
        batch_t b;
        (void)state;

        batch_fill(&b, 6);
        assert_int_equal(cdc_rcluster_connect(rc), CDC_ERR_NO_ERROR);
        s->n[2].down = 1;
        assert_int_equal(cdc_rcluster_run(rc, b.n, done, b_build, b_reply, &b),
                         CDC_ERR__TRANSPORT);
        assert_non_null(strstr(cdc_rcluster_errstr(rc), "CLUSTERDOWN"));
        assert_true(done[0] && done[1] && !done[2] && !done[5]);
        s->n[2].down = 0;
        assert_int_equal(cdc_rcluster_connect(rc), CDC_ERR_NO_ERROR);
        assert_int_equal(cdc_rcluster_run(rc, b.n, done, b_build, b_reply, &b),
                         CDC_ERR_NO_ERROR);
        assert_true(all_done(done, b.n));
        assert_int_equal(s->n[2].executed, 2);
        cdc_rcluster_destroy(rc);
        free(s);
}

/* A master dies (connection lost mid-pipeline); its replica (7003) is
 * promoted: TRANSPORT while the topology still names the dead node,
 * then everything not acknowledged goes to the new master. */
static void test_dead_node_failover(void **state) {
        sim_t *s           = sim_new_cluster();
        cdc_rcluster_t *rc = sim_router(s, "127.0.0.1:7000,127.0.0.1:7001", 0);
        unsigned char done[64] = { 0 };
        batch_t b;
        int i;
        (void)state;

        batch_fill(&b, 12);
        assert_int_equal(cdc_rcluster_connect(rc), CDC_ERR_NO_ERROR);
        /* node 0 loses the connection after 2 of its 4 commands, and dies */
        s->n[0].crash_at = 2;
        assert_int_equal(cdc_rcluster_run(rc, b.n, done, b_build, b_reply, &b),
                         CDC_ERR__TRANSPORT);
        assert_true(done[0] && done[3] && !done[6] && !done[9]);
        assert_true(done[1] && done[2] && done[11]);
        s->n[0].up = 0;
        /* not failed over yet: connect fails, nothing sent */
        assert_int_equal(cdc_rcluster_connect(rc), CDC_ERR__TRANSPORT);
        assert_non_null(strstr(cdc_rcluster_errstr(rc), "7000"));
        /* promoted: 7003 owns node 0's slots */
        for (i = 0; i <= 5460; i++)
                s->owner[i] = s->view[i] = 3;
        assert_int_equal(cdc_rcluster_connect(rc), CDC_ERR_NO_ERROR);
        assert_int_equal(cdc_rcluster_masters(rc), 3);
        assert_int_equal(cdc_rcluster_run(rc, b.n, done, b_build, b_reply, &b),
                         CDC_ERR_NO_ERROR);
        assert_true(all_done(done, b.n));
        assert_int_equal(s->n[3].executed, 2);
        cdc_rcluster_destroy(rc);
        free(s);
}

/* A refresh goes on when the seed died, through the known masters. */
static void test_refresh_without_seed(void **state) {
        sim_t *s               = sim_new_cluster();
        cdc_rcluster_t *rc     = sim_router(s, "127.0.0.1:7003", 0);
        unsigned char done[64] = { 0 };
        batch_t b;
        int slot;
        (void)state;

        batch_fill(&b, 3);
        assert_int_equal(cdc_rcluster_connect(rc), CDC_ERR_NO_ERROR);
        s->n[3].up     = 0;
        slot           = slot_of(b.key[1]);
        s->owner[slot] = s->view[slot] = 0;
        assert_int_equal(cdc_rcluster_run(rc, b.n, done, b_build, b_reply, &b),
                         CDC_ERR_NO_ERROR);
        assert_int_equal(s->n[3].slots_requests, 1);
        assert_int_equal(s->n[0].executed, 2);
        cdc_rcluster_destroy(rc);
        free(s);
}

static void test_noscript(void **state) {
        sim_t *s               = sim_new_cluster();
        cdc_rcluster_t *rc     = sim_router(s, "127.0.0.1:7000", 0);
        unsigned char done[64] = { 0 };
        cdc_rcluster_stats_t st;
        batch_t b;
        (void)state;

        batch_fill(&b, 6);
        assert_int_equal(cdc_rcluster_connect(rc), CDC_ERR_NO_ERROR);
        assert_int_equal(s->n[1].loads, 1);
        s->n[1].noscript = 1; /* SCRIPT FLUSH, or a restart */
        assert_int_equal(cdc_rcluster_run(rc, b.n, done, b_build, b_reply, &b),
                         CDC_ERR_NO_ERROR);
        assert_true(all_done(done, b.n));
        assert_int_equal(s->n[1].loads, 2);
        assert_int_equal(s->n[1].executed, 2);
        cdc_rcluster_stats(rc, &st);
        assert_int_equal(st.noscript, 1);
        cdc_rcluster_destroy(rc);
        free(s);
}

/* WAIT per master: a master whose replica did not confirm keeps its
 * commands (not done), the others are done. */
static void test_wait_per_node(void **state) {
        sim_t *s               = sim_new_cluster();
        cdc_rcluster_t *rc     = sim_router(s, "127.0.0.1:7000", 1);
        unsigned char done[64] = { 0 };
        cdc_rcluster_stats_t st;
        batch_t b;
        (void)state;

        batch_fill(&b, 6);
        assert_int_equal(cdc_rcluster_connect(rc), CDC_ERR_NO_ERROR);
        s->n[1].wait_acks = 0;
        assert_int_equal(cdc_rcluster_run(rc, b.n, done, b_build, b_reply, &b),
                         CDC_ERR__TRANSPORT);
        assert_non_null(strstr(cdc_rcluster_errstr(rc), "WAIT 1"));
        assert_non_null(strstr(cdc_rcluster_errstr(rc), "7001"));
        assert_true(done[0] && !done[1] && done[2] && done[3] && !done[4]);
        cdc_rcluster_stats(rc, &st);
        assert_int_equal(st.wait_short, 1);
        s->n[1].wait_acks = 1;
        assert_int_equal(cdc_rcluster_run(rc, b.n, done, b_build, b_reply, &b),
                         CDC_ERR_NO_ERROR);
        assert_true(all_done(done, b.n));
        cdc_rcluster_destroy(rc);
        free(s);
}

/* Commands pushed ahead of their run: written in parts, one write per
 * node and push, WAIT only after the last; the run reads every reply. */
static void test_push_then_run(void **state) {
        sim_t *s               = sim_new_cluster();
        cdc_rcluster_t *rc     = sim_router(s, "127.0.0.1:7000", 1);
        unsigned char done[64] = { 0 };
        cdc_rcluster_stats_t st;
        batch_t b;
        int i;
        (void)state;

        batch_fill(&b, 30);
        assert_int_equal(cdc_rcluster_connect(rc), CDC_ERR_NO_ERROR);
        assert_int_equal(cdc_rcluster_push(rc, 10, b_build, &b),
                         CDC_ERR_NO_ERROR);
        /* written (the simulated nodes execute what they receive), no
         * reply read */
        assert_int_equal(s->n[0].executed + s->n[1].executed + s->n[2].executed,
                         10);
        assert_int_equal(b.replies, 0);
        assert_int_equal(cdc_rcluster_push(rc, 10, b_build, &b),
                         CDC_ERR_NO_ERROR); /* nothing new: no write */
        assert_int_equal(cdc_rcluster_push(rc, 20, b_build, &b),
                         CDC_ERR_NO_ERROR);
        assert_int_equal(cdc_rcluster_run(rc, b.n, done, b_build, b_reply, &b),
                         CDC_ERR_NO_ERROR);
        assert_true(all_done(done, b.n));
        assert_int_equal(b.replies, 30);
        for (i = 0; i < 3; i++) {
                assert_int_equal(s->n[i].executed, 10);
                assert_int_equal(s->n[i].pipelines, 3);
                assert_int_equal(s->n[i].waits, 1); /* after the last */
        }
        cdc_rcluster_stats(rc, &st);
        assert_int_equal(st.round_trips, 9);
        assert_int_equal(st.wait_short, 0);
        /* the next run is an ordinary one */
        memset(done, 0, sizeof(done));
        assert_int_equal(cdc_rcluster_run(rc, 3, done, b_build, b_reply, &b),
                         CDC_ERR_NO_ERROR);
        assert_true(all_done(done, 3));
        assert_int_equal(s->on_connect, 3); /* no connection was lost */
        cdc_rcluster_destroy(rc);
        free(s);
}

/* A node lost between a push and its run: the run reports it with the
 * done flags of what the others acknowledged; the next run (after a
 * connect, as the consumer does) sends the rest. A MOVED met by pushed
 * commands is followed by the run's next round. */
static void test_push_failures(void **state) {
        sim_t *s               = sim_new_cluster();
        cdc_rcluster_t *rc     = sim_router(s, "127.0.0.1:7000", 0);
        unsigned char done[64] = { 0 };
        cdc_rcluster_stats_t st;
        batch_t b;
        size_t i;
        int slot;
        (void)state;

        batch_fill(&b, 30);
        assert_int_equal(cdc_rcluster_connect(rc), CDC_ERR_NO_ERROR);
        s->n[1].crash_at = 2; /* its third command breaks the connection */
        assert_int_equal(cdc_rcluster_push(rc, 15, b_build, &b),
                         CDC_ERR_NO_ERROR);
        assert_int_equal(cdc_rcluster_run(rc, b.n, done, b_build, b_reply, &b),
                         CDC_ERR__TRANSPORT);
        for (i = 0; i < b.n; i++)
                assert_int_equal(done[i], i % 3 != 1 || i < 6);
        s->n[1].crash_at = 0;
        assert_int_equal(cdc_rcluster_connect(rc), CDC_ERR_NO_ERROR);
        assert_int_equal(cdc_rcluster_run(rc, b.n, done, b_build, b_reply, &b),
                         CDC_ERR_NO_ERROR);
        assert_true(all_done(done, b.n));

        /* key 0's slot moved to node 2 after the map was read */
        memset(done, 0, sizeof(done));
        slot           = slot_of(b.key[0]);
        s->owner[slot] = s->view[slot] = 2;
        assert_int_equal(cdc_rcluster_push(rc, 12, b_build, &b),
                         CDC_ERR_NO_ERROR);
        assert_int_equal(cdc_rcluster_run(rc, b.n, done, b_build, b_reply, &b),
                         CDC_ERR_NO_ERROR);
        assert_true(all_done(done, b.n));
        cdc_rcluster_stats(rc, &st);
        assert_int_equal(st.moved, 1);
        cdc_rcluster_destroy(rc);
        free(s);
}

static int other_build(void *opaque, size_t i, int *slotp, const char **argv,
                       size_t *lens, int max) {
        return b_build(opaque, i, slotp, argv, lens, max);
}

/* Pushed commands whose run does not come: abandoned by an abort, a
 * synchronous command or a run of other commands. Their connections
 * close (a late reply would be taken for the next command's), so the
 * next use connects again. */
static void test_push_abandoned(void **state) {
        sim_t *s               = sim_new_cluster();
        cdc_rcluster_t *rc     = sim_router(s, "127.0.0.1:7000", 0);
        unsigned char done[64] = { 0 };
        const char *argv[]     = { "CMD", NULL };
        size_t lens[2]         = { 3, 0 };
        redisReply *r          = NULL;
        batch_t b;
        (void)state;

        batch_fill(&b, 9);
        assert_int_equal(cdc_rcluster_connect(rc), CDC_ERR_NO_ERROR);
        assert_int_equal(s->on_connect, 3);
        cdc_rcluster_abort(rc); /* nothing pushed: no-op */
        assert_int_equal(cdc_rcluster_push(rc, 9, b_build, &b),
                         CDC_ERR_NO_ERROR);
        cdc_rcluster_abort(rc);
        assert_int_equal(cdc_rcluster_run(rc, b.n, done, b_build, b_reply, &b),
                         CDC_ERR_NO_ERROR);
        assert_true(all_done(done, b.n));
        assert_int_equal(b.replies, 9); /* none of the abandoned ones */
        assert_int_equal(s->on_connect, 6);

        /* a command on master 0 between push and run */
        assert_int_equal(cdc_rcluster_push(rc, 3, b_build, &b),
                         CDC_ERR_NO_ERROR);
        argv[1] = b.key[0];
        lens[1] = strlen(b.key[0]);
        assert_int_equal(cdc_rcluster_master_command(rc, 0, &r, 2, argv, lens),
                         CDC_ERR_NO_ERROR);
        assert_int_equal(r->type, REDIS_REPLY_INTEGER);
        freeReplyObject(r);
        assert_int_equal(s->on_connect, 9 - 2); /* master 0 only so far */
        memset(done, 0, sizeof(done));
        b.replies = 0;
        assert_int_equal(cdc_rcluster_run(rc, 3, done, b_build, b_reply, &b),
                         CDC_ERR_NO_ERROR);
        assert_int_equal(b.replies, 3);
        assert_int_equal(s->on_connect, 9);

        /* a run of other commands */
        assert_int_equal(cdc_rcluster_push(rc, 3, b_build, &b),
                         CDC_ERR_NO_ERROR);
        memset(done, 0, sizeof(done));
        b.replies = 0;
        assert_int_equal(
                cdc_rcluster_run(rc, 6, done, other_build, b_reply, &b),
                CDC_ERR_NO_ERROR);
        assert_true(all_done(done, 6));
        assert_int_equal(b.replies, 6);
        assert_int_equal(s->on_connect, 12);
        cdc_rcluster_destroy(rc);
        free(s);
}

/* A cluster node configured as a single Redis: a clear error naming the
 * setting, at connect (INFO) and on a MOVED reply. */
static void test_standalone_on_cluster(void **state) {
        sim_t *s               = sim_new_cluster();
        cdc_rcluster_t *rc     = sim_router(s, NULL, 0);
        unsigned char done[64] = { 0 };
        batch_t b;
        (void)state;

        assert_false(cdc_rcluster_is_cluster(rc));
        assert_int_equal(cdc_rcluster_connect(rc), CDC_ERR__CONFIG);
        assert_non_null(strstr(cdc_rcluster_errstr(rc), "redis.cluster.nodes"));
        assert_non_null(strstr(cdc_rcluster_errstr(rc), "redis.host"));
        /* a node that hides INFO (a proxy) but answers MOVED */
        s->n[0].cluster = 0;
        assert_int_equal(cdc_rcluster_connect(rc), CDC_ERR_NO_ERROR);
        batch_fill(&b, 3);
        assert_int_equal(cdc_rcluster_run(rc, b.n, done, b_build, b_reply, &b),
                         CDC_ERR__CONFIG);
        assert_non_null(strstr(cdc_rcluster_errstr(rc), "MOVED"));
        assert_non_null(strstr(cdc_rcluster_errstr(rc), "redis.cluster.nodes"));
        cdc_rcluster_destroy(rc);
        free(s);
}

/* A single Redis configured as a cluster seed. */
static void test_cluster_on_standalone(void **state) {
        sim_t *s           = sim_new_cluster();
        cdc_rcluster_t *rc = sim_router(s, "127.0.0.1:7004", 0);
        (void)state;

        s->n[4].cluster = 0;
        assert_int_equal(cdc_rcluster_connect(rc), CDC_ERR__CONFIG);
        assert_non_null(strstr(cdc_rcluster_errstr(rc), "redis.cluster.nodes"));
        assert_non_null(strstr(cdc_rcluster_errstr(rc), "7004"));
        cdc_rcluster_destroy(rc);
        free(s);
}

/* Standalone mode: one pipeline, every command to the one node. */
static void test_standalone(void **state) {
        sim_t *s               = sim_new_cluster();
        cdc_rcluster_t *rc     = sim_router(s, NULL, 1);
        unsigned char done[64] = { 0 };
        batch_t b;
        int i;
        (void)state;

        s->n[0].cluster = 0;
        for (i = 0; i < CDC_RCLUSTER_SLOTS; i++)
                s->owner[i] = 0;
        batch_fill(&b, 20);
        assert_int_equal(cdc_rcluster_connect(rc), CDC_ERR_NO_ERROR);
        assert_int_equal(cdc_rcluster_run(rc, b.n, done, b_build, b_reply, &b),
                         CDC_ERR_NO_ERROR);
        assert_true(all_done(done, b.n));
        assert_int_equal(s->n[0].executed, 20);
        assert_int_equal(s->n[0].pipelines, 1);
        assert_int_equal(s->n[0].slots_requests, 0);
        cdc_rcluster_destroy(rc);
        free(s);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_crc16_vector),
                cmocka_unit_test(test_slot_vectors),
                cmocka_unit_test(test_slot_hash_tags),
                cmocka_unit_test(test_slot_empty_tags),
                cmocka_unit_test(test_parse_error),
                cmocka_unit_test(test_parse_nodes),
                cmocka_unit_test(test_map_parse),
                cmocka_unit_test(test_route_to_owners),
                cmocka_unit_test(test_moved),
                cmocka_unit_test(test_ask),
                cmocka_unit_test(test_ask_survives_refresh),
                cmocka_unit_test(test_tryagain),
                cmocka_unit_test(test_clusterdown),
                cmocka_unit_test(test_dead_node_failover),
                cmocka_unit_test(test_refresh_without_seed),
                cmocka_unit_test(test_noscript),
                cmocka_unit_test(test_wait_per_node),
                cmocka_unit_test(test_push_then_run),
                cmocka_unit_test(test_push_failures),
                cmocka_unit_test(test_push_abandoned),
                cmocka_unit_test(test_standalone_on_cluster),
                cmocka_unit_test(test_cluster_on_standalone),
                cmocka_unit_test(test_standalone),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
