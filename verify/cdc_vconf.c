/**
 * @file cdc_vconf.c
 * @brief followcdc-verify's property table: the consumer's rows followed
 *        by verify's own.
 */
#include "cdc_vconf.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define _V(f) offsetof(struct cdc_vconf_s, f)

_Static_assert(sizeof(cdc_mysql_ssl_mode_t) == sizeof(int),
               "an enum property is an int");

/* clang-format off */
static const cdc_prop_t vconf_props[] = {
 {"mysql.host", CDC_C_STR, _V(mysql_host), 0, 0, "127.0.0.1",
  "MySQL/MariaDB host verify reads (a replica is fine if it writes its own binlog)"},
 {"mysql.port", CDC_C_INT, _V(mysql_port), 1, 65535, "3306", "MySQL port"},
 {"mysql.socket", CDC_C_STR, _V(mysql_socket), 0, 0, NULL,
  "MySQL unix socket (instead of host/port)"},
 {"mysql.user", CDC_C_STR, _V(mysql_user), 0, 0, "followcdc_verify",
  "MySQL user (SELECT on the two tables)"},
 {"mysql.password", CDC_C_SECRET, _V(mysql_password), 0, 0, NULL,
  "MySQL password"},
 {"mysql.db", CDC_C_STR, _V(mysql_db), 0, 0, NULL,
  "Database of the tables (default source.db)"},
 {"mysql.timeout.ms", CDC_C_MS, _V(mysql_timeout_ms), 100, 3600000, "30s",
  "MySQL connect timeout; reads may take ten times as long"},
 {"mysql.ssl.mode", CDC_C_ENUM, _V(mysql_ssl_mode), 0, 0, "preferred",
  "TLS to MySQL, as the producer's mysql.ssl.mode", .values = CDC_MYSQL_SSL_MODES},
 {"mysql.ssl.ca", CDC_C_STR, _V(mysql_ssl_ca), 0, 0, NULL,
  "CA certificate file (PEM) the server's certificate must chain to"},
 {"mysql.ssl.cert", CDC_C_STR, _V(mysql_ssl_cert), 0, 0, NULL,
  "Client certificate file (PEM), for accounts that REQUIRE X509"},
 {"mysql.ssl.key", CDC_C_STR, _V(mysql_ssl_key), 0, 0, NULL,
  "Private key file (PEM) of mysql.ssl.cert"},
 {"source.epoch", CDC_C_INT, _V(source_epoch), 0, UINT32_MAX, "0",
  "The producer's source.epoch (versions are compared with it)"},
 {"checkpoint.store", CDC_C_ENUM, _V(ckpt_store), 0, 0, "kafka",
  "Where the producer keeps its checkpoint (as the producer's key)",
  .values = "kafka|file"},
 {"checkpoint.topic", CDC_C_STR, _V(ckpt_topic), 0, 0, NULL,
  "The producer's checkpoint topic (default `<source.name>.checkpoints`)"},
 {"checkpoint.file", CDC_C_STR, _V(ckpt_file), 0, 0, NULL,
  "The producer's checkpoint file (checkpoint.store=file)"},
 {"verify.full", CDC_C_BOOL, _V(full), 0, 0, "false",
  "Check every user and idempotency record, and look for keys only Redis has (--full)",
  .alias = "full"},
 {"verify.users", CDC_C_STR, _V(users), 0, 0, NULL,
  "Check these users: comma separated ids (--users=1,2)", .alias = "users"},
 {"verify.sample", CDC_C_INT, _V(sample), 0, 10000000, "0",
  "Check this many random users (--sample=N)", .alias = "sample"},
 {"verify.every", CDC_C_MS, _V(every_ms), 0, 86400000, "0",
  "Continuous: run again at this interval, serving metrics (--every=60s; 0: once)",
  .alias = "every"},
 {"verify.json", CDC_C_BOOL, _V(json), 0, 0, "false",
  "Report as JSON lines (--json)", .alias = "json"},
 {"verify.repair", CDC_C_BOOL, _V(repair), 0, 0, "false",
  "Ask the producer to repair what differs (--repair): a `users` request for the divergent users and the other ends of their divergent edges, a `table` request for idempotent_log, rows of repair.signal.table (docs/repair.md)",
  .alias = "repair"},
 {"repair.signal.table", CDC_C_STR, _V(repair_signal_table), 0, 0,
  "followcdc_signal",
  "The producer's signal table (its repair.signal.table); needs INSERT"},
 {"verify.chunk.rows", CDC_C_INT, _V(chunk_rows), 1, 1000000, "5000",
  "Rows per side read per MySQL chunk (bounds memory)"},
 {"verify.settle", CDC_C_ENUM, _V(settle), 0, 0, "kafka",
  "Before reporting: wait until the pipeline applied up to the read (kafka), or not (off)",
  .values = "kafka|off"},
 {"verify.settle.timeout", CDC_C_MS, _V(settle_timeout_ms), 100, 86400000,
  "120s", "Longest wait for the pipeline (then exit 3)"},
 {"verify.expiry.slack", CDC_C_MS, _V(expiry_slack_ms), 0, 3600000, "2s",
  "Idempotency expiries this close are equal; records this close to expiry are not judged"},
 {"verify.max.suspects", CDC_C_INT, _V(max_suspects), 1, 10000000, "20000",
  "Users held for a re-check after the wait (then wait and re-check early)"},
 {"verify.progress.interval", CDC_C_MS, _V(progress_ms), 100, 86400000,
  "10s", "Log progress this often on long runs"},
 {"verify.seed", CDC_C_INT, _V(seed), 0, INT64_MAX, "0",
  "Random seed of --sample (0: from the clock)"},
 {NULL}};
/* clang-format on */

static char vconf_errbuf[512];

cdc_err_t cdc_vconf_init(cdc_vconf_t *vc, char *errstr, size_t errstr_size) {
        static cdc_prop_t *props;
        const cdc_prop_t *cp = cdc_cconf_props();
        size_t nc = 0, nv = sizeof(vconf_props) / sizeof(*vconf_props);

        memset(vc, 0, sizeof(*vc));
        if (!props) {
                while (cp[nc].name)
                        nc++;
                props = calloc(nc + nv, sizeof(*props));
                if (!props) {
                        snprintf(errstr, errstr_size, "out of memory");
                        return CDC_ERR__NOMEM;
                }
                /* the consumer's rows apply as they are: vc_cc is at
                 * offset 0 */
                memcpy(props, cp, nc * sizeof(*props));
                memcpy(props + nc, vconf_props, nv * sizeof(*props));
        }
        vc->vc_cc.cc_conf = cdc_conf_new("followcdc-verify", props, vc, errstr,
                                         errstr_size);
        return vc->vc_cc.cc_conf ? CDC_ERR_NO_ERROR : CDC_ERR__CONFIG;
}

void cdc_vconf_destroy(cdc_vconf_t *vc) {
        if (!vc)
                return;
        free(vc->vc_users);
        vc->vc_users = NULL;
        cdc_cconf_destroy(&vc->vc_cc);
}

int cdc_vconf_parse_users(const char *s, uint64_t *out, size_t max,
                          char *errstr, size_t errstr_size) {
        size_t n      = 0;
        const char *p = s;

        while (p && *p) {
                uint64_t v = 0;
                int digits = 0;

                while (*p == ' ' || *p == '\t')
                        p++;
                if (*p == ',') {
                        p++;
                        continue;
                }
                if (!*p)
                        break;
                while (isdigit((unsigned char)*p)) {
                        unsigned d = (unsigned)(*p - '0');
                        if (v > (UINT64_MAX - d) / 10) {
                                snprintf(errstr, errstr_size,
                                         "user id out of range");
                                return -1;
                        }
                        v = v * 10 + d;
                        digits++;
                        p++;
                }
                while (*p == ' ' || *p == '\t')
                        p++;
                if (!digits || (*p && *p != ',')) {
                        snprintf(errstr, errstr_size,
                                 "\"%.40s\" is not a list of user ids", s);
                        return -1;
                }
                if (n == max) {
                        snprintf(errstr, errstr_size, "more than %zu user ids",
                                 max);
                        return -1;
                }
                out[n++] = v;
        }
        return (int)n;
}

const char *cdc_vconf_finalize(void *base) {
        cdc_vconf_t *vc = base;
        const char *why;
        char es[256];
        int modes, n;

        why = cdc_cconf_finalize(&vc->vc_cc);
        if (why)
                return why;
        why = cdc_mysql_ssl_check("mysql.ssl", vc->mysql_ssl_mode,
                                  vc->mysql_ssl_ca, vc->mysql_ssl_cert,
                                  vc->mysql_ssl_key, vc->vc_errbuf,
                                  sizeof(vc->vc_errbuf));
        if (why)
                return why;
        if (vc->vc_cc.cc_source_cnt > 1)
                return "sources: verify compares one source (source.name) "
                       "with Redis; with several shards Redis holds their "
                       "union, which this version does not read";
        free(vc->vc_users);
        vc->vc_users    = NULL;
        vc->vc_user_cnt = 0;
        modes = (vc->full ? 1 : 0) + (vc->users && *vc->users ? 1 : 0) +
                (vc->sample > 0 ? 1 : 0);
        if (modes != 1)
                return "choose one of --full, --users=ID,... or --sample=N";
        if (vc->every_ms > 0 && vc->full)
                return "--every runs --sample=N or --users=...; a continuous "
                       "--full is a loop around the command";
        if (vc->users && *vc->users) {
                vc->vc_users = calloc(CDC_VCONF_MAX_USERS, sizeof(uint64_t));
                if (!vc->vc_users)
                        return "out of memory";
                n = cdc_vconf_parse_users(vc->users, vc->vc_users,
                                          CDC_VCONF_MAX_USERS, es, sizeof(es));
                if (n <= 0) {
                        snprintf(vconf_errbuf, sizeof(vconf_errbuf),
                                 "verify.users: %s", n < 0 ? es : "empty");
                        return vconf_errbuf;
                }
                vc->vc_user_cnt = (size_t)n;
        }
        if (vc->ckpt_store == 1 && vc->settle == CDC_VSETTLE_KAFKA &&
            (!vc->ckpt_file || !*vc->ckpt_file))
                return "checkpoint.store=file needs checkpoint.file";
        if (vc->ckpt_topic && *vc->ckpt_topic)
                snprintf(vc->vc_ckpt_topic, sizeof(vc->vc_ckpt_topic), "%s",
                         vc->ckpt_topic);
        else
                snprintf(vc->vc_ckpt_topic, sizeof(vc->vc_ckpt_topic),
                         "%s.checkpoints", vc->vc_cc.source_name);
        return NULL;
}
