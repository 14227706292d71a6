/**
 * @file cdc_pconf.h
 * @brief The producer's configuration: one struct, one property table for
 *        the common engine (common/cdc_conf.h, where the row format is),
 *        and the cross-field validation that derives the table list and
 *        key columns. docs/CONFIGURATION.md is generated from the table
 *        (scripts/gen-config-doc.sh): after changing a row, rebuild and
 *        rerun the script.
 */
#ifndef CDC_PCONF_H
#define CDC_PCONF_H

#include <stddef.h>
#include <stdint.h>
#include "cdc_conf.h"
#include "cdc_mysql.h"

/** Most tables one producer captures. */
#define CDC_PCONF_TABLES_MAX  32
/** Most key columns of one table. */
#define CDC_PCONF_KEYCOLS_MAX 8

/** snapshot.mode; the order is the row's `.values` order. */
typedef enum {
        CDC_SNAPSHOT_INITIAL = 0, /**< only when there is no checkpoint */
        CDC_SNAPSHOT_ALWAYS,      /**< at every start */
        CDC_SNAPSHOT_NEVER,       /**< never; no checkpoint: start at end */
        CDC_SNAPSHOT_WHEN_NEEDED, /**< no checkpoint, or binlog purged */
} cdc_snapshot_mode_t;

/** checkpoint.store; the order is the row's `.values` order. */
typedef enum {
        CDC_CKPT_STORE_KAFKA = 0,
        CDC_CKPT_STORE_FILE,
} cdc_ckpt_store_t;

/** One captured table and its message key columns (derived). */
typedef struct cdc_ptable_s {
        char *name;
        const char *cols[CDC_PCONF_KEYCOLS_MAX];
        size_t col_cnt;
        char *colbuf; /**< storage of cols */
} cdc_ptable_t;

typedef struct cdc_pconf_s {
        /* ---- set by the engine (see the table in cdc_pconf.c) ---- */
        char *mysql_host;
        int64_t mysql_port;
        char *mysql_socket;
        char *mysql_user;
        char *mysql_password;
        char *mysql_db;
        int64_t mysql_server_id;
        int64_t mysql_heartbeat_ms;
        int64_t mysql_connect_timeout_ms;
        int64_t mysql_read_timeout_ms;
        cdc_mysql_ssl_mode_t mysql_ssl_mode; /**< mysql.ssl.mode (enum row) */
        char *mysql_ssl_ca;
        char *mysql_ssl_cert;
        char *mysql_ssl_key;

        char *source_name;
        int64_t source_epoch;
        char *source_tables;
        char *source_tz;
        char *source_keys;
        char *key_follow;
        char *key_idem;

        cdc_ckpt_store_t store; /**< checkpoint.store (enum row) */
        char *ckpt_topic;
        char *ckpt_file;
        int64_t ckpt_interval_ms;

        cdc_snapshot_mode_t snap_mode; /**< snapshot.mode (enum row) */
        int64_t snapshot_chunk_rows;
        int snapshot_now;

        char *http_listen;

        int lock_enabled;
        int64_t lock_retry_ms;
        int64_t lock_check_ms;

        int64_t max_inflight_txns;
        int64_t flush_timeout_ms;
        int publish_thread;   /* cdc_kprod_publisher_start() */
        int64_t threads_nice; /* producer.threads.nice */

        int transactions;      /**< producer.transactions */
        int64_t txn_commit_ms; /**< producer.transaction.ms */

        int topics_create;          /**< topics.create */
        int64_t topics_partitions;  /**< topics.partitions (-1: broker) */
        int64_t topics_rf;          /**< topics.replication.factor */
        int topics_require_compact; /**< topics.require.compact */
        char *repair_signal_table;
        char *repair_users_table;
        int64_t repair_chunk_rows;
        int bench_decode_only;
        int bench_stop_at_end;

        /* ---- derived by cdc_pconf_finalize() ---- */
        cdc_ptable_t tables[CDC_PCONF_TABLES_MAX];
        size_t table_cnt;
        const char *table_names[CDC_PCONF_TABLES_MAX];
        char ckpt_topic_buf[256];
        char errbuf[512];
} cdc_pconf_t;

/** @returns the property table (terminated by a NULL name). */
const cdc_prop_t *cdc_pconf_props(void);

/**
 * @brief Validate across fields and derive tables, keys and modes.
 *        Signature fits cdc_conf_cli()'s finalize.
 * @param base a cdc_pconf_t *
 * @returns NULL, or the reason (borrowed from the struct).
 * @locality main thread
 */
const char *cdc_pconf_finalize(void *base);

/** @brief Free what cdc_pconf_finalize() derived (the engine frees the
 *         rest). NULL: no-op. */
void cdc_pconf_clear(cdc_pconf_t *pc);

/** @returns the table \p name or NULL. Borrowed. */
const cdc_ptable_t *cdc_pconf_table(const cdc_pconf_t *pc, const char *name);

/** @returns the mode's name. */
const char *cdc_pconf_snapshot_mode_str(cdc_snapshot_mode_t m);

#endif
