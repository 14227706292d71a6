/**
 * @file cdc_rcluster_run.c
 * @brief Redis standalone / Cluster routing: the pipelined run (see
 *        cdc_rcluster.h). Each round routes every command not yet done to
 *        a node, writes the pipelines of all nodes first and only then
 *        reads their replies, so the masters work in parallel; MOVED,
 *        ASK, TRYAGAIN, NOSCRIPT and WAIT are handled here. The node
 *        table and the topology are in cdc_rcluster.c.
 */
#include "cdc_rcluster.h"
#include "cdc_rcluster_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cdc_log.h"

/** NOSCRIPT reloads per node and run before giving up. */
#define RCLUSTER_MAX_RELOADS 2

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
        rc->rc_fl   = p;
        rc->rc_scap = n;
        return 0;
}

/* Commands [rc_run_n, n) join the run: scratch sized, no ASK, no flag. */
static int rcluster_extend(cdc_rcluster_t *rc, size_t n) {
        size_t i;

        if (n <= rc->rc_run_n)
                return 0;
        if (rcluster_scratch(rc, n) != 0) {
                rcluster_set_err(rc, "out of memory");
                return -1;
        }
        for (i = rc->rc_run_n; i < n; i++) {
                rc->rc_ask[i] = RCLUSTER_NONE;
                rc->rc_fl[i]  = 0;
        }
        rc->rc_run_n = n;
        return 0;
}

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

/* Is command \p i in node \p ni's pipeline of this round? */
static int rcluster_sent_to(const cdc_rcluster_t *rc, size_t i, int ni) {
        return (rc->rc_fl[i] & RCF_SENT) && rc->rc_route[i] == ni;
}

/* Read the replies of node \p ni: ASKING acks, commands (in the order
 * they were appended: ascending index), then WAIT. */
static void rcluster_read_node(cdc_rcluster_t *rc, int ni, size_t n,
                               unsigned char *done,
                               cdc_rcluster_reply_cb_t *reply, void *opaque,
                               rcluster_round_t *rd) {
        rcluster_node_t *rn = &rc->rc_nodes[ni];
        redisReply *r       = NULL;
        char es[256];
        size_t i;
        int wait_ok = 1;

        for (i = 0; i < n; i++) {
                if (!rcluster_sent_to(rc, i, ni))
                        continue;
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
        for (i = 0; i < n; i++)
                if (rcluster_sent_to(rc, i, ni) && (rc->rc_fl[i] & RCF_OK) &&
                    wait_ok)
                        done[i] = 1;
}

static void rcluster_sleep_ms(int ms) {
        struct timespec ts;

        ts.tv_sec  = ms / 1000;
        ts.tv_nsec = (long)(ms % 1000) * 1000000L;
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
                ;
}

/* A round starts: no node has a command, failed or been readied. */
static void rcluster_round_begin(cdc_rcluster_t *rc, rcluster_round_t *rd) {
        int ni;

        for (ni = 0; ni < rc->rc_nnodes; ni++) {
                rc->rc_nodes[ni].rn_nsent   = 0;
                rc->rc_nodes[ni].rn_failed  = 0;
                rc->rc_nodes[ni].rn_inround = 0;
                rc->rc_nodes[ni].rn_fresh   = 0;
        }
        memset(rd, 0, sizeof(*rd));
}

/* Route commands [from, n) not done to their nodes (connected and
 * prepared on first use in the round) and append them; nothing is sent.
 * \p done NULL: none is done yet (a push). @returns CDC_ERR__NOMEM,
 * else NO_ERROR with failures in \p rd. */
static cdc_err_t rcluster_append(cdc_rcluster_t *rc, size_t from, size_t n,
                                 unsigned char *done,
                                 cdc_rcluster_build_cb_t *build, void *opaque,
                                 rcluster_round_t *rd) {
        static const char *asking[1]  = { "ASKING" };
        static const size_t asklen[1] = { 6 };
        const char *argv[32];
        size_t lens[32];
        size_t i;
        int ni, slot, argc;
        cdc_err_t err;

        for (i = from; i < n; i++) {
                rcluster_node_t *rn;

                rc->rc_route[i] = RCLUSTER_NONE;
                rc->rc_fl[i] &=
                        (unsigned char)~(RCF_ASKING | RCF_OK | RCF_SENT);
                if (done && done[i])
                        continue;
                argc = build(opaque, i, &slot, argv, lens, 32);
                if (argc <= 0) {
                        if (done)
                                done[i] = 1;
                        continue; /* a push leaves it to the run */
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
                rn = &rc->rc_nodes[ni];
                if (!rn->rn_inround) {
                        rn->rn_inround = 1;
                        err            = rcluster_ready(rc, rn, 1);
                        if (err == CDC_ERR__NOMEM)
                                return err;
                        if (err != CDC_ERR_NO_ERROR) {
                                rn->rn_failed = 1;
                                rc->rc_stale  = 1;
                                rd->hard      = 1;
                        }
                }
                if (rn->rn_failed)
                        continue;
                err = CDC_ERR_NO_ERROR;
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
                rc->rc_route[i] = (uint16_t)ni;
                rc->rc_fl[i] |= RCF_SENT;
                rn->rn_nsent++;
                rn->rn_fresh = 1;
        }
        return CDC_ERR_NO_ERROR;
}

/* Write what each node has appended; \p last: the round's last write,
 * WAIT goes after the node's commands. */
static void rcluster_send(cdc_rcluster_t *rc, int last, rcluster_round_t *rd) {
        char wn[16], wt[16];
        int ni;

        snprintf(wn, sizeof(wn), "%d", rc->rc_wait_replicas);
        snprintf(wt, sizeof(wt), "%d", rc->rc_wait_timeout_ms);
        for (ni = 0; ni < rc->rc_nnodes; ni++) {
                rcluster_node_t *rn = &rc->rc_nodes[ni];
                cdc_err_t err       = CDC_ERR_NO_ERROR;

                if (!rn->rn_nsent || rn->rn_failed)
                        continue;
                if (last && rc->rc_wait_replicas > 0) {
                        const char *wv[3] = { "WAIT", wn, wt };
                        size_t wl[3]      = { 4, strlen(wn), strlen(wt) };

                        err = rc->rc_ops->lo_append(rn->rn_link, 3, wv, wl);
                        rn->rn_fresh = 1;
                }
                if (!rn->rn_fresh)
                        continue;
                if (err == CDC_ERR_NO_ERROR)
                        err = rc->rc_ops->lo_send(rn->rn_link);
                rn->rn_fresh = 0;
                if (err != CDC_ERR_NO_ERROR)
                        rcluster_node_lost(rc, rn, rd);
                rc->rc_stats.round_trips++;
        }
}

/* One round: route and append what is left (after a push: what was not
 * pushed), write every pipeline, then read them node by node, so the
 * masters work in parallel. @returns CDC_ERR__NOMEM, else NO_ERROR with
 * \p rd filled. */
static cdc_err_t rcluster_round(cdc_rcluster_t *rc, size_t n,
                                unsigned char *done,
                                cdc_rcluster_build_cb_t *build,
                                cdc_rcluster_reply_cb_t *reply, void *opaque,
                                rcluster_round_t *rd) {
        size_t from = 0;
        cdc_err_t err;
        int ni;

        if (rc->rc_open) {
                from        = rc->rc_pushed;
                *rd         = rc->rc_open_rd;
                rc->rc_open = 0;
        } else {
                rcluster_round_begin(rc, rd);
        }
        err = rcluster_append(rc, from, n, done, build, opaque, rd);
        if (err != CDC_ERR_NO_ERROR)
                return err;
        rcluster_send(rc, 1, rd);
        for (ni = 0; ni < rc->rc_nnodes; ni++) {
                if (!rc->rc_nodes[ni].rn_nsent || rc->rc_nodes[ni].rn_failed)
                        continue;
                rcluster_read_node(rc, ni, n, done, reply, opaque, rd);
        }
        return CDC_ERR_NO_ERROR;
}

/* Close the links with commands of the round whose replies will not be
 * read (an open round given up): their replies can't be told apart from
 * the next command's. */
static void rcluster_drop_round(cdc_rcluster_t *rc) {
        int ni;

        for (ni = 0; ni < rc->rc_nnodes; ni++) {
                rcluster_node_t *rn = &rc->rc_nodes[ni];

                if (rn->rn_nsent && !rn->rn_failed)
                        rcluster_close(rc, rn);
                rn->rn_nsent = 0;
        }
        rc->rc_open   = 0;
        rc->rc_pushed = 0;
}

/* A run starts: no error yet, no command, no NOSCRIPT reload. */
static void rcluster_run_begin(cdc_rcluster_t *rc) {
        int ni;

        rc->rc_errstr[0] = '\0';
        rc->rc_run_n     = 0;
        for (ni = 0; ni < rc->rc_nnodes; ni++)
                rc->rc_nodes[ni].rn_reloads = 0;
}

void cdc_rcluster_abort(cdc_rcluster_t *rc) {
        if (!rc->rc_open)
                return;
        cdc_dbg(RSINK, "RCLUSTER",
                "%zu pushed command(s) abandoned: their connections close",
                rc->rc_pushed);
        rcluster_drop_round(rc);
        rc->rc_run_n = 0;
}

cdc_err_t cdc_rcluster_push(cdc_rcluster_t *rc, size_t n,
                            cdc_rcluster_build_cb_t *build, void *opaque) {
        cdc_err_t err;

        if (rc->rc_open && rc->rc_open_build != build)
                cdc_rcluster_abort(rc);
        if (!rc->rc_open) {
                if (!n)
                        return CDC_ERR_NO_ERROR;
                rcluster_run_begin(rc);
                if (rc->rc_cluster && (rc->rc_stale || !rc->rc_have_map)) {
                        err = rcluster_refresh(rc);
                        if (err != CDC_ERR_NO_ERROR)
                                return err; /* the run tries again */
                }
                rcluster_round_begin(rc, &rc->rc_open_rd);
                rc->rc_open       = 1;
                rc->rc_pushed     = 0;
                rc->rc_open_build = build;
        }
        if (n <= rc->rc_pushed)
                return CDC_ERR_NO_ERROR;
        if (rcluster_extend(rc, n) != 0)
                return CDC_ERR__NOMEM; /* nothing of [pushed, n) appended */
        err = rcluster_append(rc, rc->rc_pushed, n, NULL, build, opaque,
                              &rc->rc_open_rd);
        if (err != CDC_ERR_NO_ERROR) {
                /* some appended, some not: give the round up */
                cdc_rcluster_abort(rc);
                return err;
        }
        rc->rc_pushed = n;
        rcluster_send(rc, 0, &rc->rc_open_rd);
        return CDC_ERR_NO_ERROR;
}

static cdc_err_t rcluster_run(cdc_rcluster_t *rc, size_t n, unsigned char *done,
                              cdc_rcluster_build_cb_t *build,
                              cdc_rcluster_reply_cb_t *reply, void *opaque) {
        rcluster_round_t rd;
        cdc_err_t err;
        size_t i;
        int round;

        if (rc->rc_open && (rc->rc_open_build != build || n < rc->rc_pushed))
                cdc_rcluster_abort(rc); /* not the pushed commands */
        if (!rc->rc_open)
                rcluster_run_begin(rc);
        if (rcluster_extend(rc, n) != 0) {
                if (rc->rc_open)
                        rcluster_drop_round(rc);
                return CDC_ERR__NOMEM;
        }
        for (round = 1;; round++) {
                /* an open round keeps the map its commands were routed by */
                if (!rc->rc_open && rc->rc_cluster &&
                    (rc->rc_stale || !rc->rc_have_map)) {
                        err = rcluster_refresh(rc);
                        if (err != CDC_ERR_NO_ERROR)
                                return err;
                }
                err = rcluster_round(rc, n, done, build, reply, opaque, &rd);
                if (err != CDC_ERR_NO_ERROR) {
                        rcluster_drop_round(rc); /* nothing will be read */
                        return err;
                }
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

        rc->rc_run_n  = 0; /* a refresh outside a run has no ASK to keep */
        rc->rc_open   = 0;
        rc->rc_pushed = 0;
        return err;
}
