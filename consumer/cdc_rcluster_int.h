/**
 * @file cdc_rcluster_int.h
 * @brief Internal definitions of cdc_rcluster, shared by cdc_rcluster.c
 *        (nodes, topology, setup), cdc_rcluster_run.c (the pipelined run)
 *        and cdc_rcluster_parse.c (key slots, reply parsing). Also used by
 *        regress tests (tests/unit/test_rcluster.c parses CLUSTER SLOTS
 *        replies without a server). Nothing else includes it.
 */
#ifndef CDC_RCLUSTER_INT_H
#define CDC_RCLUSTER_INT_H

#include "cdc_rcluster.h"

/** A slot -> master map parsed from one CLUSTER SLOTS reply. */
typedef struct cdc_rcluster_map_s {
        int rm_nmasters;
        char rm_host[CDC_RCLUSTER_MAX_NODES][CDC_RCLUSTER_HOST_MAX + 1];
        int rm_port[CDC_RCLUSTER_MAX_NODES];
        /** index into rm_host/rm_port, or CDC_RCLUSTER_NO_NODE */
        uint16_t rm_owner[CDC_RCLUSTER_SLOTS];
} cdc_rcluster_map_t;

#define CDC_RCLUSTER_NO_NODE 0xffff

#define RCLUSTER_NONE CDC_RCLUSTER_NO_NODE

/* per command flags of a run */
#define RCF_ASKING 0x01 /* sent after ASKING this round */
#define RCF_OK     0x02 /* acceptable reply, waiting for WAIT */
#define RCF_SENT   0x04 /* appended to its node's pipeline this round */

/* Outcome of one round. */
typedef struct rcluster_round_s {
        int hard;     /* a failure: the run ends with TRANSPORT */
        int config;   /* a configuration error: CONFIG */
        int redirect; /* MOVED/ASK/NOSCRIPT: another round at once */
        int pause;    /* TRYAGAIN: another round after a pause */
} rcluster_round_t;

typedef struct rcluster_node_s {
        char *rn_host;
        int rn_port;
        void *rn_link;   /* created on first use */
        int rn_master;   /* a master of the current topology */
        int rn_seed;     /* from redis.cluster.nodes (kept) */
        int rn_prepared; /* on_connect ran on this connection */
        int rn_reloads;  /* NOSCRIPT reloads during this run */
        /* per round */
        size_t rn_nsent; /* commands appended */
        int rn_failed;
        int rn_inround; /* readied (connected, prepared) this round */
        int rn_fresh;   /* appended since its last send */
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
        /* a first round opened by cdc_rcluster_push(): commands
         * [0, rc_pushed) are written, their replies not read yet */
        int rc_open;
        size_t rc_pushed;
        cdc_rcluster_build_cb_t *rc_open_build;
        rcluster_round_t rc_open_rd; /* its outcome so far */

        cdc_rcluster_stats_t rc_stats;
        char rc_errstr[512];
};

/* Node helpers of cdc_rcluster.c, not static only because
 * cdc_rcluster_run.c calls them too: internal, nothing else may. */

/* The first error of a run or connect wins (the root cause). */
void rcluster_set_err(cdc_rcluster_t *rc, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
/* Index of node host:port, added if new. -1: table full or no memory. */
int rcluster_add(cdc_rcluster_t *rc, const char *host, int port);
void rcluster_close(cdc_rcluster_t *rc, rcluster_node_t *rn);
/* Connected and prepared (on_connect ran), or an error (reason set). */
cdc_err_t rcluster_ready(cdc_rcluster_t *rc, rcluster_node_t *rn, int prepare);
/* Refresh the slot map from the first node that answers CLUSTER SLOTS. */
cdc_err_t rcluster_refresh(cdc_rcluster_t *rc);

/**
 * @brief Parse a CLUSTER SLOTS reply (untrusted: every element is
 *        checked). A master announced with an empty host is \p self_host
 *        (the node that answered); one announced as "?" (no endpoint) is
 *        skipped, its slots stay without owner.
 * @returns 0, or -1 with the reason in errstr.
 */
int cdc_rcluster_map_parse(const redisReply *r, const char *self_host,
                           cdc_rcluster_map_t *map, char *errstr,
                           size_t errstr_size);

#endif
