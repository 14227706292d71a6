/**
 * @file mysql_probe.c
 * @brief One connection through followcdc's MySQL connect path
 *        (cdc_mysql_connect, the same code as the producer's and the
 *        reaper's connections), for tests/integration/0091-mysql-tls.sh:
 *
 *     mysql_probe --host H --port P | --socket S  --user U [--password P]
 *                 [--ssl-mode M] [--ssl-ca F] [--ssl-cert F] [--ssl-key F]
 *                 [--binlog-status-first SQL]
 *
 * Prints "cipher=<TLS cipher|none>" when connected and, with
 * --binlog-status-first, "used=<statement> file=<binlog> pos=<n>" from
 * cdc_mysql_binlog_status() trying SQL first. Exit 0; 1 with the error on
 * stderr when the connection or the statement failed; 2 bad usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdc_mysql.h"

static int probe_mode(const char *s, cdc_mysql_ssl_mode_t *mp) {
        static const char *names[] = { "disabled", "preferred", "required",
                                       "verify-ca", "verify-identity" };
        size_t i;
        for (i = 0; i < sizeof(names) / sizeof(*names); i++)
                if (!strcmp(s, names[i])) {
                        *mp = (cdc_mysql_ssl_mode_t)i;
                        return 0;
                }
        return -1;
}

int main(int argc, char **argv) {
        const char *host = "127.0.0.1", *sock = NULL, *user = NULL;
        const char *pw = NULL, *ca = NULL, *cert = NULL, *key = NULL;
        const char *first = NULL, *used = NULL;
        cdc_mysql_ssl_mode_t mode = CDC_MYSQL_SSL_DISABLED;
        cdc_mysql_opts_t o = { .connect_timeout_s = 5, .rw_timeout_s = 10 };
        cdc_mysql_target_t t;
        unsigned port = 3306;
        char errstr[512], buf[32];
        MYSQL_RES *res = NULL;
        MYSQL_ROW row;
        MYSQL *my = NULL;
        int i, rc = 1;

        for (i = 1; i + 1 < argc; i += 2) {
                const char *k = argv[i], *v = argv[i + 1];
                if (!strcmp(k, "--host"))
                        host = v;
                else if (!strcmp(k, "--port"))
                        port = (unsigned)strtoul(v, NULL, 10);
                else if (!strcmp(k, "--socket"))
                        sock = v;
                else if (!strcmp(k, "--user"))
                        user = v;
                else if (!strcmp(k, "--password"))
                        pw = v;
                else if (!strcmp(k, "--ssl-ca"))
                        ca = v;
                else if (!strcmp(k, "--ssl-cert"))
                        cert = v;
                else if (!strcmp(k, "--ssl-key"))
                        key = v;
                else if (!strcmp(k, "--binlog-status-first"))
                        first = v;
                else if (!strcmp(k, "--ssl-mode")) {
                        if (probe_mode(v, &mode))
                                break;
                } else
                        break;
        }
        if (i != argc || !user) {
                fprintf(stderr, "usage: see the head of mysql_probe.c\n");
                return 2;
        }
        if (cdc_mysql_target_set(&t, host, port, sock, user, pw, NULL) ||
            cdc_mysql_target_set_ssl(&t, mode, ca, cert, key)) {
                fprintf(stderr, "out of memory\n");
                return 1;
        }
        if (cdc_mysql_connect(&t, &o, "connect", &my, NULL, errstr,
                              sizeof(errstr))) {
                fprintf(stderr, "%s\n", errstr);
                goto out;
        }
        printf("cipher=%s\n",
               cdc_mysql_tls_cipher(my) ? cdc_mysql_tls_cipher(my) : "none");
        if (first) {
                if (cdc_mysql_binlog_status(my, first, &res, &used)) {
                        cdc_mysql_err(my, "binlog status", errstr,
                                      sizeof(errstr));
                        fprintf(stderr, "%s\n", errstr);
                        goto out;
                }
                row = res ? mysql_fetch_row(res) : NULL;
                if (!row || !row[0] || !row[1]) {
                        fprintf(stderr, "%s: no row\n", used);
                        goto out;
                }
                snprintf(buf, sizeof(buf), "%s", row[1]);
                printf("used=%s file=%s pos=%s\n", used, row[0], buf);
        }
        rc = 0;
out:
        if (res)
                mysql_free_result(res);
        if (my)
                mysql_close(my);
        cdc_mysql_target_clear(&t);
        return rc;
}
