/**
 * @file cdc_mysql.c
 * @brief MySQL connection target and connect / error helpers (see
 *        cdc_mysql.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <errmsg.h>
#include <mysqld_error.h>

#include "cdc_mysql.h"

int cdc_mysql_options(MYSQL *my, const cdc_mysql_target_t *t,
                      const cdc_mysql_opts_t *o) {
        unsigned int ct = o->connect_timeout_s, rw = o->rw_timeout_s;
        my_bool off = 0, on = 1;
        int r = 0;

        r |= mysql_optionsv(my, MYSQL_OPT_CONNECT_TIMEOUT, &ct);
        r |= mysql_optionsv(my, MYSQL_OPT_READ_TIMEOUT, &rw);
        r |= mysql_optionsv(my, MYSQL_OPT_WRITE_TIMEOUT, &rw);
        r |= mysql_optionsv(my, MYSQL_OPT_RECONNECT, &off);
        if (o->charset)
                r |= mysql_optionsv(my, MYSQL_SET_CHARSET_NAME, o->charset);
        /* TLS: see cdc_mysql_ssl_mode_t for what each mode means to
         * Connector/C 3.3. DISABLED sets nothing: any file option alone
         * would make the library start TLS. */
        if (t->ssl_mode == CDC_MYSQL_SSL_DISABLED) {
                r |= mysql_optionsv(my, MYSQL_OPT_SSL_ENFORCE, &off);
                return r ? -1 : 0;
        }
        r |= mysql_optionsv(my, MYSQL_OPT_SSL_ENFORCE, &on);
        if (t->ssl_ca)
                r |= mysql_optionsv(my, MYSQL_OPT_SSL_CA, t->ssl_ca);
        if (t->ssl_cert)
                r |= mysql_optionsv(my, MYSQL_OPT_SSL_CERT, t->ssl_cert);
        if (t->ssl_key)
                r |= mysql_optionsv(my, MYSQL_OPT_SSL_KEY, t->ssl_key);
        r |= mysql_optionsv(
                my, MYSQL_OPT_SSL_VERIFY_SERVER_CERT,
                t->ssl_mode == CDC_MYSQL_SSL_VERIFY_IDENTITY ? &on : &off);
        return r ? -1 : 0;
}

const char *cdc_mysql_tls_cipher(MYSQL *my) {
        return my ? mysql_get_ssl_cipher(my) : NULL;
}

cdc_err_t cdc_mysql_connect(const cdc_mysql_target_t *t,
                            const cdc_mysql_opts_t *o, const char *what,
                            MYSQL **myp, unsigned *errnop, char *errstr,
                            size_t errstr_size) {
        MYSQL *my = mysql_init(NULL);
        unsigned dummy;
        cdc_err_t err;

        if (!errnop)
                errnop = &dummy;
        *errnop = 0;
        *myp    = NULL;
        if (!my || cdc_mysql_options(my, t, o)) {
                snprintf(errstr, errstr_size, "%s: out of memory", what);
                if (my)
                        mysql_close(my);
                return CDC_ERR__NOMEM;
        }
        if (!mysql_real_connect(my, t->socket ? NULL : t->host, t->user,
                                t->password, o->no_db ? NULL : t->db, t->port,
                                t->socket, 0)) {
                err     = cdc_mysql_err(my, what, errstr, errstr_size);
                *errnop = mysql_errno(my);
                if (mysql_errno(my) == CR_SSL_CONNECTION_ERROR &&
                    t->ssl_mode >= CDC_MYSQL_SSL_VERIFY_CA) {
                        size_t n = strlen(errstr);
                        snprintf(errstr + n, errstr_size - n,
                                 " (ssl.mode %s, ssl.ca %s)",
                                 t->ssl_mode == CDC_MYSQL_SSL_VERIFY_CA
                                         ? "verify-ca"
                                         : "verify-identity",
                                 t->ssl_ca ? t->ssl_ca : "unset: system CAs");
                }
                mysql_close(my);
                return err;
        }
        /* Connector/C 3.3 uses clear text when the server offers no TLS,
         * even with MYSQL_OPT_SSL_ENFORCE (only a certificate check makes
         * it refuse): REQUIRED and VERIFY_CA are enforced here. */
        if (t->ssl_mode >= CDC_MYSQL_SSL_REQUIRED &&
            !mysql_get_ssl_cipher(my)) {
                snprintf(errstr, errstr_size,
                         "%s: the server offers no TLS but ssl.mode is %s "
                         "(enable TLS on the server: ssl_cert, ssl_key)",
                         what,
                         t->ssl_mode == CDC_MYSQL_SSL_REQUIRED ? "required"
                                                               : "verify-ca");
                mysql_close(my);
                *errnop = CR_SSL_CONNECTION_ERROR;
                return CDC_ERR__TRANSPORT;
        }
        *myp = my;
        return CDC_ERR_NO_ERROR;
}

cdc_err_t cdc_mysql_err(MYSQL *my, const char *what, char *errstr,
                        size_t errstr_size) {
        unsigned no = my ? mysql_errno(my) : CR_OUT_OF_MEMORY;
        snprintf(errstr, errstr_size, "%s: %s (%u)", what,
                 my ? mysql_error(my) : "out of memory", no);
        /* client-side codes (2000..2999) mean the connection is gone */
        if (no >= 2000 && no < 3000)
                return CDC_ERR__TRANSPORT;
        return CDC_ERR__SERVER;
}

static char *mysql_strdup(const char *s, int *failp) {
        char *r;
        if (!s)
                return NULL;
        r = strdup(s);
        if (!r)
                *failp = 1;
        return r;
}

int cdc_mysql_target_set(cdc_mysql_target_t *t, const char *host, unsigned port,
                         const char *socket, const char *user,
                         const char *password, const char *db) {
        int fail = 0;

        memset(t, 0, sizeof(*t));
        t->host     = mysql_strdup(host && *host ? host : "127.0.0.1", &fail);
        t->socket   = mysql_strdup(socket && *socket ? socket : NULL, &fail);
        t->user     = mysql_strdup(user, &fail);
        t->password = mysql_strdup(password, &fail);
        t->db       = mysql_strdup(db, &fail);
        t->port     = port ? port : 3306;
        if (fail) {
                cdc_mysql_target_clear(t);
                return -1;
        }
        return 0;
}

int cdc_mysql_target_set_ssl(cdc_mysql_target_t *t, cdc_mysql_ssl_mode_t mode,
                             const char *ca, const char *cert,
                             const char *key) {
        int fail = 0;

        free(t->ssl_ca);
        free(t->ssl_cert);
        free(t->ssl_key);
        t->ssl_mode = mode;
        t->ssl_ca   = mysql_strdup(ca && *ca ? ca : NULL, &fail);
        t->ssl_cert = mysql_strdup(cert && *cert ? cert : NULL, &fail);
        t->ssl_key  = mysql_strdup(key && *key ? key : NULL, &fail);
        if (fail) {
                free(t->ssl_ca);
                free(t->ssl_cert);
                free(t->ssl_key);
                t->ssl_ca = t->ssl_cert = t->ssl_key = NULL;
                t->ssl_mode                          = CDC_MYSQL_SSL_DISABLED;
                return -1;
        }
        return 0;
}

int cdc_mysql_target_copy(cdc_mysql_target_t *dst,
                          const cdc_mysql_target_t *src) {
        if (cdc_mysql_target_set(dst, src->host, src->port, src->socket,
                                 src->user, src->password, src->db))
                return -1;
        if (cdc_mysql_target_set_ssl(dst, src->ssl_mode, src->ssl_ca,
                                     src->ssl_cert, src->ssl_key)) {
                cdc_mysql_target_clear(dst);
                return -1;
        }
        return 0;
}

const char *cdc_mysql_ssl_check(const char *prefix, cdc_mysql_ssl_mode_t mode,
                                const char *ca, const char *cert,
                                const char *key, char *buf, size_t size) {
        const struct {
                const char *name, *path;
        } files[] = { { "ca", ca }, { "cert", cert }, { "key", key } };
        size_t i;

        ca   = ca && *ca ? ca : NULL;
        cert = cert && *cert ? cert : NULL;
        key  = key && *key ? key : NULL;
        if (mode == CDC_MYSQL_SSL_DISABLED && (ca || cert || key)) {
                snprintf(buf, size,
                         "%s.%s is set but %s.mode is disabled (set a mode, "
                         "e.g. verify-ca, or remove the file)",
                         prefix,
                         ca     ? "ca"
                         : cert ? "cert"
                                : "key",
                         prefix);
                return buf;
        }
        if (!cert != !key) {
                snprintf(buf, size,
                         "%s.cert and %s.key go together (a client "
                         "certificate and its private key)",
                         prefix, prefix);
                return buf;
        }
        if (mode == CDC_MYSQL_SSL_VERIFY_CA && !ca) {
                snprintf(buf, size,
                         "%s.mode=verify-ca needs %s.ca (the CA that signed "
                         "the server's certificate)",
                         prefix, prefix);
                return buf;
        }
        for (i = 0; i < sizeof(files) / sizeof(*files); i++) {
                const char *path = files[i].path;
                if (path && *path && access(path, R_OK)) {
                        snprintf(buf, size, "%s.%s: %s: %s", prefix,
                                 files[i].name, path, strerror(errno));
                        return buf;
                }
        }
        return NULL;
}

void cdc_mysql_target_clear(cdc_mysql_target_t *t) {
        free(t->host);
        free(t->socket);
        free(t->user);
        free(t->password);
        free(t->db);
        free(t->ssl_ca);
        free(t->ssl_cert);
        free(t->ssl_key);
        memset(t, 0, sizeof(*t));
}

const char *cdc_mysql_target_where(const cdc_mysql_target_t *t, char *buf,
                                   size_t size) {
        if (t->socket)
                snprintf(buf, size, "%s", t->socket);
        else
                snprintf(buf, size, "%s:%u", t->host ? t->host : "?", t->port);
        return buf;
}

/* ---- the binary log's current position ---- */

const char *cdc_mysql_binlog_status_sql(const char *server_info,
                                        unsigned long version) {
        if (server_info && strstr(server_info, "MariaDB"))
                return CDC_MYSQL_SQL_MASTER_STATUS;
        return version >= 80200 ? CDC_MYSQL_SQL_BINLOG_STATUS
                                : CDC_MYSQL_SQL_MASTER_STATUS;
}

const char *cdc_mysql_binlog_status_fallback(const char *tried,
                                             unsigned errno_) {
        if (errno_ != ER_PARSE_ERROR || !tried)
                return NULL;
        return strcmp(tried, CDC_MYSQL_SQL_BINLOG_STATUS)
                       ? CDC_MYSQL_SQL_BINLOG_STATUS
                       : CDC_MYSQL_SQL_MASTER_STATUS;
}

int cdc_mysql_binlog_status(MYSQL *my, const char *first, MYSQL_RES **resp,
                            const char **usedp) {
        const char *sql = first;

        *resp = NULL;
        if (!sql)
                sql = cdc_mysql_binlog_status_sql(mysql_get_server_info(my),
                                                  mysql_get_server_version(my));
        if (mysql_query(my, sql)) {
                /* MySQL 8.4 removed SHOW MASTER STATUS; MariaDB and MySQL
                 * before 8.2 know only that one: a version that lies (a
                 * proxy's greeting) still gets the right one. */
                sql = cdc_mysql_binlog_status_fallback(sql, mysql_errno(my));
                if (!sql || mysql_query(my, sql))
                        return -1;
        }
        *resp = mysql_store_result(my);
        if (!*resp && mysql_errno(my))
                return -1;
        if (usedp)
                *usedp = sql;
        return 0;
}
