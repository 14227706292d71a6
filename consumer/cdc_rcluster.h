/**
 * @file cdc_rcluster.h
 * @brief Redis routing for the consumer: one node (standalone) or a Redis
 *        Cluster, on top of hiredis 0.14 (which has no cluster support).
 *
 * Cluster mode follows the Redis Cluster specification: a key's slot is
 * CRC16-XMODEM of the key (or of its hash tag, the bytes between the
 * first `{` and the next `}` when that is not empty) modulo 16384; the
 * topology comes from `CLUSTER SLOTS` asked to a known node or a seed;
 * there is one connection (a cdc_rsink_t) and one pipeline per master,
 * and every command goes to the master of its slot. Redirections:
 *
 *  - `MOVED <slot> <host:port>`: the slot has a new owner. The slot map
 *    entry is updated at once, the whole map is refreshed before the next
 *    round, and the command is sent again.
 *  - `ASK <slot> <host:port>`: the slot is being migrated and this key is
 *    already on the importing node: `ASKING` then the command, on that
 *    node, once (the map is not changed).
 *  - `TRYAGAIN` (keys of one command split by a migration in progress):
 *    short pause, next round.
 *  - `CLUSTERDOWN`, `LOADING`, `MASTERDOWN`, `READONLY`, a lost or refused
 *    connection: the run fails with CDC_ERR__TRANSPORT (the caller backs
 *    off, holds its offsets and calls cdc_rcluster_connect() again, which
 *    refreshes the topology).
 *  - `NOSCRIPT`: the node's script cache is empty (restart, failover to a
 *    replica): the on_connect callback runs again on that node and the
 *    command is sent again.
 *
 * Commands that were acknowledged stay acknowledged (the caller's `done`
 * flags); everything else is sent again in the next round or run, which
 * is harmless for the consumer since every script is version-checked.
 *
 * Standalone mode is one node owning every slot: no topology, and a
 * MOVED/ASK reply (or a node reporting cluster_enabled:1 at connect) is
 * CDC_ERR__CONFIG naming the setting to use instead. The reverse (a seed
 * without cluster support) is CDC_ERR__CONFIG too.
 *
 * The server boundary is a small ops struct (cdc_rcluster_link_ops_t):
 * the real one drives cdc_rsink connections, the unit tests a simulated
 * cluster (tests/unit/test_rcluster.c).
 *
 * @locality every call: the consumer's loop thread
 */
#ifndef CDC_RCLUSTER_H
#define CDC_RCLUSTER_H

#include <stddef.h>
#include <stdint.h>
#include <hiredis/hiredis.h>

#include "cdc_err.h"
#include "cdc_rsink.h"

/** Number of hash slots of a Redis Cluster. */
#define CDC_RCLUSTER_SLOTS     16384
/** Most nodes a topology may name (seeds included). */
#define CDC_RCLUSTER_MAX_NODES 1024
/** Longest host name accepted from configuration or a reply. */
#define CDC_RCLUSTER_HOST_MAX  255

typedef struct cdc_rcluster_s cdc_rcluster_t;

/* ---- pure functions (no server) ---- */

/**
 * @brief CRC16-XMODEM (polynomial 0x1021, initial value 0) of \p buf:
 *        "123456789" gives 0x31C3.
 */
uint16_t cdc_rcluster_crc16(const void *buf, size_t len);

/**
 * @brief The hash slot of a key: CRC16 of its hash tag if it has a
 *        non-empty one (bytes after the first `{` up to the next `}`),
 *        else of the whole key, modulo 16384.
 */
int cdc_rcluster_slot(const void *key, size_t len);

/** What an error reply means for routing. */
typedef enum {
        CDC_RCLUSTER_E_OTHER = 0,   /**< not a routing error */
        CDC_RCLUSTER_E_MOVED,       /**< slot moved: refresh, resend */
        CDC_RCLUSTER_E_ASK,         /**< ASKING + resend to the target */
        CDC_RCLUSTER_E_TRYAGAIN,    /**< migration in progress: pause */
        CDC_RCLUSTER_E_CLUSTERDOWN, /**< cluster not serving: back off */
        CDC_RCLUSTER_E_LOADING,     /**< node loading its dataset */
        CDC_RCLUSTER_E_MASTERDOWN,  /**< replica lost its master link */
        CDC_RCLUSTER_E_READONLY,    /**< a replica: topology changed */
        CDC_RCLUSTER_E_NOSCRIPT,    /**< script cache empty: reload */
} cdc_rcluster_ecode_t;

/** A parsed error reply. */
typedef struct cdc_rcluster_redir_s {
        cdc_rcluster_ecode_t code;
        int slot;                             /**< MOVED/ASK, else -1 */
        char host[CDC_RCLUSTER_HOST_MAX + 1]; /**< MOVED/ASK; may be "" */
        int port;                             /**< MOVED/ASK */
} cdc_rcluster_redir_t;

/**
 * @brief Classify the text of an error reply (without the leading '-').
 * @returns 0, or -1 if it is a MOVED/ASK whose slot or address is
 *          malformed (\p rd->code is then CDC_RCLUSTER_E_OTHER).
 */
int cdc_rcluster_parse_error(const char *str, size_t len,
                             cdc_rcluster_redir_t *rd);

/**
 * @brief Parse one "host:port" ("[v6]:port" for IPv6 literals).
 * @param host at least CDC_RCLUSTER_HOST_MAX + 1 bytes.
 * @returns 0, or -1 if malformed.
 */
int cdc_rcluster_parse_addr(const char *s, size_t len, char *host, int *portp);

/**
 * @brief Validate a comma separated list of "host:port" seeds.
 * @returns the number of seeds (>= 1), or -1 with the reason in errstr.
 */
int cdc_rcluster_parse_nodes(const char *list, char *errstr,
                             size_t errstr_size);

/* ---- the server boundary ---- */

/** One connection to one node. The real implementation is cdc_rsink. */
typedef struct cdc_rcluster_link_ops_s {
        /** New unconnected link to host:port (NULL on allocation failure,
         *  reason in errstr). \p opaque is cdc_rcluster_conf_t.rcc_ops_opaque.
         */
        void *(*lo_new)(void *opaque, const char *host, int port, char *errstr,
                        size_t errstr_size);
        void (*lo_destroy)(void *link);
        /** Connect and authenticate (see cdc_rsink_connect()). */
        cdc_err_t (*lo_connect)(void *link);
        void (*lo_close)(void *link);
        int (*lo_connected)(const void *link);
        cdc_err_t (*lo_append)(void *link, int argc, const char **argv,
                               const size_t *lens);
        /** Write everything appended (without waiting for replies). */
        cdc_err_t (*lo_send)(void *link);
        cdc_err_t (*lo_get_reply)(void *link, redisReply **replyp);
        const char *(*lo_errstr)(const void *link);
} cdc_rcluster_link_ops_t;

/**
 * @brief Called after every (re)connect of a node, and again after a
 *        NOSCRIPT reply of that node, before commands are sent to it
 *        (the consumer loads its scripts here, with
 *        cdc_rcluster_link_command()).
 * @returns CDC_ERR_NO_ERROR or an error with its reason in errstr (the
 *          link is then closed and the run fails with TRANSPORT).
 */
typedef cdc_err_t(cdc_rcluster_on_connect_cb_t)(void *opaque,
                                                cdc_rcluster_t *rc, void *link,
                                                char *errstr,
                                                size_t errstr_size);

/** Settings. Strings are copied. */
typedef struct cdc_rcluster_conf_s {
        /** Comma separated "host:port" seeds: cluster mode. NULL or
         *  empty: standalone mode on rcc_host:rcc_port. */
        const char *rcc_nodes;
        const char *rcc_host; /**< standalone: NULL = "127.0.0.1" */
        int rcc_port;         /**< standalone: 0 = 6379 */
        /** Per connection: copied for every node (host/port replaced;
         *  tls_ctx is ignored: see rcc_tls). */
        cdc_rsink_conf_t rcc_link;
        /** TLS to every node (one context shared by all connections);
         *  NULL: plain TCP. */
        const cdc_rsink_tls_t *rcc_tls;
        /** > 0: after each node's pipeline, WAIT for this many replicas
         *  of that node; its commands count as done only then. */
        int rcc_wait_replicas;
        int rcc_wait_timeout_ms; /**< WAIT timeout (1000) */
        /** Commands acknowledged to the caller only after this many
         *  rounds of redirects fail the run (TRANSPORT). 0: 6. */
        int rcc_max_rounds;
        cdc_rcluster_on_connect_cb_t *rcc_on_connect;
        void *rcc_opaque; /**< for rcc_on_connect */
        /** NULL: real connections (cdc_rsink). Tests: a simulation. */
        const cdc_rcluster_link_ops_t *rcc_ops;
        void *rcc_ops_opaque;
} cdc_rcluster_conf_t;

/** Counters since start. */
typedef struct cdc_rcluster_stats_s {
        uint64_t moved;       /**< MOVED replies followed */
        uint64_t ask;         /**< ASK replies followed */
        uint64_t tryagain;    /**< TRYAGAIN replies (paused, resent) */
        uint64_t down;        /**< CLUSTERDOWN/LOADING/MASTERDOWN/READONLY */
        uint64_t refreshes;   /**< topology refreshes (CLUSTER SLOTS) */
        uint64_t noscript;    /**< on_connect re-run after NOSCRIPT */
        uint64_t wait_short;  /**< WAITs that saw too few replicas */
        uint64_t node_errors; /**< connects or pipelines lost on a node */
        uint64_t round_trips; /**< pipelines sent (one per node and round) */
} cdc_rcluster_stats_t;

/**
 * @brief New router; does not connect.
 * @returns the handle, or NULL with the reason in \p errstr (bad
 *          rcc_nodes, allocation failure).
 */
cdc_rcluster_t *cdc_rcluster_new(const cdc_rcluster_conf_t *conf, char *errstr,
                                 size_t errstr_size);

/** @brief Close every connection and free. NULL: no-op. */
void cdc_rcluster_destroy(cdc_rcluster_t *rc);

/** @returns non-zero in cluster mode. */
int cdc_rcluster_is_cluster(const cdc_rcluster_t *rc);

/**
 * @brief Standalone: (re)connect the node (a previous connection is
 *        dropped). Cluster: refresh the topology from a known node or a
 *        seed, connect every master not connected yet, drop links to
 *        nodes that are no longer masters. on_connect runs on every new
 *        connection.
 * @returns CDC_ERR_NO_ERROR; CDC_ERR__TRANSPORT (a node unreachable, a
 *          slot without a master, cluster not ready: retry with
 *          backoff); CDC_ERR__CONFIG (cluster node configured as a
 *          single Redis, or the reverse); reason in cdc_rcluster_errstr().
 */
cdc_err_t cdc_rcluster_connect(cdc_rcluster_t *rc);

/** @returns non-zero if every master of the topology is connected. */
int cdc_rcluster_connected(const cdc_rcluster_t *rc);

/** Fills slot and argv for command \p i (the argv must stay valid until
 *  the run returns). @returns argc (<= max), or 0 if \p i has no command. */
typedef int(cdc_rcluster_build_cb_t)(void *opaque, size_t i, int *slotp,
                                     const char **argv, size_t *lens, int max);
/** The final reply of command \p i (never a routing error; borrowed).
 *  @returns 1 if acceptable, 0 if the command failed (keep it, and the
 *  run fails with TRANSPORT; put the reason in errstr). */
typedef int(cdc_rcluster_reply_cb_t)(void *opaque, size_t i,
                                     const redisReply *r, char *errstr,
                                     size_t errstr_size);

/**
 * @brief Send commands [0, n) whose \p done flag is 0 to the owners of
 *        their slots, one pipeline per node (plus WAIT when configured),
 *        following MOVED/ASK/NOSCRIPT for up to rcc_max_rounds rounds.
 *        A command's done flag is set once its node acknowledged it
 *        (and, with WAIT, once enough replicas of that node did).
 * @returns CDC_ERR_NO_ERROR when every command is done; otherwise
 *          CDC_ERR__TRANSPORT (retry after backoff and
 *          cdc_rcluster_connect(); done flags say what is left),
 *          CDC_ERR__CONFIG (standalone node answered MOVED/ASK) or
 *          CDC_ERR__NOMEM; reason in cdc_rcluster_errstr().
 */
cdc_err_t cdc_rcluster_run(cdc_rcluster_t *rc, size_t n, unsigned char *done,
                           cdc_rcluster_build_cb_t *build,
                           cdc_rcluster_reply_cb_t *reply, void *opaque);

/**
 * @brief Start the first round of the next cdc_rcluster_run() early:
 *        route, append and write commands [already pushed, n) without
 *        reading a reply, so the nodes work while the caller prepares
 *        more. The run that follows (same \p build, n at least as large)
 *        sends the rest and reads every reply; failures met here are
 *        reported by it. Between the two, nothing else may use the
 *        router: cdc_rcluster_connect(), cdc_rcluster_master_command()
 *        or a run of other commands abandon the pushed commands (their
 *        connections close; they were not acknowledged), as does
 *        cdc_rcluster_abort().
 * @returns CDC_ERR_NO_ERROR, or an error that sent nothing new (out of
 *          memory, topology refresh failed): the run does it.
 */
cdc_err_t cdc_rcluster_push(cdc_rcluster_t *rc, size_t n,
                            cdc_rcluster_build_cb_t *build, void *opaque);

/** @brief Abandon pushed commands whose run will not come (their
 *  connections close). No-op without any. */
void cdc_rcluster_abort(cdc_rcluster_t *rc);

/**
 * @brief One command on one link, synchronously (for on_connect).
 * @param replyp the reply (caller frees with freeReplyObject()).
 */
cdc_err_t cdc_rcluster_link_command(cdc_rcluster_t *rc, void *link,
                                    redisReply **replyp, int argc,
                                    const char **argv, const size_t *lens);

/**
 * @brief One command, synchronously, on master \p i of the topology
 *        (0 <= i < cdc_rcluster_masters(); standalone: the node), e.g.
 *        SCAN, which walks one node's keys only. Connects the node if
 *        needed (on_connect runs). A failure closes that link.
 * @param replyp the reply (caller frees with freeReplyObject()).
 * @returns CDC_ERR_NO_ERROR (the reply may be an error reply);
 *          CDC_ERR__TRANSPORT (no such master, connection failed; reason
 *          in cdc_rcluster_errstr()).
 */
cdc_err_t cdc_rcluster_master_command(cdc_rcluster_t *rc, int i,
                                      redisReply **replyp, int argc,
                                      const char **argv, const size_t *lens);

/** @returns the error text of \p link ("" if none). Borrowed. */
const char *cdc_rcluster_link_errstr(cdc_rcluster_t *rc, const void *link);

/** @returns the number of masters in the topology (1 standalone). */
int cdc_rcluster_masters(const cdc_rcluster_t *rc);

/**
 * @brief The node that owns \p slot in the current topology (every slot
 *        is node 0's outside Redis Cluster).
 * @returns a node id, valid until the next topology refresh (connect,
 *          run), or -1 if the slot has no master or is out of range.
 */
int cdc_rcluster_slot_owner(const cdc_rcluster_t *rc, int slot);

/**
 * @brief Address of node \p id of cdc_rcluster_slot_owner().
 * @returns the host (borrowed, valid as the id) and its port in \p portp,
 *          or NULL if \p id is not a node.
 */
const char *cdc_rcluster_node_addr(const cdc_rcluster_t *rc, int id,
                                   int *portp);

/** @returns the last error text ("" if none). Borrowed. */
const char *cdc_rcluster_errstr(const cdc_rcluster_t *rc);

/** @brief Copy the counters. */
void cdc_rcluster_stats(const cdc_rcluster_t *rc, cdc_rcluster_stats_t *st);

#endif
