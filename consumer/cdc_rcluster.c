/**
 * @file cdc_rcluster.c
 * @brief Redis standalone / Cluster routing (see cdc_rcluster.h): the
 *        node table, the links (cdc_rsink or the link ops of a test), the
 *        topology (CLUSTER SLOTS refresh, slot owners) and setup.
 *
 * Written from the Redis Cluster specification (key distribution model,
 * redirection and resharding, MOVED and ASK). The pipelined run is in
 * cdc_rcluster_run.c, key slots and reply parsing in cdc_rcluster_parse.c.
 */
#include "cdc_rcluster.h"
#include "cdc_rcluster_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RCLUSTER_DEF_ROUNDS 6

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

/* The first error of a run or connect wins (the root cause). */
void rcluster_set_err(cdc_rcluster_t *rc, const char *fmt, ...) {
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
int rcluster_add(cdc_rcluster_t *rc, const char *host, int port) {
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

void rcluster_close(cdc_rcluster_t *rc, rcluster_node_t *rn) {
        if (rn->rn_link)
                rc->rc_ops->lo_close(rn->rn_link);
        rn->rn_prepared = 0;
}

/* Connected and prepared (on_connect ran), or an error (reason set). */
cdc_err_t rcluster_ready(cdc_rcluster_t *rc, rcluster_node_t *rn, int prepare) {
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
        cdc_rcluster_abort(rc); /* a reply must be this command's */
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
cdc_err_t rcluster_refresh(cdc_rcluster_t *rc) {
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

        cdc_rcluster_abort(rc);
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
