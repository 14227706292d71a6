/**
 * @file cdc_cconf.h
 * @brief Configuration of followcdc-consumer: the property table (one
 *        row per key, cf. librdkafka's rdkafka_conf.c), the values it
 *        fills, and the values derived from them by cdc_cconf_finalize().
 *
 * Every key is printed by `followcdc-consumer --list-config`, and
 * docs/CONFIGURATION.md is generated from it (scripts/gen-config-doc.sh):
 * after changing a row, rebuild and rerun the script. The row format is
 * in common/cdc_conf.h.
 */
#ifndef CDC_CCONF_H
#define CDC_CCONF_H

#include <stddef.h>
#include <stdint.h>
#include "cdc_apply.h"
#include "cdc_conf.h"
#include "cdc_mysql.h"
#include "cdc_err.h"

/** Longest `idem.ttl`: 2932896 days (8030 years) keeps created_at +
 *  idem.ttl within what the applier accepts as a time (year 9999). */
#define CDC_CCONF_IDEM_TTL_MAX INT64_C(253402214400000)

/** Maximum number of subscribed topics, reaped statuses, sources
 *  (shards) and reaped shards. */
#define CDC_CCONF_MAX_TOPICS   64
#define CDC_CCONF_MAX_STATUSES 8
#define CDC_CCONF_MAX_SOURCES  32

/** Where a replay starts. */
typedef enum {
        CDC_REPLAY_NONE = 0, /**< committed offsets (normal run) */
        CDC_REPLAY_EARLIEST, /**< every assigned partition from the start */
        CDC_REPLAY_TIME,     /**< from the first message at/after a time */
} cdc_replay_t;

/**
 * The consumer's configuration. Strings set by the property table are
 * owned by the engine (cc_conf); derived fields are owned by this struct.
 * A public value type: main() and the modules read the fields directly.
 */
typedef struct cdc_cconf_s {
        cdc_conf_t *cc_conf; /**< engine that fills the fields below */

        /* ---- source ---- */
        char *source_name; /**< topic prefix; the home source */
        char *sources;     /**< every source (shard), comma separated */
        char *source_db;   /**< database name */
        char *source_tz;   /**< time zone of DATETIME columns */

        /* ---- kafka ---- */
        char *topics;       /**< comma separated; default derived */
        char *dlq_topic;    /**< default `<prefix>.dlq` */
        int64_t batch_size; /**< messages per batch */
        int64_t batch_ms;   /**< max time to gather a batch */
        int replay_mode;    /**< `replay`: 0 none, 1 earliest */
        char *replay_from;  /**< ISO time or ms since the epoch */
        int reprocess_dlq;  /**< --reprocess-dlq: one pass, then exit */

        /* ---- memory per message and per batch ---- */
        int64_t batch_bytes;       /**< message values per batch */
        int64_t event_max_bytes;   /**< larger values are dead-lettered */
        int64_t event_max_columns; /**< wider row images are too */

        /* ---- redis ---- */
        char *redis_host;
        int64_t redis_port;
        char *redis_user;
        char *redis_password;
        int64_t redis_db;
        int64_t redis_timeout_ms;
        char *redis_key_prefix;
        int64_t redis_pipeline;
        int64_t redis_pipeline_ahead; /* cdc_apply_conf_t.push_every */
        char *redis_cluster_nodes;    /**< seeds: Redis Cluster mode */
        int64_t redis_wait_replicas;
        int64_t redis_wait_timeout_ms;
        int redis_tls;
        char *redis_tls_ca;
        char *redis_tls_cert;
        char *redis_tls_key;
        char *redis_tls_server_name;
        int redis_tls_verify;
        int64_t redis_loss_check_ms; /**< marker check period, 0: off */

        /* ---- mapping ---- */
        char *follow_table;
        int follow_model; /**< follow.model: 0 edge, 1 pair */
        char *follow_col_follower;
        char *follow_col_followee;
        char *follow_col_status;
        char *follow_col_time;
        char *follow_col_a;        /**< pair model */
        char *follow_col_b;        /**< pair model */
        char *follow_col_relation; /**< pair model */
        char *follow_col_time_ab;  /**< pair model, NULL: follow_col_time */
        char *follow_col_time_ba;  /**< pair model, NULL: follow_col_time */
        char *idem_table;
        char *idem_col_request;
        char *idem_col_bizkey;
        char *idem_col_status;
        char *idem_col_created;
        int64_t idem_ttl_ms; /**< idem.ttl (a duration) */

        /* ---- reaper ---- */
        int reaper_enable;
        char *reaper_host;
        int64_t reaper_port;
        char *reaper_socket;
        char *reaper_shards; /**< host:port or socket of each shard */
        char *reaper_user;
        char *reaper_password;
        char *reaper_db;                      /**< default source.db */
        cdc_mysql_ssl_mode_t reaper_ssl_mode; /**< reaper.mysql.ssl.mode */
        char *reaper_ssl_ca;
        char *reaper_ssl_cert;
        char *reaper_ssl_key;
        char *reaper_statuses; /**< comma separated, default "2" */
        int64_t reaper_batch;
        int64_t reaper_pause_ms;
        int64_t reaper_interval_ms; /**< default 60s */

        /* ---- operations ---- */
        char *http_listen;
        int64_t shutdown_timeout_ms;

        /* ---- derived by cdc_cconf_finalize() ---- */
        char *cc_topics[CDC_CCONF_MAX_TOPICS]; /**< owned */
        int cc_topic_cnt;
        char *cc_dlq;                            /**< owned */
        char *cc_sources[CDC_CCONF_MAX_SOURCES]; /**< owned; [0] is home */
        int cc_source_cnt;
        cdc_apply_model_t cc_follow_model;
        char *cc_reaper_shards[CDC_CCONF_MAX_SOURCES]; /**< owned */
        int cc_reaper_shard_cnt;
        int cc_statuses[CDC_CCONF_MAX_STATUSES];
        int cc_status_cnt;
        cdc_replay_t cc_replay;
        int64_t cc_replay_ts_ms; /**< CDC_REPLAY_TIME */
        char cc_group_id[256];   /**< effective group.id */
} cdc_cconf_t;

/**
 * @brief Initialise \p cc with every default.
 * @returns CDC_ERR_NO_ERROR, or CDC_ERR__CONFIG with the reason.
 * @locality main thread
 */
cdc_err_t cdc_cconf_init(cdc_cconf_t *cc, char *errstr, size_t errstr_size);

/**
 * @brief The consumer's property table (terminated by a row with name
 *        NULL), whose offsets point into cdc_cconf_t. followcdc-verify
 *        reads the consumer's configuration with it: its own struct
 *        starts with a cdc_cconf_t, so the rows apply unchanged.
 */
const cdc_prop_t *cdc_cconf_props(void);

/** @brief Free what \p cc owns (also the engine). */
void cdc_cconf_destroy(cdc_cconf_t *cc);

/**
 * @brief Validate across fields and fill the derived fields.
 *        Also used as the finalize callback of cdc_conf_cli().
 * @param base a cdc_cconf_t.
 * @returns NULL, or a static/persistent reason text.
 */
const char *cdc_cconf_finalize(void *base);

/**
 * @brief Parse a replay start: an ISO-8601 UTC time
 *        ("2026-11-22T05:20:14Z", fractions allowed) or ms since the epoch.
 * @returns 0, or -1 if malformed.
 */
int cdc_cconf_parse_time_ms(const char *s, int64_t *msp);

/**
 * @brief Parse one entry of reaper.mysql.shards: "host:port" (host may
 *        be a name or an address, an IPv6 one as [addr]:port is not
 *        unwrapped) or an absolute unix socket path ("/run/mysqld.sock",
 *        port 0).
 * @returns 0, or -1 if malformed.
 */
int cdc_cconf_parse_shard(const char *spec, char *host, size_t host_size,
                          int *portp);

/**
 * @brief Fill \p ac (borrowing \p cc's strings) for cdc_apply_new().
 */
void cdc_cconf_apply_conf(const cdc_cconf_t *cc, cdc_apply_conf_t *ac);

/**
 * @brief Copy \p argv rewriting the consumer's flag aliases for
 *        cdc_conf_cli(): `--replay-from=X` becomes `--replay.from=X`.
 * @returns a new NULL-terminated vector (free with cdc_cconf_argv_free),
 *          or NULL on allocation failure.
 */
char **cdc_cconf_argv_dup(int argc, char **argv);

/** @brief Free a vector from cdc_cconf_argv_dup(). NULL: no-op. */
void cdc_cconf_argv_free(char **argv);

#endif
