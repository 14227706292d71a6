/**
 * @file cdc_srccheck.c
 * @brief The server checks of cdc_binlog_check() (cdc_srcmeta_check):
 *        binary log on, binlog_format=ROW, binlog_row_image=FULL, no
 *        compressed events or partial JSON, replication privileges,
 *        SELECT on every watched table. Each failure names its fix.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <mysql.h>
#include "cdc_log.h"
#include "cdc_srcmeta_int.h"

/* Whether a SHOW GRANTS line grants \p priv globally. */
static int srccheck_grant_has(const char *g, const char *priv) {
        const char *p;
        size_t l = strlen(priv);
        if (!strstr(g, " ON *.*"))
                return 0;
        if (strstr(g, "ALL PRIVILEGES ON *.*"))
                return 1;
        for (p = strstr(g, priv); p; p = strstr(p + l, priv)) {
                char next = p[l];
                if ((p == g || p[-1] == ' ' || p[-1] == ',') &&
                    (next == ',' || next == ' ') &&
                    strncmp(p + l, " ADMIN", 6) != 0)
                        return 1;
        }
        return 0;
}

cdc_err_t cdc_srcmeta_check(cdc_srcmeta_t *sm) {
        char v[256], q[400];
        MYSQL_RES *res = NULL;
        MYSQL_ROW row;
        cdc_err_t err;
        int repl_slave = 0, repl_client = 0;
        size_t i;
        MYSQL *m;

        err = cdc_srcmeta_connect(sm, &m);
        if (err)
                goto out;
        if ((err = cdc_srcmeta_var(sm, "log_bin", v, sizeof(v))))
                goto out;
        if (strcasecmp(v, "ON") && strcmp(v, "1")) {
                cdc_srcmeta_seterr(sm,
                                   "the server's binary log is off: start it "
                                   "with log_bin=mysql-bin (my.cnf [mysqld])");
                err = CDC_ERR__SERVER;
                goto out;
        }
        if ((err = cdc_srcmeta_var(sm, "binlog_format", v, sizeof(v))))
                goto out;
        if (strcasecmp(v, "ROW")) {
                cdc_srcmeta_seterr(
                        sm,
                        "binlog_format is %s: set "
                        "binlog_format=ROW (SET GLOBAL binlog_format="
                        "'ROW' and in my.cnf)",
                        v);
                err = CDC_ERR__SERVER;
                goto out;
        }
        if ((err = cdc_srcmeta_var(sm, "binlog_row_image", v, sizeof(v))))
                goto out;
        if (v[0] && strcasecmp(v, "FULL")) {
                cdc_srcmeta_seterr(
                        sm,
                        "binlog_row_image is %s: set "
                        "binlog_row_image=FULL (SET GLOBAL and my.cnf)",
                        v);
                err = CDC_ERR__SERVER;
                goto out;
        }
        if ((err = cdc_srcmeta_var(sm, "log_bin_compress", v, sizeof(v))))
                goto out;
        if (!strcasecmp(v, "ON")) {
                cdc_srcmeta_seterr(sm,
                                   "log_bin_compress is ON: compressed binlog "
                                   "events are not supported, set "
                                   "log_bin_compress=OFF");
                err = CDC_ERR__SERVER;
                goto out;
        }
        if ((err = cdc_srcmeta_var(sm, "binlog_row_value_options", v,
                                   sizeof(v))))
                goto out;
        if (strcasestr(v, "PARTIAL_JSON")) {
                cdc_srcmeta_seterr(sm,
                                   "binlog_row_value_options is %s: partial "
                                   "JSON updates are not supported, set "
                                   "binlog_row_value_options=''",
                                   v);
                err = CDC_ERR__SERVER;
                goto out;
        }
        if ((err = cdc_srcmeta_var(sm, "binlog_row_metadata", v, sizeof(v))))
                goto out;
        if (strcasecmp(v, "FULL"))
                cdc_log(LOG_NOTICE, "BINLOG",
                        "binlog_row_metadata is %s: column names come from "
                        "information_schema (set binlog_row_metadata=FULL "
                        "to take them from the binlog)",
                        v[0] ? v : "absent");
        if (!sm->sm_is_mysql) {
                if ((err = cdc_srcmeta_var(sm, "gtid_strict_mode", v,
                                           sizeof(v))))
                        goto out;
                if (strcasecmp(v, "ON"))
                        cdc_log(LOG_WARNING, "BINLOG",
                                "gtid_strict_mode is %s: GTID positions may "
                                "not survive a failover (set "
                                "gtid_strict_mode=ON)",
                                v);
        } else {
                cdc_log(LOG_NOTICE, "BINLOG",
                        "MySQL server: positions are binlog file:pos");
        }

        /* privileges */
        if ((err = cdc_srcmeta_query(sm, "SHOW GRANTS FOR CURRENT_USER()",
                                     &res)))
                goto out;
        for (row = res ? mysql_fetch_row(res) : NULL; row;
             row = mysql_fetch_row(res)) {
                if (!row[0])
                        continue;
                repl_slave |= srccheck_grant_has(row[0], "REPLICATION SLAVE");
                repl_client |=
                        srccheck_grant_has(row[0], "REPLICATION CLIENT") |
                        srccheck_grant_has(row[0], "BINLOG MONITOR") |
                        srccheck_grant_has(row[0], "SUPER");
        }
        mysql_free_result(res);
        res = NULL;
        if (!repl_slave) {
                cdc_srcmeta_seterr(
                        sm,
                        "user %s lacks REPLICATION SLAVE: GRANT "
                        "REPLICATION SLAVE, REPLICATION CLIENT ON *.* "
                        "TO the producer user",
                        sm->sm_tgt.user);
                err = CDC_ERR__SERVER;
                goto out;
        }
        if (!repl_client) {
                cdc_srcmeta_seterr(
                        sm,
                        "user %s lacks REPLICATION CLIENT / BINLOG "
                        "MONITOR: GRANT REPLICATION CLIENT ON *.* TO "
                        "the producer user",
                        sm->sm_tgt.user);
                err = CDC_ERR__SERVER;
                goto out;
        }
        for (i = 0; i < sm->sm_table_cnt; i++) {
                unsigned e;
                snprintf(q, sizeof(q), "SELECT 1 FROM `%s`.`%s` LIMIT 0",
                         sm->sm_db, sm->sm_tables[i]);
                if (strchr(sm->sm_db, '`') || strchr(sm->sm_tables[i], '`')) {
                        cdc_srcmeta_seterr(sm,
                                           "table name %s.%s: backquotes "
                                           "are not supported",
                                           sm->sm_db, sm->sm_tables[i]);
                        err = CDC_ERR__CONFIG;
                        goto out;
                }
                if (mysql_real_query(m, q, (unsigned long)strlen(q)) == 0) {
                        res = mysql_store_result(m);
                        mysql_free_result(res);
                        res = NULL;
                        continue;
                }
                e = mysql_errno(m);
                if (e >= 2000) {
                        err = cdc_srcmeta_err(m, q, sm->sm_errstr,
                                              sizeof(sm->sm_errstr));
                        goto out;
                }
                if (e == 1146 || e == 1049)
                        cdc_srcmeta_seterr(
                                sm,
                                "table %s.%s does not exist: "
                                "create it (schemas/mysql) or fix the "
                                "table list",
                                sm->sm_db, sm->sm_tables[i]);
                else
                        cdc_srcmeta_seterr(
                                sm,
                                "no SELECT on %s.%s (or it does "
                                "not exist): GRANT SELECT ON %s.%s TO "
                                "the producer user (%s)",
                                sm->sm_db, sm->sm_tables[i], sm->sm_db,
                                sm->sm_tables[i], mysql_error(m));
                err = CDC_ERR__SERVER;
                goto out;
        }
        err = CDC_ERR_NO_ERROR;
out:
        mysql_free_result(res);
        return err;
}
