/**
 * @file cdc_rcluster.c
 * @brief Redis standalone / Cluster routing (see cdc_rcluster.h).
 *
 * Written from the Redis Cluster specification (key distribution model,
 * redirection and resharding, MOVED and ASK). Each round routes every
 * command not yet done to a node, writes the pipelines of all nodes
 * first and only then reads their replies, so the masters work in
 * parallel.
 */
#include "cdc_rcluster.h"
#include "cdc_rcluster_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cdc_log.h"

#define RCLUSTER_DEF_ROUNDS  6
/** NOSCRIPT reloads per node and run before giving up. */
#define RCLUSTER_MAX_RELOADS 2
#define RCLUSTER_NONE        CDC_RCLUSTER_NO_NODE

/* per command flags of a run */
#define RCF_ASKING 0x01 /* sent after ASKING this round */
#define RCF_OK     0x02 /* acceptable reply, waiting for WAIT */

typedef struct rcluster_node_s {
        char *rn_host;
        int rn_port;
        void *rn_link;   /* created on first use */
        int rn_master;   /* a master of the current topology */
        int rn_seed;     /* from redis.cluster.nodes (kept) */
        int rn_prepared; /* on_connect ran on this connection */
        int rn_reloads;  /* NOSCRIPT reloads during this run */
        /* per round */
        size_t rn_nsent;
        size_t rn_first; /* index of its first command in rc_order */
        int rn_failed;
} rcluster_node_t;

struct cdc_rcluster_s {
        int rc_cluster;
        rcluster_node_t *rc_nodes;
        int rc_nnodes;
        uint16_t *rc_owner; /* slot -> node index, RCLUSTER_NONE */
        int rc_have_map;
        int rc_stale; /* refresh the topology before the next round */
        cdc_rcluster_map_t *rc_map; /* scratch for refreshes */

        cdc_rsink_conf_t rc_lconf; /* copied strings (host/port unused) */
        char *rc_user, *rc_password, *rc_tls_name;
        void *rc_tls_ctx; /* shared by every link; NULL: plain */
        int rc_wait_replicas, rc_wait_timeout_ms, rc_max_rounds;
        cdc_rcluster_on_connect_cb_t *rc_on_connect;
        void *rc_opaque;
        const cdc_rcluster_link_ops_t *rc_ops;
        void *rc_ops_opaque;

        /* scratch of a run, sized to the largest n seen */
        size_t rc_scap;
        size_t rc_run_n;      /* commands of the run in progress (rc_ask) */
        uint16_t *rc_route;   /* node per command */
        uint16_t *rc_ask;     /* ASK target per command, RCLUSTER_NONE */
        unsigned char *rc_fl; /* RCF_* */
        size_t *rc_order;     /* command indexes grouped by node */

        cdc_rcluster_stats_t rc_stats;
        char rc_errstr[512];
};

/* ---- pure functions ---- */

uint16_t cdc_rcluster_crc16(const void *buf, size_t len) {
        const unsigned char *p = buf;
        uint16_t crc           = 0;
        size_t i;
        int b;

        for (i = 0; i < len; i++) {
                crc ^= (uint16_t)(p[i] << 8);
                for (b = 0; b < 8; b++)
                        crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021)
                                             : (uint16_t)(crc << 1);
        }
        return crc;
}

int cdc_rcluster_slot(const void *key, size_t len) {
        const char *k = key;
        const char *open, *close;

        open = memchr(k, '{', len);
        if (open) {
                size_t rest = len - (size_t)(open - k) - 1;

                close = memchr(open + 1, '}', rest);
                /* "{}" (empty tag) or no closing brace: the whole key */
                if (close && close > open + 1)
                        return cdc_rcluster_crc16(open + 1,
                                                  (size_t)(close - open - 1)) &
                               (CDC_RCLUSTER_SLOTS - 1);
        }
        return cdc_rcluster_crc16(k, len) & (CDC_RCLUSTER_SLOTS - 1);
}

/* Decimal in [lo, hi] spanning exactly s[0..len). */
static int rcluster_parse_int(const char *s, size_t len, long lo, long hi,
                              long *vp) {
        long v = 0;
        size_t i;

        if (len == 0 || len > 9)
                return -1;
        for (i = 0; i < len; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -1;
                v = v * 10 + (s[i] - '0');
        }
        if (v < lo || v > hi)
                return -1;
        *vp = v;
        return 0;
}

int cdc_rcluster_parse_addr(const char *s, size_t len, char *host, int *portp) {
        const char *colon = NULL, *h = s;
        size_t hlen, i;
        long port;

        for (i = len; i > 0; i--)
                if (s[i - 1] == ':') {
                        colon = s + i - 1;
                        break;
                }
        if (!colon ||
            rcluster_parse_int(colon + 1, len - (size_t)(colon + 1 - s), 1,
                               65535, &port) != 0)
                return -1;
        hlen = (size_t)(colon - s);
        if (hlen >= 2 && s[0] == '[' && s[hlen - 1] == ']') {
                h = s + 1;
                hlen -= 2;
        }
        if (hlen > CDC_RCLUSTER_HOST_MAX)
                return -1;
        for (i = 0; i < hlen; i++)
                if ((unsigned char)h[i] <= ' ' || h[i] == ',' ||
                    (unsigned char)h[i] >= 0x7f)
                        return -1;
        memcpy(host, h, hlen);
        host[hlen] = '\0';
        *portp     = (int)port;
        return 0;
}

int cdc_rcluster_parse_nodes(const char *list, char *errstr,
                             size_t errstr_size) {
        char host[CDC_RCLUSTER_HOST_MAX + 1];
        const char *p = list;
        int n         = 0, port;

        while (p && *p) {
                const char *end = strchr(p, ',');
                size_t len      = end ? (size_t)(end - p) : strlen(p);

                while (len && (*p == ' ' || *p == '\t')) {
                        p++;
                        len--;
                }
                while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
                        len--;
                if (len) {
                        if (cdc_rcluster_parse_addr(p, len, host, &port) != 0 ||
                            !host[0]) {
                                snprintf(errstr, errstr_size,
                                         "\"%.*s\" is not host:port",
                                         (int)(len > 64 ? 64 : len), p);
                                return -1;
                        }
                        if (++n > CDC_RCLUSTER_MAX_NODES / 2) {
                                snprintf(errstr, errstr_size,
                                         "more than %d seed nodes",
                                         CDC_RCLUSTER_MAX_NODES / 2);
                                return -1;
                        }
                }
                p = end ? end + 1 : NULL;
        }
        if (n == 0) {
                snprintf(errstr, errstr_size, "no host:port given");
                return -1;
        }
        return n;
}

static int rcluster_prefix(const char *s, size_t len, const char *word) {
        size_t wl = strlen(word);

        return len >= wl && memcmp(s, word, wl) == 0 &&
               (len == wl || s[wl] == ' ');
}

int cdc_rcluster_parse_error(const char *str, size_t len,
                             cdc_rcluster_redir_t *rd) {
        int ask;
        const char *p, *sp;
        long slot;

        memset(rd, 0, sizeof(*rd));
        rd->slot = -1;
        ask      = rcluster_prefix(str, len, "ASK");
        if (ask || rcluster_prefix(str, len, "MOVED")) {
                /* "MOVED <slot> <host>:<port>" */
                p  = str + (ask ? 4 : 6);
                sp = len > (size_t)(p - str)
                             ? memchr(p, ' ', len - (size_t)(p - str))
                             : NULL;
                if (!sp ||
                    rcluster_parse_int(p, (size_t)(sp - p), 0,
                                       CDC_RCLUSTER_SLOTS - 1, &slot) != 0 ||
                    cdc_rcluster_parse_addr(sp + 1,
                                            len - (size_t)(sp + 1 - str),
                                            rd->host, &rd->port) != 0)
                        return -1;
                rd->slot = (int)slot;
                rd->code = ask ? CDC_RCLUSTER_E_ASK : CDC_RCLUSTER_E_MOVED;
        } else if (rcluster_prefix(str, len, "TRYAGAIN"))
                rd->code = CDC_RCLUSTER_E_TRYAGAIN;
        else if (rcluster_prefix(str, len, "CLUSTERDOWN"))
                rd->code = CDC_RCLUSTER_E_CLUSTERDOWN;
        else if (rcluster_prefix(str, len, "LOADING"))
                rd->code = CDC_RCLUSTER_E_LOADING;
        else if (rcluster_prefix(str, len, "MASTERDOWN"))
                rd->code = CDC_RCLUSTER_E_MASTERDOWN;
        else if (rcluster_prefix(str, len, "READONLY"))
                rd->code = CDC_RCLUSTER_E_READONLY;
        else if (rcluster_prefix(str, len, "NOSCRIPT"))
                rd->code = CDC_RCLUSTER_E_NOSCRIPT;
        return 0;
}

/* ---- CLUSTER SLOTS ---- */

static int rcluster_map_node(cdc_rcluster_map_t *map, const char *host,
                             int port) {
        int i;

        for (i = 0; i < map->rm_nmasters; i++)
                if (map->rm_port[i] == port && !strcmp(map->rm_host[i], host))
                        return i;
        if (map->rm_nmasters == CDC_RCLUSTER_MAX_NODES)
                return -1;
        snprintf(map->rm_host[i], sizeof(map->rm_host[i]), "%s", host);
        map->rm_port[i] = port;
        map->rm_nmasters++;
        return i;
}

int cdc_rcluster_map_parse(const redisReply *r, const char *self_host,
                           cdc_rcluster_map_t *map, char *errstr,
                           size_t errstr_size) {
        size_t i;
        long s;

        map->rm_nmasters = 0;
        for (s = 0; s < CDC_RCLUSTER_SLOTS; s++)
                map->rm_owner[s] = RCLUSTER_NONE;
        if (!r || r->type != REDIS_REPLY_ARRAY) {
                snprintf(errstr, errstr_size, "CLUSTER SLOTS: not an array");
                return -1;
        }
        for (i = 0; i < r->elements; i++) {
                const redisReply *e = r->element[i], *m;
                const char *host;
                int idx;

                /* [start, end, [host, port, id, ...], replicas...] */
                if (!e || e->type != REDIS_REPLY_ARRAY || e->elements < 3 ||
                    e->element[0]->type != REDIS_REPLY_INTEGER ||
                    e->element[1]->type != REDIS_REPLY_INTEGER ||
                    e->element[0]->integer < 0 ||
                    e->element[1]->integer >= CDC_RCLUSTER_SLOTS ||
                    e->element[0]->integer > e->element[1]->integer)
                        goto bad;
                m = e->element[2];
                if (m->type != REDIS_REPLY_ARRAY || m->elements < 2 ||
                    m->element[0]->type != REDIS_REPLY_STRING ||
                    m->element[1]->type != REDIS_REPLY_INTEGER ||
                    m->element[1]->integer < 1 ||
                    m->element[1]->integer > 65535 ||
                    m->element[0]->len > CDC_RCLUSTER_HOST_MAX ||
                    strlen(m->element[0]->str) != m->element[0]->len)
                        goto bad;
                host = m->element[0]->str;
                if (!strcmp(host, "?"))
                        continue; /* no endpoint known: not routable */
                if (!*host)
                        host = self_host;
                idx = rcluster_map_node(map, host, (int)m->element[1]->integer);
                if (idx < 0) {
                        snprintf(errstr, errstr_size,
                                 "CLUSTER SLOTS: more than %d masters",
                                 CDC_RCLUSTER_MAX_NODES);
                        return -1;
                }
                for (s = (long)e->element[0]->integer;
                     s <= (long)e->element[1]->integer; s++)
                        map->rm_owner[s] = (uint16_t)idx;
        }
        return 0;
bad:
        snprintf(errstr, errstr_size,
                 "CLUSTER SLOTS: malformed entry %zu of the reply", i);
        return -1;
}

/* ---- real links: cdc_rsink ---- */

static void *rcluster_rs_new(void *opaque, const char *host, int port,
                             char *errstr, size_t errstr_size) {
        cdc_rcluster_t *rc = opaque;
        cdc_rsink_conf_t c = rc->rc_lconf;

        c.host = host;
        c.port = port;
        return cdc_rsink_new(&c, errstr, errstr_size);
}

static void rcluster_rs_destroy(void *link) {
        cdc_rsink_destroy(link);
}
static cdc_err_t rcluster_rs_connect(void *link) {
        return cdc_rsink_connect(link);
}
static void rcluster_rs_close(void *link) {
        cdc_rsink_close(link);
}
static int rcluster_rs_connected(const void *link) {
        return cdc_rsink_connected(link);
}
static cdc_err_t rcluster_rs_append(void *link, int argc, const char **argv,
                                    const size_t *lens) {
        return cdc_rsink_append(link, argc, argv, lens);
}
static cdc_err_t rcluster_rs_send(void *link) {
        return cdc_rsink_send(link);
}
static cdc_err_t rcluster_rs_get_reply(void *link, redisReply **replyp) {
        return cdc_rsink_get_reply(link, replyp);
}
static const char *rcluster_rs_errstr(const void *link) {
        return cdc_rsink_errstr(link);
}

static const cdc_rcluster_link_ops_t rcluster_rsink_ops = {
        rcluster_rs_new,   rcluster_rs_destroy,   rcluster_rs_connect,
        rcluster_rs_close, rcluster_rs_connected, rcluster_rs_append,
        rcluster_rs_send,  rcluster_rs_get_reply, rcluster_rs_errstr,
};

/* ---- nodes ---- */

static void rcluster_set_err(cdc_rcluster_t *rc, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/* The first error of a run or connect wins (the root cause). */
static void rcluster_set_err(cdc_rcluster_t *rc, const char *fmt, ...) {
        va_list ap;

        if (rc->rc_errstr[0])
                return;
        va_start(ap, fmt);
        vsnprintf(rc->rc_errstr, sizeof(rc->rc_errstr), fmt, ap);
        va_end(ap);
}

static int rcluster_find(const cdc_rcluster_t *rc, const char *host, int port) {
        int i;

        for (i = 0; i < rc->rc_nnodes; i++)
                if (rc->rc_nodes[i].rn_port == port &&
                    !strcmp(rc->rc_nodes[i].rn_host, host))
                        return i;
        return -1;
}

/* Index of node host:port, added if new. -1: table full or no memory. */
static int rcluster_add(cdc_rcluster_t *rc, const char *host, int port) {
        rcluster_node_t *rn;
        int i = rcluster_find(rc, host, port);

        if (i >= 0)
                return i;
        if (rc->rc_nnodes >= CDC_RCLUSTER_MAX_NODES)
                return -1;
        rn = realloc(rc->rc_nodes,
                     sizeof(*rc->rc_nodes) * (size_t)(rc->rc_nnodes + 1));
        if (!rn)
                return -1;
        rc->rc_nodes = rn;
        rn           = &rc->rc_nodes[rc->rc_nnodes];
        memset(rn, 0, sizeof(*rn));
        rn->rn_host = strdup(host);
        if (!rn->rn_host)
                return -1;
        rn->rn_port = port;
        return rc->rc_nnodes++;
}

static void rcluster_node_free(cdc_rcluster_t *rc, rcluster_node_t *rn) {
        if (rn->rn_link)
                rc->rc_ops->lo_destroy(rn->rn_link);
        free(rn->rn_host);
        memset(rn, 0, sizeof(*rn));
}

static void rcluster_close(cdc_rcluster_t *rc, rcluster_node_t *rn) {
        if (rn->rn_link)
                rc->rc_ops->lo_close(rn->rn_link);
        rn->rn_prepared = 0;
}

/* Connected and prepared (on_connect ran), or an error (reason set). */
static cdc_err_t rcluster_ready(cdc_rcluster_t *rc, rcluster_node_t *rn,
                                int prepare) {
        char es[256];
        cdc_err_t err;

        if (!rn->rn_link) {
                es[0]       = '\0';
                rn->rn_link = rc->rc_ops->lo_new(rc->rc_ops_opaque, rn->rn_host,
                                                 rn->rn_port, es, sizeof(es));
                if (!rn->rn_link) {
                        rcluster_set_err(rc, "redis %s:%d: %s", rn->rn_host,
                                         rn->rn_port, es);
                        return CDC_ERR__NOMEM;
                }
        }
        if (!rc->rc_ops->lo_connected(rn->rn_link)) {
                rn->rn_prepared = 0;
                err             = rc->rc_ops->lo_connect(rn->rn_link);
                if (err != CDC_ERR_NO_ERROR) {
                        rcluster_set_err(rc, "%s",
                                         rc->rc_ops->lo_errstr(rn->rn_link));
                        rc->rc_stats.node_errors++;
                        return err == CDC_ERR__SERVER ? err
                                                      : CDC_ERR__TRANSPORT;
                }
        }
        if (prepare && !rn->rn_prepared && rc->rc_on_connect) {
                es[0] = '\0';
                err   = rc->rc_on_connect(rc->rc_opaque, rc, rn->rn_link, es,
                                          sizeof(es));
                if (err != CDC_ERR_NO_ERROR) {
                        rcluster_set_err(rc, "%s", es);
                        rcluster_close(rc, rn);
                        return err;
                }
        }
        if (prepare)
                rn->rn_prepared = 1;
        return CDC_ERR_NO_ERROR;
}

cdc_err_t cdc_rcluster_link_command(cdc_rcluster_t *rc, void *link,
                                    redisReply **replyp, int argc,
                                    const char **argv, const size_t *lens) {
        cdc_err_t err;

        *replyp = NULL;
        err     = rc->rc_ops->lo_append(link, argc, argv, lens);
        if (err != CDC_ERR_NO_ERROR)
                return err;
        return rc->rc_ops->lo_get_reply(link, replyp);
}

cdc_err_t cdc_rcluster_master_command(cdc_rcluster_t *rc, int i,
                                      redisReply **replyp, int argc,
                                      const char **argv, const size_t *lens) {
        rcluster_node_t *rn = NULL;
        cdc_err_t err;
        int k, n = 0;

        *replyp = NULL;
        if (!rc->rc_cluster) {
                if (i == 0 && rc->rc_nnodes > 0)
                        rn = &rc->rc_nodes[0];
        } else {
                for (k = 0; k < rc->rc_nnodes && !rn; k++)
                        if (rc->rc_nodes[k].rn_master && n++ == i)
                                rn = &rc->rc_nodes[k];
        }
        if (!rn) {
                rcluster_set_err(rc, "no master %d in the topology", i);
                return CDC_ERR__TRANSPORT;
        }
        err = rcluster_ready(rc, rn, 1);
        if (err != CDC_ERR_NO_ERROR)
                return CDC_ERR__TRANSPORT;
        err = cdc_rcluster_link_command(rc, rn->rn_link, replyp, argc, argv,
                                        lens);
        if (err != CDC_ERR_NO_ERROR) {
                rcluster_set_err(rc, "redis %s:%d: %s", rn->rn_host,
                                 rn->rn_port,
                                 rc->rc_ops->lo_errstr(rn->rn_link));
                rcluster_close(rc, rn);
                rc->rc_stats.node_errors++;
                return CDC_ERR__TRANSPORT;
        }
        return CDC_ERR_NO_ERROR;
}

const char *cdc_rcluster_link_errstr(cdc_rcluster_t *rc, const void *link) {
        return rc->rc_ops->lo_errstr(link);
}

/* ---- topology ---- */

/* Ask \p rn for CLUSTER SLOTS into rc_map. 0: parsed; -1: try another
 * node; -2: not a cluster node (configuration error, reason set). */
static int rcluster_ask_slots(cdc_rcluster_t *rc, rcluster_node_t *rn) {
        static const char *argv[2]  = { "CLUSTER", "SLOTS" };
        static const size_t lens[2] = { 7, 5 };
        redisReply *r               = NULL;
        char es[256];
        int ret = -1;

        if (rcluster_ready(rc, rn, 0) != CDC_ERR_NO_ERROR)
                return -1;
        if (cdc_rcluster_link_command(rc, rn->rn_link, &r, 2, argv, lens) !=
            CDC_ERR_NO_ERROR) {
                rcluster_set_err(rc, "%s", rc->rc_ops->lo_errstr(rn->rn_link));
                rcluster_close(rc, rn);
                rc->rc_stats.node_errors++;
                return -1;
        }
        if (r->type == REDIS_REPLY_ERROR) {
                if (strstr(r->str, "cluster support disabled")) {
                        snprintf(rc->rc_errstr, sizeof(rc->rc_errstr),
                                 "redis.cluster.nodes: %s:%d is not a Redis "
                                 "Cluster node (%s); for a single Redis set "
                                 "redis.host and redis.port and leave "
                                 "redis.cluster.nodes empty",
                                 rn->rn_host, rn->rn_port, r->str);
                        ret = -2;
                } else {
                        rcluster_set_err(rc, "redis %s:%d: CLUSTER SLOTS: %s",
                                         rn->rn_host, rn->rn_port, r->str);
                }
                goto out;
        }
        if (cdc_rcluster_map_parse(r, rn->rn_host, rc->rc_map, es,
                                   sizeof(es)) != 0) {
                rcluster_set_err(rc, "redis %s:%d: %s", rn->rn_host,
                                 rn->rn_port, es);
                goto out;
        }
        if (rc->rc_map->rm_nmasters == 0) {
                rcluster_set_err(rc,
                                 "redis %s:%d: CLUSTER SLOTS: no slot has a "
                                 "master",
                                 rn->rn_host, rn->rn_port);
                goto out;
        }
        ret = 0;
out:
        if (r)
                freeReplyObject(r);
        return ret;
}

/* Install rc_map: node table = seeds + masters (links of other nodes
 * closed and dropped), slot map replaced. */
static cdc_err_t rcluster_install(cdc_rcluster_t *rc) {
        const cdc_rcluster_map_t *map = rc->rc_map;
        uint16_t idx[CDC_RCLUSTER_MAX_NODES];
        size_t k;
        int i, j, s;

        for (i = 0; i < rc->rc_nnodes; i++)
                rc->rc_nodes[i].rn_master = 0;
        for (i = 0; i < map->rm_nmasters; i++) {
                j = rcluster_add(rc, map->rm_host[i], map->rm_port[i]);
                if (j < 0) {
                        rcluster_set_err(rc, "out of memory (nodes)");
                        return CDC_ERR__NOMEM;
                }
                rc->rc_nodes[j].rn_master = 1;
        }
        /* drop nodes that are neither seeds nor masters; ASK targets of
         * the run in progress follow their node to its new index */
        for (i = 0, j = 0; i < rc->rc_nnodes; i++) {
                if (!rc->rc_nodes[i].rn_master && !rc->rc_nodes[i].rn_seed) {
                        rcluster_node_free(rc, &rc->rc_nodes[i]);
                        idx[i] = RCLUSTER_NONE;
                        continue;
                }
                if (i != j)
                        rc->rc_nodes[j] = rc->rc_nodes[i];
                idx[i] = (uint16_t)j++;
        }
        for (k = 0; k < rc->rc_run_n; k++)
                if (rc->rc_ask[k] != RCLUSTER_NONE)
                        rc->rc_ask[k] = idx[rc->rc_ask[k]];
        rc->rc_nnodes = j;
        for (i = 0; i < map->rm_nmasters; i++)
                idx[i] = (uint16_t)rcluster_find(rc, map->rm_host[i],
                                                 map->rm_port[i]);
        for (s = 0; s < CDC_RCLUSTER_SLOTS; s++)
                rc->rc_owner[s] = map->rm_owner[s] == RCLUSTER_NONE
                                          ? RCLUSTER_NONE
                                          : idx[map->rm_owner[s]];
        rc->rc_have_map = 1;
        rc->rc_stale    = 0;
        rc->rc_stats.refreshes++;
        return CDC_ERR_NO_ERROR;
}

/* Refresh the slot map: masters already connected first (they know the
 * newest topology soonest), then the seeds, then any other node. */
static cdc_err_t rcluster_refresh(cdc_rcluster_t *rc) {
        int pass, i, r;

        for (pass = 0; pass < 3; pass++) {
                for (i = 0; i < rc->rc_nnodes; i++) {
                        rcluster_node_t *rn = &rc->rc_nodes[i];
                        int conn            = rn->rn_link &&
                                   rc->rc_ops->lo_connected(rn->rn_link);

                        if ((pass == 0 && !(rn->rn_master && conn)) ||
                            (pass == 1 &&
                             (!rn->rn_seed || (rn->rn_master && conn))) ||
                            (pass == 2 &&
                             (rn->rn_seed || (rn->rn_master && conn))))
                                continue;
                        r = rcluster_ask_slots(rc, rn);
                        if (r == -2)
                                return CDC_ERR__CONFIG;
                        if (r == 0) {
                                /* a node that answered is worth keeping:
                                 * an earlier node's error is history */
                                rc->rc_errstr[0] = '\0';
                                return rcluster_install(rc);
                        }
                }
        }
        {
                char last[sizeof(rc->rc_errstr)];

                snprintf(last, sizeof(last), "%s", rc->rc_errstr);
                snprintf(rc->rc_errstr, sizeof(rc->rc_errstr),
                         "no node of redis.cluster.nodes gave the cluster "
                         "topology (first error: %.400s)",
                         last[0] ? last : "none tried");
        }
        return CDC_ERR__TRANSPORT;
}

/* Standalone: a node of a Redis Cluster is a configuration error. An
 * error reply (a proxy, an ACL without INFO) is not: then we cannot tell
 * and MOVED/ASK replies will. */
static cdc_err_t rcluster_check_standalone(cdc_rcluster_t *rc,
                                           rcluster_node_t *rn) {
        static const char *argv[2]  = { "INFO", "cluster" };
        static const size_t lens[2] = { 4, 7 };
        redisReply *r               = NULL;
        cdc_err_t err;

        err = cdc_rcluster_link_command(rc, rn->rn_link, &r, 2, argv, lens);
        if (err != CDC_ERR_NO_ERROR) {
                rcluster_set_err(rc, "%s", rc->rc_ops->lo_errstr(rn->rn_link));
                return CDC_ERR__TRANSPORT;
        }
        if (r->type == REDIS_REPLY_STRING && r->str &&
            strstr(r->str, "cluster_enabled:1")) {
                snprintf(rc->rc_errstr, sizeof(rc->rc_errstr),
                         "redis.host %s:%d is a Redis Cluster node "
                         "(cluster_enabled:1): set redis.cluster.nodes to "
                         "its address (and the other masters') instead",
                         rn->rn_host, rn->rn_port);
                err = CDC_ERR__CONFIG;
        }
        freeReplyObject(r);
        return err;
}

cdc_err_t cdc_rcluster_connect(cdc_rcluster_t *rc) {
        cdc_err_t err;
        int i;

        rc->rc_errstr[0] = '\0';
        if (!rc->rc_cluster) {
                rcluster_node_t *rn = &rc->rc_nodes[0];

                rcluster_close(rc, rn);
                err = rcluster_ready(rc, rn, 0);
                if (err == CDC_ERR_NO_ERROR)
                        err = rcluster_check_standalone(rc, rn);
                if (err == CDC_ERR_NO_ERROR)
                        err = rcluster_ready(rc, rn, 1);
                if (err != CDC_ERR_NO_ERROR) {
                        rcluster_close(rc, rn);
                        return err == CDC_ERR__CONFIG ? err
                                                      : CDC_ERR__TRANSPORT;
                }
                return CDC_ERR_NO_ERROR;
        }
        err = rcluster_refresh(rc);
        if (err != CDC_ERR_NO_ERROR)
                return err;
        for (i = 0; i < rc->rc_nnodes; i++) {
                rcluster_node_t *rn = &rc->rc_nodes[i];

                if (!rn->rn_master) {
                        rcluster_close(rc, rn); /* a seed, not a master */
                        continue;
                }
                err = rcluster_ready(rc, rn, 1);
                if (err != CDC_ERR_NO_ERROR) {
                        rc->rc_stale = 1;
                        return err == CDC_ERR__NOMEM ? err : CDC_ERR__TRANSPORT;
                }
        }
        for (i = 0; i < CDC_RCLUSTER_SLOTS; i++)
                if (rc->rc_owner[i] == RCLUSTER_NONE) {
                        /* cluster not fully covered (a failover going on
                         * without cluster-require-full-coverage) */
                        rc->rc_stale = 1;
                        rcluster_set_err(rc, "slot %d has no master", i);
                        return CDC_ERR__TRANSPORT;
                }
        return CDC_ERR_NO_ERROR;
}

int cdc_rcluster_connected(const cdc_rcluster_t *rc) {
        int i, n = 0;

        if (rc->rc_cluster && !rc->rc_have_map)
                return 0;
        for (i = 0; i < rc->rc_nnodes; i++) {
                const rcluster_node_t *rn = &rc->rc_nodes[i];

                if (rc->rc_cluster && !rn->rn_master)
                        continue;
                if (!rn->rn_link || !rn->rn_prepared ||
                    !rc->rc_ops->lo_connected(rn->rn_link))
                        return 0;
                n++;
        }
        return n > 0;
}

int cdc_rcluster_masters(const cdc_rcluster_t *rc) {
        int i, n = 0;

        if (!rc->rc_cluster)
                return 1;
        for (i = 0; i < rc->rc_nnodes; i++)
                n += rc->rc_nodes[i].rn_master;
        return n;
}

int cdc_rcluster_slot_owner(const cdc_rcluster_t *rc, int slot) {
        if (slot < 0 || slot >= CDC_RCLUSTER_SLOTS || !rc->rc_have_map ||
            rc->rc_owner[slot] == RCLUSTER_NONE)
                return -1;
        return rc->rc_owner[slot];
}

const char *cdc_rcluster_node_addr(const cdc_rcluster_t *rc, int id,
                                   int *portp) {
        if (id < 0 || id >= rc->rc_nnodes)
                return NULL;
        *portp = rc->rc_nodes[id].rn_port;
        return rc->rc_nodes[id].rn_host;
}

/* ---- run ---- */

static int rcluster_scratch(cdc_rcluster_t *rc, size_t n) {
        void *p;

        if (n <= rc->rc_scap)
                return 0;
        p = realloc(rc->rc_route, n * sizeof(*rc->rc_route));
        if (!p)
                return -1;
        rc->rc_route = p;
        p            = realloc(rc->rc_ask, n * sizeof(*rc->rc_ask));
        if (!p)
                return -1;
        rc->rc_ask = p;
        p          = realloc(rc->rc_fl, n * sizeof(*rc->rc_fl));
        if (!p)
                return -1;
        rc->rc_fl = p;
        p         = realloc(rc->rc_order, n * sizeof(*rc->rc_order));
        if (!p)
                return -1;
        rc->rc_order = p;
        rc->rc_scap  = n;
        return 0;
}

/* Outcome of one round. */
typedef struct rcluster_round_s {
        int hard;     /* a failure: the run ends with TRANSPORT */
        int config;   /* a configuration error: CONFIG */
        int redirect; /* MOVED/ASK/NOSCRIPT: another round at once */
        int pause;    /* TRYAGAIN: another round after a pause */
} rcluster_round_t;

static void rcluster_node_lost(cdc_rcluster_t *rc, rcluster_node_t *rn,
                               rcluster_round_t *rd) {
        rcluster_set_err(rc, "%s", rc->rc_ops->lo_errstr(rn->rn_link));
        rcluster_close(rc, rn);
        rn->rn_failed = 1;
        rc->rc_stale  = 1;
        rc->rc_stats.node_errors++;
        rd->hard = 1;
}

/* Handle a routing error reply of command \p i sent to node \p ni.
 * @returns 1 if it was one (the command stays pending), 0 if not. */
static int rcluster_routing_error(cdc_rcluster_t *rc, int ni, size_t i,
                                  const redisReply *r, rcluster_round_t *rd) {
        rcluster_node_t *rn = &rc->rc_nodes[ni];
        cdc_rcluster_redir_t re;
        int to;

        if (cdc_rcluster_parse_error(r->str, r->len, &re) != 0) {
                rcluster_set_err(rc, "redis %s:%d: malformed redirect: %.*s",
                                 rn->rn_host, rn->rn_port,
                                 (int)(r->len > 200 ? 200 : r->len), r->str);
                rd->hard = 1;
                return 1;
        }
        switch (re.code) {
        case CDC_RCLUSTER_E_MOVED:
        case CDC_RCLUSTER_E_ASK:
                if (!rc->rc_cluster) {
                        snprintf(rc->rc_errstr, sizeof(rc->rc_errstr),
                                 "redis.host %s:%d is a Redis Cluster node "
                                 "(it answered %.*s): set redis.cluster.nodes "
                                 "instead",
                                 rn->rn_host, rn->rn_port,
                                 (int)(r->len > 100 ? 100 : r->len), r->str);
                        rd->config = 1;
                        return 1;
                }
                /* a node that does not know its own address says "" */
                to = rcluster_add(rc, re.host[0] ? re.host : rn->rn_host,
                                  re.port);
                if (to < 0) {
                        rcluster_set_err(rc, "out of memory (nodes)");
                        rd->hard = 1;
                        return 1;
                }
                rn = &rc->rc_nodes[ni]; /* the table may have moved */
                if (re.code == CDC_RCLUSTER_E_MOVED) {
                        rc->rc_stats.moved++;
                        rc->rc_owner[re.slot]      = (uint16_t)to;
                        rc->rc_nodes[to].rn_master = 1;
                        rc->rc_stale               = 1;
                } else {
                        rc->rc_stats.ask++;
                        rc->rc_ask[i] = (uint16_t)to;
                }
                cdc_dbg(RSINK, "RCLUSTER", "%s:%d: %.*s", rn->rn_host,
                        rn->rn_port, (int)r->len, r->str);
                rd->redirect = 1;
                return 1;
        case CDC_RCLUSTER_E_TRYAGAIN:
                rc->rc_stats.tryagain++;
                rd->pause = 1;
                return 1;
        case CDC_RCLUSTER_E_NOSCRIPT:
                if (rn->rn_prepared) {
                        rn->rn_prepared = 0;
                        rn->rn_reloads++;
                        rc->rc_stats.noscript++;
                }
                if (rn->rn_reloads > RCLUSTER_MAX_RELOADS) {
                        rcluster_set_err(rc,
                                         "redis %s:%d: NOSCRIPT after %d "
                                         "reloads",
                                         rn->rn_host, rn->rn_port,
                                         RCLUSTER_MAX_RELOADS);
                        rd->hard = 1;
                }
                rd->redirect = 1;
                return 1;
        case CDC_RCLUSTER_E_CLUSTERDOWN:
        case CDC_RCLUSTER_E_LOADING:
        case CDC_RCLUSTER_E_MASTERDOWN:
        case CDC_RCLUSTER_E_READONLY:
                rc->rc_stats.down++;
                rcluster_set_err(rc, "redis %s:%d: %.*s", rn->rn_host,
                                 rn->rn_port,
                                 (int)(r->len > 200 ? 200 : r->len), r->str);
                rc->rc_stale = 1;
                rd->hard     = 1;
                return 1;
        case CDC_RCLUSTER_E_OTHER:
                break;
        }
        return 0;
}

/* Read the replies of node \p ni: ASKING acks, commands, then WAIT. */
static void rcluster_read_node(cdc_rcluster_t *rc, int ni, unsigned char *done,
                               cdc_rcluster_reply_cb_t *reply, void *opaque,
                               rcluster_round_t *rd) {
        rcluster_node_t *rn = &rc->rc_nodes[ni];
        redisReply *r       = NULL;
        char es[256];
        size_t k;
        int wait_ok = 1;

        for (k = 0; k < rn->rn_nsent; k++) {
                size_t i = rc->rc_order[rn->rn_first + k];

                if (rc->rc_fl[i] & RCF_ASKING) {
                        /* +OK of ASKING (an error shows on the command) */
                        if (rc->rc_ops->lo_get_reply(rn->rn_link, &r) !=
                            CDC_ERR_NO_ERROR) {
                                rcluster_node_lost(rc, rn, rd);
                                break;
                        }
                        freeReplyObject(r);
                        r = NULL;
                }
                if (rc->rc_ops->lo_get_reply(rn->rn_link, &r) !=
                    CDC_ERR_NO_ERROR) {
                        rcluster_node_lost(rc, rn, rd);
                        break;
                }
                rc->rc_ask[i] = RCLUSTER_NONE; /* ASK is one-shot */
                if (r->type == REDIS_REPLY_ERROR &&
                    rcluster_routing_error(rc, ni, i, r, rd)) {
                        rn = &rc->rc_nodes[ni];
                } else {
                        es[0] = '\0';
                        if (reply(opaque, i, r, es, sizeof(es))) {
                                rc->rc_fl[i] |= RCF_OK;
                        } else {
                                rcluster_set_err(rc, "%s", es);
                                rd->hard = 1;
                        }
                }
                freeReplyObject(r);
                r = NULL;
        }
        if (rc->rc_wait_replicas > 0) {
                if (rn->rn_failed) {
                        wait_ok = 0;
                } else if (rc->rc_ops->lo_get_reply(rn->rn_link, &r) !=
                           CDC_ERR_NO_ERROR) {
                        rcluster_node_lost(rc, rn, rd);
                        wait_ok = 0;
                } else {
                        if (r->type != REDIS_REPLY_INTEGER ||
                            r->integer < rc->rc_wait_replicas) {
                                wait_ok = 0;
                                rc->rc_stats.wait_short++;
                                rcluster_set_err(
                                        rc,
                                        "redis %s:%d: WAIT %d: %s%lld "
                                        "replica(s) acknowledged in %d ms",
                                        rn->rn_host, rn->rn_port,
                                        rc->rc_wait_replicas,
                                        r->type == REDIS_REPLY_ERROR ? r->str
                                                                     : "",
                                        r->type == REDIS_REPLY_INTEGER
                                                ? r->integer
                                                : 0LL,
                                        rc->rc_wait_timeout_ms);
                                rd->hard = 1;
                        }
                        freeReplyObject(r);
                }
        }
        /* acknowledged commands are done, unless WAIT did not confirm them
         * (then they are sent again: harmless) */
        for (k = 0; k < rn->rn_nsent; k++) {
                size_t i = rc->rc_order[rn->rn_first + k];

                if ((rc->rc_fl[i] & RCF_OK) && wait_ok)
                        done[i] = 1;
        }
}

static void rcluster_sleep_ms(int ms) {
        struct timespec ts;

        ts.tv_sec  = ms / 1000;
        ts.tv_nsec = (long)(ms % 1000) * 1000000L;
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
                ;
}

/* One round. @returns CDC_ERR__NOMEM, else NO_ERROR with \p rd filled. */
static cdc_err_t rcluster_round(cdc_rcluster_t *rc, size_t n,
                                unsigned char *done,
                                cdc_rcluster_build_cb_t *build,
                                cdc_rcluster_reply_cb_t *reply, void *opaque,
                                rcluster_round_t *rd) {
        static const char *asking[1]  = { "ASKING" };
        static const size_t asklen[1] = { 6 };
        const char *argv[32];
        size_t lens[32];
        char wn[16], wt[16];
        size_t i, pos;
        int ni, slot, argc;
        cdc_err_t err;

        for (ni = 0; ni < rc->rc_nnodes; ni++) {
                rc->rc_nodes[ni].rn_nsent  = 0;
                rc->rc_nodes[ni].rn_failed = 0;
        }
        /* route: count per node */
        for (i = 0; i < n; i++) {
                rc->rc_route[i] = RCLUSTER_NONE;
                rc->rc_fl[i] &= (unsigned char)~(RCF_ASKING | RCF_OK);
                if (done[i])
                        continue;
                argc = build(opaque, i, &slot, argv, lens, 32);
                if (argc <= 0) {
                        done[i] = 1;
                        continue;
                }
                if (rc->rc_ask[i] != RCLUSTER_NONE)
                        ni = rc->rc_ask[i];
                else if (!rc->rc_cluster)
                        ni = 0;
                else if (slot < 0 || slot >= CDC_RCLUSTER_SLOTS)
                        ni = RCLUSTER_NONE;
                else
                        ni = rc->rc_owner[slot];
                if (ni == RCLUSTER_NONE) {
                        rcluster_set_err(rc, "slot %d has no master", slot);
                        rc->rc_stale = 1;
                        rd->hard     = 1;
                        continue;
                }
                rc->rc_route[i] = (uint16_t)ni;
                rc->rc_nodes[ni].rn_nsent++;
        }
        /* connect the nodes needed; group the commands by node */
        pos = 0;
        for (ni = 0; ni < rc->rc_nnodes; ni++) {
                rcluster_node_t *rn = &rc->rc_nodes[ni];

                rn->rn_first = pos;
                pos += rn->rn_nsent;
                if (!rn->rn_nsent)
                        continue;
                err = rcluster_ready(rc, rn, 1);
                if (err == CDC_ERR__NOMEM)
                        return err;
                if (err != CDC_ERR_NO_ERROR) {
                        rn->rn_failed = 1;
                        rc->rc_stale  = 1;
                        rd->hard      = 1;
                }
                rn->rn_nsent = 0; /* refilled below */
        }
        for (i = 0; i < n; i++) {
                rcluster_node_t *rn;

                if (rc->rc_route[i] == RCLUSTER_NONE)
                        continue;
                rn = &rc->rc_nodes[rc->rc_route[i]];
                if (rn->rn_failed)
                        continue;
                argc = build(opaque, i, &slot, argv, lens, 32);
                err  = CDC_ERR_NO_ERROR;
                if (rc->rc_ask[i] != RCLUSTER_NONE) {
                        err = rc->rc_ops->lo_append(rn->rn_link, 1, asking,
                                                    asklen);
                        if (err == CDC_ERR_NO_ERROR)
                                rc->rc_fl[i] |= RCF_ASKING;
                }
                if (err == CDC_ERR_NO_ERROR)
                        err = rc->rc_ops->lo_append(rn->rn_link, argc, argv,
                                                    lens);
                if (err != CDC_ERR_NO_ERROR) {
                        rcluster_node_lost(rc, rn, rd);
                        continue;
                }
                rc->rc_order[rn->rn_first + rn->rn_nsent++] = i;
        }
        /* WAIT per node, then write every pipeline before reading any */
        snprintf(wn, sizeof(wn), "%d", rc->rc_wait_replicas);
        snprintf(wt, sizeof(wt), "%d", rc->rc_wait_timeout_ms);
        for (ni = 0; ni < rc->rc_nnodes; ni++) {
                rcluster_node_t *rn = &rc->rc_nodes[ni];

                if (!rn->rn_nsent || rn->rn_failed)
                        continue;
                err = CDC_ERR_NO_ERROR;
                if (rc->rc_wait_replicas > 0) {
                        const char *wv[3] = { "WAIT", wn, wt };
                        size_t wl[3]      = { 4, strlen(wn), strlen(wt) };

                        err = rc->rc_ops->lo_append(rn->rn_link, 3, wv, wl);
                }
                if (err == CDC_ERR_NO_ERROR)
                        err = rc->rc_ops->lo_send(rn->rn_link);
                if (err != CDC_ERR_NO_ERROR)
                        rcluster_node_lost(rc, rn, rd);
                rc->rc_stats.round_trips++;
        }
        for (ni = 0; ni < rc->rc_nnodes; ni++) {
                if (!rc->rc_nodes[ni].rn_nsent || rc->rc_nodes[ni].rn_failed)
                        continue;
                rcluster_read_node(rc, ni, done, reply, opaque, rd);
        }
        return CDC_ERR_NO_ERROR;
}

static cdc_err_t rcluster_run(cdc_rcluster_t *rc, size_t n, unsigned char *done,
                              cdc_rcluster_build_cb_t *build,
                              cdc_rcluster_reply_cb_t *reply, void *opaque) {
        rcluster_round_t rd;
        cdc_err_t err;
        size_t i;
        int round, ni;

        rc->rc_errstr[0] = '\0';
        if (rcluster_scratch(rc, n) != 0) {
                rcluster_set_err(rc, "out of memory");
                return CDC_ERR__NOMEM;
        }
        for (i = 0; i < n; i++) {
                rc->rc_ask[i] = RCLUSTER_NONE;
                rc->rc_fl[i]  = 0;
        }
        rc->rc_run_n = n;
        for (ni = 0; ni < rc->rc_nnodes; ni++)
                rc->rc_nodes[ni].rn_reloads = 0;
        for (round = 1;; round++) {
                if (rc->rc_cluster && (rc->rc_stale || !rc->rc_have_map)) {
                        err = rcluster_refresh(rc);
                        if (err != CDC_ERR_NO_ERROR)
                                return err;
                }
                memset(&rd, 0, sizeof(rd));
                err = rcluster_round(rc, n, done, build, reply, opaque, &rd);
                if (err != CDC_ERR_NO_ERROR)
                        return err;
                for (i = 0; i < n && done[i]; i++)
                        ;
                if (i == n)
                        return CDC_ERR_NO_ERROR;
                if (rd.config)
                        return CDC_ERR__CONFIG;
                if (rd.hard)
                        return CDC_ERR__TRANSPORT;
                if (round >= rc->rc_max_rounds) {
                        rcluster_set_err(rc,
                                         "%zu command(s) still redirected "
                                         "after %d rounds",
                                         n - i, round);
                        return CDC_ERR__TRANSPORT;
                }
                if (rd.pause) /* a migration in progress: let it finish */
                        rcluster_sleep_ms(round * 10 > 100 ? 100 : round * 10);
        }
}

cdc_err_t cdc_rcluster_run(cdc_rcluster_t *rc, size_t n, unsigned char *done,
                           cdc_rcluster_build_cb_t *build,
                           cdc_rcluster_reply_cb_t *reply, void *opaque) {
        cdc_err_t err = rcluster_run(rc, n, done, build, reply, opaque);

        rc->rc_run_n = 0; /* a refresh outside a run has no ASK to keep */
        return err;
}

/* ---- setup ---- */

static char *rcluster_dup(const char *s) {
        return s && *s ? strdup(s) : NULL;
}

cdc_rcluster_t *cdc_rcluster_new(const cdc_rcluster_conf_t *conf, char *errstr,
                                 size_t errstr_size) {
        cdc_rcluster_t *rc = NULL;
        char host[CDC_RCLUSTER_HOST_MAX + 1];
        int port;

        rc = calloc(1, sizeof(*rc));
        if (!rc)
                goto nomem;
        rc->rc_ops        = conf->rcc_ops ? conf->rcc_ops : &rcluster_rsink_ops;
        rc->rc_ops_opaque = conf->rcc_ops ? conf->rcc_ops_opaque : rc;
        rc->rc_lconf      = conf->rcc_link;
        rc->rc_user       = rcluster_dup(conf->rcc_link.user);
        rc->rc_password   = rcluster_dup(conf->rcc_link.password);
        if ((conf->rcc_link.user && *conf->rcc_link.user && !rc->rc_user) ||
            (conf->rcc_link.password && *conf->rcc_link.password &&
             !rc->rc_password))
                goto nomem;
        rc->rc_lconf.user     = rc->rc_user;
        rc->rc_lconf.password = rc->rc_password;
        rc->rc_lconf.host     = NULL;
        rc->rc_lconf.tls_ctx  = NULL;
        if (conf->rcc_tls) {
                rc->rc_tls_ctx =
                        cdc_rsink_tls_new(conf->rcc_tls, errstr, errstr_size);
                if (!rc->rc_tls_ctx)
                        goto fail;
                rc->rc_lconf.tls_ctx = rc->rc_tls_ctx;
                rc->rc_tls_name = rcluster_dup(conf->rcc_link.tls_server_name);
                if (conf->rcc_link.tls_server_name &&
                    *conf->rcc_link.tls_server_name && !rc->rc_tls_name)
                        goto nomem;
        }
        rc->rc_lconf.tls_server_name = rc->rc_tls_name;
        rc->rc_wait_replicas         = conf->rcc_wait_replicas;
        rc->rc_wait_timeout_ms       = conf->rcc_wait_timeout_ms > 0
                                               ? conf->rcc_wait_timeout_ms
                                               : 1000;
        rc->rc_max_rounds = conf->rcc_max_rounds > 0 ? conf->rcc_max_rounds
                                                     : RCLUSTER_DEF_ROUNDS;
        rc->rc_on_connect = conf->rcc_on_connect;
        rc->rc_opaque     = conf->rcc_opaque;
        rc->rc_owner      = malloc(sizeof(*rc->rc_owner) * CDC_RCLUSTER_SLOTS);
        if (!rc->rc_owner)
                goto nomem;

        if (conf->rcc_nodes && *conf->rcc_nodes) {
                const char *p = conf->rcc_nodes;

                if (cdc_rcluster_parse_nodes(conf->rcc_nodes, errstr,
                                             errstr_size) < 0)
                        goto fail;
                rc->rc_cluster = 1;
                rc->rc_map     = malloc(sizeof(*rc->rc_map));
                if (!rc->rc_map)
                        goto nomem;
                while (*p) {
                        const char *end = strchr(p, ',');
                        size_t len      = end ? (size_t)(end - p) : strlen(p);
                        int ni;

                        while (len && (*p == ' ' || *p == '\t')) {
                                p++;
                                len--;
                        }
                        while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
                                len--;
                        if (len &&
                            cdc_rcluster_parse_addr(p, len, host, &port) == 0) {
                                ni = rcluster_add(rc, host, port);
                                if (ni < 0)
                                        goto nomem;
                                rc->rc_nodes[ni].rn_seed = 1;
                        }
                        if (!end)
                                break;
                        p = end + 1;
                }
                for (port = 0; port < CDC_RCLUSTER_SLOTS; port++)
                        rc->rc_owner[port] = RCLUSTER_NONE;
        } else {
                if (rcluster_add(
                            rc, conf->rcc_host ? conf->rcc_host : "127.0.0.1",
                            conf->rcc_port > 0 ? conf->rcc_port : 6379) < 0)
                        goto nomem;
                rc->rc_nodes[0].rn_master = 1;
                memset(rc->rc_owner, 0,
                       sizeof(*rc->rc_owner) * CDC_RCLUSTER_SLOTS);
                rc->rc_have_map = 1;
        }
        return rc;
nomem:
        snprintf(errstr, errstr_size, "out of memory");
fail:
        cdc_rcluster_destroy(rc);
        return NULL;
}

void cdc_rcluster_destroy(cdc_rcluster_t *rc) {
        int i;

        if (!rc)
                return;
        for (i = 0; i < rc->rc_nnodes; i++)
                rcluster_node_free(rc, &rc->rc_nodes[i]);
        free(rc->rc_nodes);
        free(rc->rc_owner);
        free(rc->rc_map);
        free(rc->rc_route);
        free(rc->rc_ask);
        free(rc->rc_fl);
        free(rc->rc_order);
        free(rc->rc_user);
        free(rc->rc_tls_name);
        cdc_rsink_tls_destroy(rc->rc_tls_ctx);
        if (rc->rc_password) {
                memset(rc->rc_password, 0, strlen(rc->rc_password));
                free(rc->rc_password);
        }
        free(rc);
}

int cdc_rcluster_is_cluster(const cdc_rcluster_t *rc) {
        return rc->rc_cluster;
}

const char *cdc_rcluster_errstr(const cdc_rcluster_t *rc) {
        return rc->rc_errstr;
}

void cdc_rcluster_stats(const cdc_rcluster_t *rc, cdc_rcluster_stats_t *st) {
        *st = rc->rc_stats;
}
