/**
 * @file cdc_vconf.h
 * @brief Configuration of followcdc-verify: every key of the consumer
 *        (cdc_cconf.h: tables, columns, key prefix, redis.*, kafka.*, the
 *        same meaning, so the consumer's file is read as it is) plus the
 *        MySQL connection, the producer's checkpoint and epoch, and the
 *        run's mode (docs/verify.md).
 */
#ifndef CDC_VCONF_H
#define CDC_VCONF_H

#include <stddef.h>
#include <stdint.h>
#include "cdc_cconf.h"
#include "cdc_conf.h"
#include "cdc_err.h"
#include "cdc_mysql.h"

/** How verify waits for the pipeline before a difference counts. */
typedef enum {
        CDC_VSETTLE_KAFKA = 0, /**< producer checkpoint, then committed
                                *   offsets of the consumer group */
        CDC_VSETTLE_OFF,       /**< no wait: report at once */
} cdc_vsettle_mode_t;

/** The most user ids `verify.users` may list. */
#define CDC_VCONF_MAX_USERS 100000

typedef struct cdc_vconf_s {
        cdc_cconf_t vc_cc; /**< first: the consumer's rows point here */

        /* ---- MySQL ---- */
        char *mysql_host;
        int64_t mysql_port;
        char *mysql_socket;
        char *mysql_user;
        char *mysql_password;
        char *mysql_db; /**< default source.db */
        int64_t mysql_timeout_ms;
        cdc_mysql_ssl_mode_t mysql_ssl_mode;
        char *mysql_ssl_ca;
        char *mysql_ssl_cert;
        char *mysql_ssl_key;

        /* ---- the producer's side ---- */
        int64_t source_epoch;
        int ckpt_store; /**< 0 kafka, 1 file */
        char *ckpt_topic;
        char *ckpt_file;

        /* ---- the run ---- */
        int full;
        char *users;
        int64_t sample;
        int64_t every_ms;
        int json;
        int repair;                /**< verify.repair (--repair) */
        char *repair_signal_table; /**< repair.signal.table */
        int64_t chunk_rows;
        int settle;
        int64_t settle_timeout_ms;
        int64_t expiry_slack_ms;
        int64_t max_suspects;
        int64_t progress_ms;
        int64_t seed;

        /* ---- derived by cdc_vconf_finalize() ---- */
        uint64_t *vc_users; /**< owned, parsed verify.users */
        size_t vc_user_cnt;
        char vc_ckpt_topic[256];
        char vc_errbuf[512];
} cdc_vconf_t;

/** @brief Defaults into \p vc (a new engine over both tables). */
cdc_err_t cdc_vconf_init(cdc_vconf_t *vc, char *errstr, size_t errstr_size);

/** @brief Free what \p vc owns. */
void cdc_vconf_destroy(cdc_vconf_t *vc);

/** @brief Cross-field checks (the consumer's, then verify's); the
 *  finalize callback of cdc_conf_cli(). @returns NULL or the reason. */
const char *cdc_vconf_finalize(void *base);

/**
 * @brief Parse a list of user ids "1,2, 3" (decimal, 0 .. 2^64-1).
 * @param out at least \p max entries
 * @returns the count, or -1 (malformed, too many; reason in errstr).
 */
int cdc_vconf_parse_users(const char *s, uint64_t *out, size_t max,
                          char *errstr, size_t errstr_size);

#endif
